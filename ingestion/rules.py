"""The row rules of EVENTS.md as one SQL select per file: each row's typed values, its first
failing reason (null when the row can be interpreted), its record id and its content hash.

Everything is vectorised in DuckDB over the Arrow table `src` shaped by `ingestion.reader`. The
only identifiers in the SQL are column names from `ingestion.schema` plus `_extra`/`_row_index`;
values from the file never become SQL text (enumerations come from schema.py, not from files).

Reason prefixes (machine-greppable; the text after ': ' is the human detail):
missing_required_field, invalid_value, malformed_nip, year_out_of_range, non_finite_number,
empty_lines, duplicate_iku_code, effective_date_outside_year (here); conflicting_duplicate
(`ingestion.store`); the whole-file reasons are in `ingestion.reader` / `ingestion.discover`.
"""
from __future__ import annotations

from ingestion.reader import EXTRA, ROW_INDEX
from ingestion.schema import (ASPECTS, CASCADE_TYPES, CONSOLIDATIONS, EVENT_TYPES, FEED_COLUMNS,
                              LINE_FIELDS, LINE_OPS, LINE_REQUIRED_IN_UPSERT, LINE_STRUCT_SQL,
                              PERSPECTIVES, POLARITIES, QUARTERS, REASONS)

YEAR_RANGE = (2000, 2100)
LEVEL_RANGE = (0, 5)
NIP_PATTERN = "[0-9]{18}"
NIP_COLUMNS = ("holder_nip", "supervisor_nip", "reporter_nip")
SHOWN_CHARS = 60  # how much of an offending value a reason quotes; the row's raw has it all

COLUMN_ENUMS = {"event_type": EVENT_TYPES, "effective_period": QUARTERS, "quarter": QUARTERS}
LINE_ENUMS = {"op": LINE_OPS, "perspective": PERSPECTIVES, "polarity": POLARITIES,
              "consolidation": CONSOLIDATIONS, "aspect": ASPECTS, "cascade_type": CASCADE_TYPES}
LINE_DEFAULTS = {"op": "'upsert'", "progress": "false", "tolerance": "0", "target_is_max": "false"}
SQL_TYPE_NAMES = {"varchar": "string", "integer": "integer", "double": "number",
                  "boolean": "boolean", "date": "date", "timestamp": "timestamp"}


def lit(text: str) -> str:
    """A SQL string literal for a constant of this module or schema.py."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def shown(expr: str) -> str:
    """SQL text quoting a value for a reason, cut to SHOWN_CHARS."""
    text = f"cast({expr} as varchar)"
    return (f"'''' || case when length({text}) > {SHOWN_CHARS} "
            f"then left({text}, {SHOWN_CHARS - 3}) || '...' else {text} end || ''''")


def typed(expr: str, fam: str | None, target: str) -> str:
    """`expr` (of Arrow type family `fam`) as the contract type; null where it does not cast."""
    if fam is None or fam == "null":
        return f"cast(null as {target})"
    if target == "varchar":
        return expr
    if target == "timestamp":
        if fam == "string":
            return f"cast(try_cast({expr} as timestamptz) as timestamp)"
        return f"cast({expr} as timestamp)"  # tz-aware instants land in UTC (session time zone)
    if target == "date":
        if fam == "timestamp":  # a timestamp at midnight is a date; any other time is not
            ts = f"cast({expr} as timestamp)"
            return f"case when {ts} = date_trunc('day', {ts}) then cast({ts} as date) end"
        return expr if fam == "date" else f"try_cast({expr} as date)"
    if target == "integer":
        if fam in ("float", "decimal"):  # 2026.0 is a year, 2026.5 is not
            return f"case when {expr} = trunc({expr}) then try_cast({expr} as integer) end"
        if fam == "string":  # try_cast would round '2026.5' to 2027: only whole numbers pass
            return (f"case when regexp_full_match(trim({expr}), '[+-]?[0-9]+') "
                    f"then try_cast(trim({expr}) as integer) end")
        return f"try_cast({expr} as integer)"  # int64 that may overflow int32
    if fam == "string" or fam == "decimal":
        return f"try_cast({expr} as {target})"
    return f"cast({expr} as {target})"  # integer/float to double, boolean to boolean


def _casts(fam: str | None, target: str) -> bool:
    """Whether a value of this family can fail to cast (so needs its own invalid_value check)."""
    if fam is None or fam == "null" or target == "varchar":
        return False
    same = {"integer": set(), "double": {"integer", "float"}, "boolean": {"boolean"},
            "date": {"date"}, "timestamp": {"timestamp", "date"}}
    return fam not in same.get(target, set())


def _missing(expr: str, target: str) -> str:
    if target == "varchar":
        return f"({expr} is null or trim({expr}) = '')"
    return f"{expr} is null"


class Checks:
    """An ordered list of (condition, reason) SQL pairs; the first true one names the reason."""

    def __init__(self):
        self.pairs: list[tuple[str, str]] = []

    def add(self, condition: str, reason: str) -> None:
        self.pairs.append((condition, reason))

    def first_reason(self) -> str:
        if not self.pairs:
            return "cast(null as varchar)"
        whens = "\n        ".join(f"when {c} then {r}" for c, r in self.pairs)
        return f"case\n        {whens}\n    end"


def _column_checks(checks: Checks, feed: str, families: dict[str, str]) -> None:
    for col, target, required in FEED_COLUMNS[feed]:
        if col == "lines":
            continue
        orig, value = f"o_{col}", col
        fam = families.get(col)
        if required:
            checks.add(_missing(orig, target), lit(f"missing_required_field: {col}"))
        if _casts(fam, target):
            checks.add(f"{orig} is not null and {value} is null",
                       lit(f"invalid_value: {col} ") + " || " + shown(orig)
                       + " || " + lit(f" is not a valid {SQL_TYPE_NAMES[target]}"))
        if target in ("date", "timestamp"):  # Arrow's extreme values arrive as DuckDB infinity
            checks.add(f"{value} is not null and not isfinite({value})",
                       lit(f"invalid_value: {col} ") + " || " + shown(value)
                       + " || " + lit(f" is not a finite {target}"))
        if col in COLUMN_ENUMS:
            allowed = COLUMN_ENUMS[col]
            checks.add(f"{value} is not null and {value} not in {in_list(allowed)}",
                       lit(f"invalid_value: {col} ") + " || " + shown(value)
                       + " || " + lit(f" not in ({', '.join(allowed)})"))
        if col == "year":
            lo, hi = YEAR_RANGE
            checks.add(f"{value} not between {lo} and {hi}",
                       f"'year_out_of_range: ' || {value} || {lit(f' not in {lo}..{hi}')}")
        if col in ("position_level", "level"):
            lo, hi = LEVEL_RANGE
            checks.add(f"{value} not between {lo} and {hi}",
                       lit(f"invalid_value: {col} ") + f" || {value} || "
                       + lit(f" not in {lo}..{hi}"))
        if col in NIP_COLUMNS:
            checks.add(f"{value} is not null and not regexp_full_match({value}, {lit(NIP_PATTERN)})",
                       lit(f"malformed_nip: {col} ") + " || " + shown(value)
                       + " || ' is not 18 digits'")
        if col == "value":
            checks.add(f"not isfinite({value})",
                       f"'non_finite_number: value ' || {value}")


def _event_checks(checks: Checks) -> None:
    checks.add("event_type = 'komplemen' and " + _missing("o_replaces_contract_id", "varchar"),
               lit("missing_required_field: replaces_contract_id (required for komplemen)"))
    checks.add("event_type = 'addendum' and effective_period is null",
               lit("missing_required_field: effective_period (required for addendum)"))
    checks.add("event_type <> 'plt_transfer' and signed_date is null",
               "'missing_required_field: signed_date (required for ' || event_type || ')'")
    reason_ok = " or ".join(f"(event_type = {lit(t)} and reason in {in_list(rs)})"
                            for t, rs in REASONS.items())
    checks.add(f"reason is not null and not ({reason_ok})",
               "'invalid_value: reason ' || " + shown("reason")
               + " || ' not valid for ' || event_type || ' ('"
               + " || case event_type "
               + " ".join(f"when {lit(t)} then {lit(', '.join(rs))}" for t, rs in REASONS.items())
               + " end || ')'")
    checks.add("event_type <> 'signed' and year(effective_date) <> year",
               "'effective_date_outside_year: ' || effective_date || ' not in ' || year")
    checks.add("o_lines is null", lit("missing_required_field: lines"))
    checks.add("len(o_lines) = 0 and event_type in ('signed', 'komplemen')",
               "'empty_lines: a ' || event_type || ' event needs at least one IKU line'")
    checks.add("line_reason is not null", "line_reason")
    checks.add("duplicate_iku is not null",
               f"'duplicate_iku_code: ' || left(duplicate_iku, {SHOWN_CHARS})")


def _line_reason(line_families: dict[str, str]) -> str:
    """SQL: the first failing reason over the lines of an event (0-based line index), or null."""
    at = "'lines[' || (li - 1) || ']."
    checks = Checks()
    checks.add("ln is null", "'missing_required_field: lines[' || (li - 1) || ']'")
    code = "ln.iku_code" if "iku_code" in line_families else "cast(null as varchar)"
    checks.add(_missing(code, "varchar"), f"'missing_required_field: ' || {at}iku_code'")
    op = typed("ln.op", line_families.get("op"), "varchar")
    checks.add(f"{op} is not null and {op} not in {in_list(LINE_OPS)}",
               f"'invalid_value: ' || {at}op ' || {shown(op)} || ' not in (upsert, remove)'")
    checks.add(f"{op} = 'remove' and event_type <> 'addendum'",
               f"'invalid_value: ' || {at}op ''remove'' is only allowed in an addendum, not in a '"
               " || event_type")
    for name in LINE_REQUIRED_IN_UPSERT:
        value = typed(f"ln.{name}", line_families.get(name), dict(LINE_FIELDS)[name])
        checks.add(f"coalesce({op}, 'upsert') = 'upsert' and {_missing(value, dict(LINE_FIELDS)[name])}",
                   f"'missing_required_field: ' || {at}{name} (required in an upsert line)'")
    for name, target in LINE_FIELDS:
        fam = line_families.get(name)
        if fam is None:
            continue
        src = f"ln.{name}"
        value = typed(src, fam, target)
        if _casts(fam, target):
            checks.add(f"{src} is not null and {value} is null",
                       f"'invalid_value: ' || {at}{name} ' || {shown(src)} || "
                       + lit(f" is not a valid {SQL_TYPE_NAMES[target]}"))
        if name in LINE_ENUMS and name != "op":
            allowed = LINE_ENUMS[name]
            checks.add(f"{value} is not null and {value} not in {in_list(allowed)}",
                       f"'invalid_value: ' || {at}{name} ' || {shown(value)} || "
                       + lit(f" not in ({', '.join(allowed)})"))
        if target == "double":
            checks.add(f"{value} is not null and not isfinite({value})",
                       f"'non_finite_number: ' || {at}{name} ' || {value}")
    return (f"list_filter(list_transform(o_lines, lambda ln, li: {checks.first_reason()}), "
            "lambda r: r is not null)[1]")


def _typed_lines(line_families: dict[str, str]) -> str:
    fields = ", ".join(f"{name} := {typed(f'ln.{name}', line_families.get(name), target)}"
                       for name, target in LINE_FIELDS)
    return (f"cast(list_transform(o_lines, lambda ln: case when ln is null then null "
            f"else struct_pack({fields}) end) as {LINE_STRUCT_SQL})")


def _hash_value(expr: str, typ: str) -> str:
    # -0.0 + 0.0 is 0.0: the same number re-sent with a negative zero is no conflict
    return f"({expr} + 0.0)" if typ == "double" else expr


def _hash_lines() -> str:
    """The lines in canonical form for the content hash: EVENTS.md defaults applied."""
    fields = ", ".join(
        f"{name} := {_hash_value(f'coalesce(ln.{name}, {LINE_DEFAULTS[name]})', typ)}"
        if name in LINE_DEFAULTS
        else f"{name} := {_hash_value('ln.' + name, typ)}" for name, typ in LINE_FIELDS)
    return f"list_transform(lines, lambda ln: struct_pack({fields}))"


def record_id_sql(feed: str, families: dict[str, str]) -> str:
    """The id quoted in the quarantine: event_id / report_id, for units `unit_id@valid_from`."""
    if feed == "units":
        uid = "o_unit_id" if families.get("unit_id") == "string" else "cast(null as varchar)"
        return f"coalesce({uid} || '@' || cast(valid_from as varchar), {uid})"
    col = {"contract_events": "event_id", "realisations": "report_id"}[feed]
    return f"o_{col}" if families.get(col) == "string" else "cast(null as varchar)"


def content_hash_sql(feed: str) -> str:
    """The content identity of a typed row (over the contract's column names), for duplicates.

    The text form of DuckDB's struct cast quotes and escapes strings, so it is unambiguous; it is
    computed in the same process for both sides of a comparison, so a format change between
    DuckDB versions cannot turn an identical re-send into a conflict."""
    fields = ", ".join(f"{c} := {_hash_lines()}" if c == "lines" else f"{c} := {_hash_value(c, t)}"
                       for c, t, _r in FEED_COLUMNS[feed])
    return f"md5(cast(struct_pack({fields}) as varchar))"


def staging_sql(feed: str, families: dict[str, str], line_families: dict[str, str],
                has_extra: bool) -> str:
    """select row_index, <contract columns typed>, reject_reason, record_id, content_hash, extra from src."""
    columns = FEED_COLUMNS[feed]
    typed_cols = []
    for col, target, _req in columns:
        fam = families.get(col)
        orig = col if fam is not None else "null"
        typed_cols.append(f"{orig} as o_{col}")
        if col == "lines":
            typed_cols.append(f"{_typed_lines(line_families)} as lines")
        else:
            typed_cols.append(f"{typed(col, fam, target)} as {col}")
    extra = f"to_json({EXTRA})" if has_extra else "cast(null as json)"
    checks = Checks()
    _column_checks(checks, feed, families)
    line_cols = ""
    if feed == "contract_events":
        _event_checks(checks)
        codes = "list_transform(o_lines, lambda ln: ln.iku_code)" \
            if "iku_code" in line_families else "cast([] as varchar[])"
        # the quadratic search for the repeated code runs only where a cheap count says so
        line_cols = (f",\n        {_line_reason(line_families)} as line_reason,\n"
                     f"        case when len(list_distinct({codes})) < "
                     f"len(list_filter({codes}, lambda c: c is not null)) then "
                     f"list_filter(list_transform({codes}, lambda c, ci: case when "
                     f"list_position({codes}, c) < ci then c end), lambda d: d is not null)[1] "
                     "end as duplicate_iku")
    names = [col for col, _t, _r in columns]
    return f"""
with typed as (
    select
        {ROW_INDEX} as row_index,
        {(',' + chr(10) + '        ').join(typed_cols)},
        {extra} as extra
    from src
),

checked as (
    select
        *{line_cols}
    from typed
),

reasoned as (
    select *, {checks.first_reason()} as reject_reason
    from checked
)

select
    row_index,
    {', '.join(names)},
    reject_reason,
    {record_id_sql(feed, families)} as record_id,
    case when reject_reason is null
        then {content_hash_sql(feed)} end as content_hash,
    extra
from reasoned
"""
