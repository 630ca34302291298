"""Property: whatever happens to the landing files, ingestion completes, accounts for every row and
is idempotent.

Each example writes a small valid landing zone (one file per feed, from tests/landing_factory.py)
and then corrupts files at random: flipped, overwritten or cut bytes, dropped columns, a column
retyped to strings, single values replaced by NaN / infinities / huge or empty strings / extreme
integers / out-of-range dates and timestamps, and the same inside `lines`. Then, with the real
DuckDB warehouse:

- ingestion returns; every landing file has exactly one ledger row;
- conservation on every ledger row, and raw / quarantine hold what the ledger says
  (`tests.ingestion_helpers.assert_conservation`);
- a rejected file has rows_quarantined = rows_read and one quarantine row with row_index null;
- files whose bytes were not touched report rows_read = the rows written; untouched files accept
  every row; a file with one corrupted value loses at most that row;
- every quarantine reason starts with a documented prefix;
- an identical copy of a file, landed later, accepts nothing: its rows are duplicates or are
  quarantined again;
- a second ingest skips every file and leaves every table exactly as it was.
"""
from __future__ import annotations

import io
import math
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from ingestion.ingest import ingest_landing
from ingestion.schema import (ASPECTS, CASCADE_TYPES, CONSOLIDATIONS, EVENT_TYPES, FEED_COLUMNS,
                              LINE_FIELDS, PERSPECTIVES, POLARITIES, QUARTERS, REASONS)
import duckdb

from tests.ingestion_helpers import assert_conservation, ledger, rows
from tests.landing_factory import (addendum_event, komplemen_event, line, plt_event, remove_line,
                                   report, signed_event, to_table, unit)

# The reason vocabulary (EVENTS.md row reasons, whole-file reasons, refusals): docs/INGESTION.md.
REASON_PREFIXES = (
    "missing_required_field", "invalid_value", "malformed_nip", "year_out_of_range",
    "non_finite_number", "empty_lines", "duplicate_iku_code", "effective_date_outside_year",
    "conflicting_duplicate", "not_parquet", "unreadable_parquet", "missing_required_column",
    "wrong_column_type", "duplicate_column", "unprocessable_file", "symlink_refused",
    "not_regular_file", "outside_landing", "unreadable_file",
)

UTC = timezone.utc
BAD_VALUES = {
    "varchar": [None, "", "   ", "x" * 20_000, "\x00\u202e\U0001F642'; drop table raw.units; --",
                "NaN", "Q9", "1" * 18, "é" * 18],
    "integer": [None, -2**31, 2**31 - 1, -1, 0, 6, 1999, 2101],
    "boolean": [None, True, False],
    "date": [None, date(1, 1, 1), date(9999, 12, 31), date(2026, 2, 28)],
    "timestamp": [None, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
                  datetime(1970, 1, 1, tzinfo=UTC)],
    "double": [None, math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 5e-324],
}
LINE_TYPES = dict(LINE_FIELDS)
# Raw day / microsecond counts far outside what a calendar (and DuckDB) can hold.
EXTREME_DAYS = [-(2**31), 2**31 - 1, 3_000_000]
EXTREME_MICROS = [-(2**63) + 1, 2**63 - 1, 10**18]


def _valid_rows() -> dict[str, list[dict]]:
    return {
        "contract_events": [
            signed_event("EV-1", "KK-1", lines=[line("IKU-01", weight=60.0),
                                                line("IKU-02", weight=40.0, polarity="stabilize",
                                                     tolerance=5.0)]),
            addendum_event("EV-2", "KK-1", lines=[remove_line("IKU-02"),
                                                  line("IKU-01", op="upsert", weight=100.0)]),
            komplemen_event("EV-3", "KK-2", lines=[line("IKU-01", target_q1=None, target_q2=None,
                                                        target_is_max=True)]),
            plt_event("EV-4", "KK-2", effective_date=date(2026, 9, 1),
                      recorded_at="2026-09-01T08:00"),
        ],
        "realisations": [report(f"RP-{i}", "KK-1", "IKU-01", q, 80.0 + i)
                         for i, q in enumerate(("Q1", "Q2", "Q3", "Q4"))],
        "units": [unit("ROOT", None, 0), unit("UNIT-01", "ROOT", 1),
                  unit("UNIT-01", "ROOT", 1, valid_from=date(2026, 7, 1), name="Unit baru")],
    }


FILE_NAMES = {"contract_events": "ce 01 — événements.parquet",
              "realisations": "sub dir/re_01.parquet",
              "units": "un_01.parquet"}


def _column_type(feed: str, name: str) -> str:
    return {c: t for c, t, _r in FEED_COLUMNS[feed]}[name]


@st.composite
def corruption(draw, feed: str, n_rows: int):
    """One way to damage a file of `feed`, as a (kind, detail) pair; ('none', None) leaves it be."""
    columns = [c for c, _t, _r in FEED_COLUMNS[feed]]
    kinds = ["none", "value", "value", "drop_columns", "retype", "extreme", "bytes", "truncate"]
    if feed == "contract_events":
        kinds += ["line_value", "line_value", "drop_line_fields"]
    kind = draw(st.sampled_from(kinds))
    if kind == "value":
        col = draw(st.sampled_from([c for c in columns if c != "lines"]))
        return kind, (draw(st.integers(0, n_rows - 1)), col,
                      draw(st.sampled_from(BAD_VALUES[_column_type(feed, col)])))
    if kind == "line_value":
        field = draw(st.sampled_from([f for f, _t in LINE_FIELDS]))
        return kind, (draw(st.integers(0, n_rows - 1)), draw(st.integers(0, 3)), field,
                      draw(st.sampled_from(BAD_VALUES[LINE_TYPES[field]]
                                           + ["__drop_line__", "__null_line__"])))
    if kind == "drop_columns":
        return kind, draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True))
    if kind == "drop_line_fields":
        return kind, draw(st.lists(st.sampled_from([f for f, _t in LINE_FIELDS]), min_size=1,
                                   max_size=4, unique=True))
    if kind == "retype":
        return kind, draw(st.sampled_from(columns))
    if kind == "extreme":
        temporal = [c for c in columns if _column_type(feed, c) in ("date", "timestamp")]
        return kind, (draw(st.sampled_from(temporal)), draw(st.integers(0, n_rows - 1)),
                      draw(st.integers(0, 2)))
    if kind == "bytes":
        return kind, draw(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                   min_size=1, max_size=8))
    if kind == "truncate":
        return kind, draw(st.floats(0, 0.999))
    return "none", None


def _apply_to_rows(rows: list[dict], kind: str, detail) -> list[dict]:
    if kind == "value":
        row, col, value = detail
        rows[row][col] = value
    elif kind == "line_value":
        row, index, field, value = detail
        lines = rows[row].get("lines")
        if lines:
            index %= len(lines)
            if value == "__drop_line__":
                del lines[index]
            elif value == "__null_line__":
                lines[index] = None
            else:
                lines[index] = dict(lines[index], **{field: value})
    return rows


def _apply_to_table(table: pa.Table, feed: str, kind: str, detail) -> pa.Table:
    if kind == "drop_columns":
        return table.drop_columns([c for c in detail if c in table.column_names])
    if kind == "retype":
        i = table.schema.get_field_index(detail)
        as_text = [None if v is None else str(v) for v in table.column(detail).to_pylist()]
        return table.set_column(i, detail, pa.array(as_text, pa.string()))
    if kind == "drop_line_fields":
        lines = table.column("lines").combine_chunks()
        structs = lines.values
        kept = [(f, structs.field(f.name)) for f in structs.type if f.name not in detail]
        if not kept:
            return table
        child = pa.StructArray.from_arrays([c for _f, c in kept], fields=[f for f, _c in kept],
                                           mask=structs.is_null() if structs.null_count else None)
        new = pa.ListArray.from_arrays(lines.offsets, child,
                                       mask=lines.is_null() if lines.null_count else None)
        return table.set_column(table.schema.get_field_index("lines"), "lines", new)
    if kind == "extreme":
        col, row, which = detail
        i = table.schema.get_field_index(col)
        typ = table.schema.field(col).type
        if pa.types.is_date(typ):
            raw = table.column(col).cast(pa.int32()).to_pylist()
            raw[row] = EXTREME_DAYS[which]
            return table.set_column(i, col, pa.array(raw, pa.int32()).cast(pa.date32()))
        raw = table.column(col).cast(pa.int64()).to_pylist()
        raw[row] = EXTREME_MICROS[which]
        return table.set_column(i, col, pa.array(raw, pa.int64()).cast(typ))
    return table


def _apply_to_bytes(data: bytes, kind: str, detail) -> bytes:
    if kind == "bytes":
        buf = bytearray(data)
        for where, value in detail:
            buf[min(int(where * len(buf)), len(buf) - 1)] = value
        return bytes(buf)
    if kind == "truncate":
        return data[:int(detail * len(data))]
    return data


@st.composite
def damaged_landing(draw):
    """{feed: (kind, detail)} for the three feeds, and "copy": the feed whose (damaged) file is
    landed a second time, byte for byte, under a later name (or None)."""
    plan = {feed: draw(corruption(feed, len(rows))) for feed, rows in _valid_rows().items()}
    plan["copy"] = draw(st.sampled_from([None, *_valid_rows()]))
    return plan


COPY_NAME = "zz copy.parquet"  # sorts after the original: the original is read first


def _write(landing: Path, plan: dict) -> dict[str, int]:
    """Write the damaged landing zone; the row count written per file."""
    written = {}
    for feed, rows in _valid_rows().items():
        kind, detail = plan[feed]
        rows = _apply_to_rows(rows, kind, detail)
        table = _apply_to_table(to_table(feed, rows), feed, kind, detail)
        sink = io.BytesIO()
        pq.write_table(table, sink)
        path = landing / feed / FILE_NAMES[feed]
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _apply_to_bytes(sink.getvalue(), kind, detail)
        path.write_bytes(data)
        written[f"{feed}/{FILE_NAMES[feed]}"] = table.num_rows
        if plan.get("copy") == feed:
            (landing / feed / COPY_NAME).write_bytes(data)
            written[f"{feed}/{COPY_NAME}"] = table.num_rows
    return written


def _q(values) -> str:
    return "(" + ", ".join("'" + v + "'" for v in values) + ")"


NIP_OK = "regexp_full_match({0}, '[0-9]{{18}}')"
# Queries that list accepted raw rows breaking an EVENTS.md interpretability rule: all must be empty.
REASON_OK = " or ".join(f"(event_type = '{t}' and reason in {_q(rs)})" for t, rs in REASONS.items())
LINE_OK = f"""(
    ln is not null and ln.iku_code is not null
    and coalesce(ln.op, 'upsert') in ('upsert', 'remove')
    and (ln.op is distinct from 'remove' or event_type = 'addendum')
    and (coalesce(ln.op, 'upsert') = 'remove' or (ln.perspective in {_q(PERSPECTIVES)}
         and ln.polarity in {_q(POLARITIES)} and ln.consolidation in {_q(CONSOLIDATIONS)}
         and ln.weight is not null))
    and (ln.aspect is null or ln.aspect in {_q(ASPECTS)})
    and (ln.cascade_type is null or ln.cascade_type in {_q(CASCADE_TYPES)})
    and isfinite(coalesce(ln.weight, 0)) and isfinite(coalesce(ln.tolerance, 0))
    and isfinite(coalesce(ln.target_q1, 0)) and isfinite(coalesce(ln.target_q2, 0))
    and isfinite(coalesce(ln.target_q3, 0)) and isfinite(coalesce(ln.target_q4, 0))
    and isfinite(coalesce(ln.target_y, 0)))"""
RAW_VIOLATIONS = {
    "contract_events": f"""
        select event_id from raw.contract_events
        where not coalesce(
            event_id is not null and contract_id is not null and position_id is not null
            and unit_id is not null and is_unit_head is not null
            and event_type in {_q(EVENT_TYPES)} and year between 2000 and 2100
            and position_level between 0 and 5 and {NIP_OK.format('holder_nip')}
            and (supervisor_nip is null or {NIP_OK.format('supervisor_nip')})
            and isfinite(effective_date) and isfinite(recorded_at)
            and (signed_date is null or isfinite(signed_date))
            and (event_type = 'signed' or year(effective_date) = year)
            and (event_type <> 'komplemen' or replaces_contract_id is not null)
            and (event_type <> 'addendum' or effective_period is not null)
            and (effective_period is null or effective_period in {_q(QUARTERS)})
            and (event_type = 'plt_transfer' or signed_date is not null)
            and (reason is null or {REASON_OK})
            and lines is not null
            and (len(lines) > 0 or event_type in ('addendum', 'plt_transfer'))
            and len(list_distinct(list_transform(lines, lambda ln: ln.iku_code))) = len(lines)
            and list_bool_and(list_transform(lines, lambda ln: {LINE_OK})) is not false,
            false)""",
    "realisations": f"""
        select report_id from raw.realisations
        where not coalesce(
            report_id is not null and contract_id is not null and iku_code is not null
            and quarter in {_q(QUARTERS)} and isfinite(value) and isfinite(reported_at)
            and (reporter_nip is null or {NIP_OK.format('reporter_nip')}), false)""",
    "units": """
        select unit_id from raw.units
        where not coalesce(
            unit_id is not null and name is not null and level between 0 and 5
            and isfinite(valid_from) and (valid_to is null or isfinite(valid_to)), false)""",
}


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table ingestion writes, in full and in a deterministic order (one connection)."""
    tables = ["ingest.ledger", "ingest.quarantine"] + [f"raw.{f}" for f in FEED_COLUMNS]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=damaged_landing())
# Found by this test: DuckDB's +infinity sentinels (int32 / int64 max from Arrow) must not be accepted.
@example(plan={"contract_events": ("extreme", ("recorded_at", 0, 1)),
               "realisations": ("extreme", ("reported_at", 2, 1)),
               "units": ("extreme", ("valid_from", 1, 1))})
@example(plan={"contract_events": ("extreme", ("effective_date", 1, 1)),
               "realisations": ("value", (0, "value", math.nan)),
               "units": ("truncate", 0.5)})
def test_any_damage_is_accounted_for_and_rerun_is_idempotent(plan):
    with tempfile.TemporaryDirectory() as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "wh.duckdb"
        written = _write(landing, plan)

        counts = ingest_landing(landing, warehouse, progress=lambda _m: None)

        assert_conservation(warehouse)
        by_file = {entry["file"]: entry for entry in ledger(warehouse)}
        assert sorted(by_file) == sorted(written)
        assert counts["files_new"] == len(written) and counts["files_skipped"] == 0
        for key in ("rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined"):
            assert counts[key] == sum(e[key] for e in by_file.values()), key
        for feed in _valid_rows():
            kind, _detail = plan[feed]
            entry = by_file[f"{feed}/{FILE_NAMES[feed]}"]
            event(f"{kind}: {entry['status']}, {entry['rows_quarantined']} quarantined")
            if entry["status"] == "rejected":
                assert entry["rows_quarantined"] == entry["rows_read"]
                assert entry["rows_accepted"] == entry["rows_duplicate"] == 0
            if kind not in ("bytes", "truncate"):
                assert entry["rows_read"] == written[entry["file"]], entry
            if kind == "none":
                assert entry["status"] == "ingested"
                assert entry["rows_accepted"] == entry["rows_read"], (entry, plan)
            if kind in ("value", "line_value", "extreme") and entry["status"] == "ingested":
                assert entry["rows_accepted"] >= entry["rows_read"] - 1, (entry, plan)
        if plan.get("copy"):
            # an identical file adds nothing: its rows are duplicates or quarantined again
            original = by_file[f"{plan['copy']}/{FILE_NAMES[plan['copy']]}"]
            copy = by_file[f"{plan['copy']}/{COPY_NAME}"]
            assert copy["status"] == original["status"]
            assert copy["rows_read"] == original["rows_read"]
            assert copy["rows_accepted"] == 0, (copy, plan)
            assert copy["rows_duplicate"] == original["rows_accepted"] + original["rows_duplicate"]
            assert copy["rows_quarantined"] == original["rows_quarantined"]
        for (reason,) in rows(warehouse, "select reason from ingest.quarantine"):
            assert reason.split(":", 1)[0] in REASON_PREFIXES, reason

        with duckdb.connect(str(warehouse), read_only=True) as con:
            for feed, sql in RAW_VIOLATIONS.items():
                assert con.execute(sql).fetchall() == [], (feed, plan)

        before = _snapshot(warehouse)
        again = ingest_landing(landing, warehouse, progress=lambda _m: None)
        assert again["files_skipped"] == len(written) and again["files_new"] == 0
        assert again["rows_read"] == again["rows_accepted"] == 0
        assert _snapshot(warehouse) == before
