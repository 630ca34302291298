"""Which rows a night's checks must read: everything, or what changed since the last check.

A per-row rule (Rule.per_row: a count of offending rows or repeated keys) whose figure was 0 at
the previous check, and whose table changed since only in known rows, has the same figure over the
whole table as over those rows: the others are the rows that figure was computed over, unchanged.
So a night's figure over its changed rows *is* the whole table's figure, at the cost of the night.

What changed since a check, per table (CHANGED_ROWS):
- marts: only dbt writes them, and an incremental build rewrites only the contracts it records in
  build.dirty_contracts (kinerja/build_state.py, docs/INCREMENTAL.md). Every build since the check
  must be incremental and done; a full or failed build since means every row may have changed.
- raw tables: append-only; the rows ingested after the check's watermark (with the older rows
  that share a new row's key, so a repeated id is found).

The figures of every check go to build.checks with the hash of each rule's SQL, so the next night
knows which rules it may scope (a rule whose SQL changed, or that was not 0, is computed whole).
A whole check is made when asked (the default by hand, KINERJA_WHOLE_CHECK in the batch), after a
full build, and when the last whole check is older than WHOLE_CHECK_EVERY (a safety net against
writes that bypass dbt).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import duckdb

from kinerja.build_state import raw_watermark, table_exists

from .rules import Rule, Suite
from .summary import column

WHOLE_CHECK_EVERY = timedelta(days=7)

CHECKS_DDL = """
create schema if not exists build;
create table if not exists build.checks (
    check_id integer primary key,
    build_id integer,                 -- the latest build when the check ran (build.runs)
    as_of date not null,
    checked_at timestamp not null,
    scope varchar not null,           -- whole | changed
    since_check_id integer,           -- changed: the check whose figures it builds on
    changed_contracts integer,        -- changed: contracts rewritten by the builds since then
    raw_watermark timestamp,          -- max(ingested_at) of the raw store it read
    verdict varchar not null,         -- pass | warn | fail
    figures varchar not null          -- JSON: {"<suite>.<rule>": {"value": v, "sql": hash}}
);
"""

_CONTRACTS = "(select contract_id from changed_contracts)"
_NEW = "ingested_at > {watermark}"
# The rows of each table that may differ from the previous check: the rows whose key is in a set
# of keys, (key column, the keys as a subquery), and every row with a null key (it cannot be
# traced to a contract, and is itself a violation).
CHANGED_ROWS = {
    **{f"marts.{t}": ("contract_id", _CONTRACTS)
       for t in ("contract_lines", "responsibility", "iku_achievement", "nko", "komplemen_targets")},
    # finish_build records both KKs of every edge that differs after a build
    "marts.cascading_edges": ("child_contract_id", _CONTRACTS),
    # finding_id hashes more than the contract: a new finding could repeat an old one's id
    "marts.audit_findings": ("finding_id", "(select finding_id from marts.audit_findings where "
                             f"contract_id in {_CONTRACTS} or contract_id is null)"),
    # append-only: the keys of the rows ingested since the check (with the older rows that share
    # a new row's key, so a repeated id is found)
    "raw.contract_events": ("event_id", f"(select event_id from raw.contract_events where {_NEW})"),
    "raw.realisations": ("report_id", f"(select report_id from raw.realisations where {_NEW})"),
}
# Up to this many keys are named in the SQL: DuckDB filters a scan by a list of constants while
# it reads the key column, where a join with the keys reads every column of every row first
# (five-year marts.iku_achievement at night: 0.7 s instead of 2.6 s).
LITERAL_KEYS_MAX = 50_000


def changed_rows_sql(con, table: str, watermark) -> str:
    """The query of `table`'s rows that may differ from the previous check (CHANGED_ROWS)."""
    key, keys = CHANGED_ROWS[table]
    keys = keys.format(watermark=f"timestamp '{watermark}'")
    count, listed = con.execute(
        "select count(*), string_agg('''' || replace(k::varchar, '''', '''''') || '''', ', ') "
        f"from (select distinct k from {keys} as s(k) where k is not null)").fetchone()
    if not count:
        keys = "(select null where false)"
    elif count <= LITERAL_KEYS_MAX:
        keys = f"({listed})"
    # a union, not `in (...) or key is null`: with the `or` DuckDB cannot filter the scan
    return (f"select * from {table} where {key} in {keys} "
            f"union all select * from {table} where {key} is null")


def sql_hash(rule: Rule) -> str:
    return hashlib.sha256(rule.value_sql.encode()).hexdigest()[:16]


def scopable(rule: Rule) -> bool:
    """A per-row rule over one table whose rows can be scoped, not depending on the as-of date."""
    return rule.per_row and len(rule.tables) == 1 and rule.tables[0] in CHANGED_ROWS \
        and "{as_of}" not in rule.value_sql


@dataclass
class CheckScope:
    """`whole`, or `changed` since check `since_check_id` (whose figures are `previous`)."""
    kind: str
    reason: str  # why whole, or what changed: shown in the report and the data docs
    build_id: int | None = None
    raw_watermark: object = None
    since_check_id: int | None = None
    changed_contracts: int | None = None
    watermark_before: object = None  # the raw watermark of check since_check_id
    previous: dict = field(default_factory=dict)
    scoped: set[str] = field(default_factory=set)  # columns computed over changed rows only
    _made: dict[str, str] = field(default_factory=dict)

    def sql_for(self, con, suite: Suite, rule: Rule) -> str:
        """The rule's SQL, over the table's changed rows when that gives the whole figure."""
        col = column(suite, rule.name)
        before = self.previous.get(col) or {}
        if self.kind != "changed" or not scopable(rule) or before.get("value") != 0 \
                or before.get("sql") != sql_hash(rule):
            return rule.value_sql
        table = rule.tables[0]
        if table not in self._made:
            name = "changed_" + table.replace(".", "_")
            con.execute(f"create or replace temp table {name} as "
                        + changed_rows_sql(con, table, self.watermark_before))
            self._made[table] = name
        self.scoped.add(col)
        return re.sub(rf"\b{re.escape(table)}\b", self._made[table], rule.value_sql)


def _whole(reason: str, build_id, watermark) -> CheckScope:
    return CheckScope("whole", reason, build_id, watermark)


def decide_scope(con: duckdb.DuckDBPyConnection, changed_only: bool) -> CheckScope:
    """Decide on a read-only connection; in `changed` scope, fill temp table changed_contracts."""
    watermark = raw_watermark(con)
    if not table_exists(con, "build", "runs"):
        return _whole("the warehouse has no build record (build.runs)", None, watermark)
    build_id = con.execute("select max(build_id) from build.runs").fetchone()[0]
    if not changed_only:
        return _whole("a whole check was asked for", build_id, watermark)
    if os.environ.get("KINERJA_WHOLE_CHECK"):
        return _whole("KINERJA_WHOLE_CHECK is set", build_id, watermark)
    if not table_exists(con, "build", "checks"):
        return _whole("no earlier check is recorded", build_id, watermark)
    last = con.execute("select check_id, build_id, raw_watermark, figures from build.checks "
                       "order by check_id desc limit 1").fetchone()
    last_whole = con.execute("select max(checked_at) from build.checks where scope = 'whole'"
                             ).fetchone()[0]
    if last is None or last[1] is None:
        return _whole("no earlier check of a build is recorded", build_id, watermark)
    if last_whole is None or con.execute("select now()::timestamp").fetchone()[0] - last_whole \
            > WHOLE_CHECK_EVERY:
        return _whole(f"the last whole check is older than {WHOLE_CHECK_EVERY.days} days",
                      build_id, watermark)
    check_id, checked_build, watermark_before, figures = last
    builds = con.execute("select build_id, mode, status from build.runs where build_id > ? "
                         "order by build_id", [checked_build]).fetchall()
    for bid, mode, status in builds:
        if mode != "incremental" or status != "done":
            return _whole(f"build {bid} since check {check_id} was {mode} ({status})",
                          build_id, watermark)
    con.execute("create or replace temp table changed_contracts as select distinct contract_id "
                "from build.dirty_contracts where build_id > ?", [checked_build])
    changed = con.execute("select count(*) from changed_contracts").fetchone()[0]
    return CheckScope("changed", f"the {changed} contracts rewritten by the {len(builds)} "
                      f"build{'' if len(builds) == 1 else 's'} and the raw rows ingested since "
                      f"check {check_id}",
                      build_id, watermark, check_id, changed,
                      "-infinity" if watermark_before is None else watermark_before,
                      json.loads(figures))


def record_check(warehouse: Path, scope: CheckScope, as_of, verdict: str, figures: dict,
                 suites) -> str | None:
    """Append the check to build.checks; returns why it could not (the next check is whole)."""
    if scope.build_id is None:
        return "no build record"
    hashes = {column(s, r.name): sql_hash(r) for s in suites for r in s.rules}
    payload = {col: {"value": value, "sql": hashes.get(col)} for col, value in figures.items()}
    try:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(CHECKS_DDL)
            con.execute("""
                insert into build.checks
                select coalesce(max(check_id), 0) + 1, ?, ?, now()::timestamp, ?, ?, ?, ?, ?, ?
                from build.checks
            """, [scope.build_id, as_of, scope.kind, scope.since_check_id,
                  scope.changed_contracts, scope.raw_watermark, verdict,
                  json.dumps(payload, default=str)])
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None
