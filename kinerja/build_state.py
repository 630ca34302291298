"""Which kind of dbt build a night needs, and the record of every build (docs/INCREMENTAL.md).

Before dbt runs, `prepare_build` opens a row in `build.runs` with mode `incremental` when the
previous build finished with the same models, the as-of date did not move back and the marts
are there; then the models recompute only the contracts that changed since that build
(dbt_project/models/intermediate/int_dirty_contracts.sql reads this row). Otherwise the mode is
`full` and the dbt-built schemas are dropped first, so every model is created from the whole
store. After a successful build `finish_build` records the changed contracts in
`build.dirty_contracts` (publication rewrites only their units) and marks the row done; a failed
or killed build leaves its row `running` or `failed`, and the next build is full.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from kinerja.paths import DBT_PROJECT_DIR

# dbt writes these schemas; a full build drops them (raw, ingest, build and reference stay)
DBT_SCHEMAS = ("staging", "intermediate", "marts")
# an incremental build needs the previous build's tables
REQUIRED_TABLES = (("intermediate", "int_contracts"), ("marts", "iku_achievement"),
                   ("marts", "audit_findings"), ("marts", "cascading_edges"))

SCHEMA_SQL = """
create schema if not exists build;
create table if not exists build.runs (
    build_id integer primary key,
    as_of date not null,
    mode varchar not null,            -- full | incremental
    reason varchar,                   -- why full (null for incremental)
    code_fingerprint varchar not null,
    watermark timestamp,              -- max(ingested_at) of the raw store when the build started
    prev_build_id integer,
    prev_as_of date,
    prev_watermark timestamp,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null           -- running | done | failed
);
create table if not exists build.dirty_contracts (
    build_id integer not null,
    contract_id varchar not null,
    year integer
);
"""


@dataclass(frozen=True)
class BuildPlan:
    build_id: int
    mode: str
    reason: str | None
    as_of: date
    memory_limit: str = "3GB"  # DuckDB's memory_limit for this build's dbt (dbt_memory_limit)


# packages whose version can change a model's rows (the holidays calendar is built once)
FINGERPRINT_PACKAGES = ("holidays", "dbt-core", "dbt-duckdb", "duckdb")


def code_fingerprint(project: Path = DBT_PROJECT_DIR) -> str:
    """A hash of everything that shapes the models' rows: SQL, macros, seeds, tests, project,
    and the versions of the packages that compute them."""
    from importlib.metadata import version

    digest = hashlib.sha256(" ".join(f"{p}=={version(p)}" for p in FINGERPRINT_PACKAGES).encode())
    files = [project / "dbt_project.yml"] + sorted(
        p for d in ("models", "macros", "seeds", "tests") for p in (project / d).rglob("*")
        if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def table_exists(con, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = ? and table_name = ?", [schema, table]).fetchone()[0])


def _full_reason(con, last, as_of: date, fingerprint: str) -> str | None:
    if os.environ.get("KINERJA_FULL_BUILD"):
        return "KINERJA_FULL_BUILD is set"
    if last is None:
        return "first build of this warehouse"
    build_id, last_as_of, status, last_fingerprint, _ = last
    if status != "done":
        return f"build {build_id} did not finish ({status})"
    if last_fingerprint != fingerprint:
        return "the dbt models changed since the last build"
    if as_of < last_as_of:
        return f"the as-of date moved back ({last_as_of} -> {as_of})"
    for schema, table in REQUIRED_TABLES:
        if not table_exists(con, schema, table):
            return f"{schema}.{table} is missing"
    return None


# DuckDB's memory limit for dbt (KINERJA_DBT_MEMORY_LIMIT, which dbt_project/macros/memory_limit.sql
# applies). A build's working set grows with the rows it recomputes: the full build of a one-year
# ministry store peaks at ~2 GB of buffers and fits in 3 GB (the full batch's 4 GiB target), while
# the full build of a five-year store ran out of memory at 3 GB (operators that cannot spill:
# ordered list aggregates, pivots). So a full build gets 3 GB per year of contracts in the store,
# up to 3/4 of the machine's memory; an incremental build recomputes a few thousand contracts and
# keeps 3 GB.
MEMORY_PER_YEAR_GB = 3
MEMORY_SHARE_OF_RAM = 0.75


def dbt_memory_limit(con, mode: str) -> str:
    """The memory limit of a build (KINERJA_DBT_MEMORY_LIMIT, when set, wins)."""
    if os.environ.get("KINERJA_DBT_MEMORY_LIMIT"):
        return os.environ["KINERJA_DBT_MEMORY_LIMIT"]
    years = 1
    if mode == "full" and table_exists(con, "raw", "contract_events"):
        years = con.execute("select count(distinct year) from raw.contract_events").fetchone()[0] or 1
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    gb = max(MEMORY_PER_YEAR_GB, min(MEMORY_PER_YEAR_GB * years, int(ram_gb * MEMORY_SHARE_OF_RAM)))
    return f"{gb}GB"


def raw_watermark(con):
    """max(ingested_at) of the raw store: what a build (or a check, expectations/scope.py) saw."""
    parts = [f"(select max(ingested_at) from raw.{t})" for t in ("contract_events", "realisations")
             if table_exists(con, "raw", t)]
    return con.execute(f"select greatest({', '.join(parts)})").fetchone()[0] if parts else None


def prepare_build(warehouse: Path, as_of: date) -> BuildPlan:
    """Decide full or incremental, drop the dbt schemas for a full build, open the build's row."""
    fingerprint = code_fingerprint()
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(SCHEMA_SQL)
        last = con.execute("select build_id, as_of, status, code_fingerprint, watermark "
                           "from build.runs order by build_id desc limit 1").fetchone()
        reason = _full_reason(con, last, as_of, fingerprint)
        mode = "full" if reason else "incremental"
        prev = (last[0], last[1], last[4]) if last else (None,) * 3
        con.execute("begin")
        if mode == "full":
            for schema in DBT_SCHEMAS:
                con.execute(f"drop schema if exists {schema} cascade")
        # left by a build that did not finish; the models keep this build's (delete_changed())
        for table in CASCADING_ROWS:
            con.execute(f"drop table if exists {table}")
        build_id = (last[0] if last else 0) + 1
        memory_limit = dbt_memory_limit(con, mode)
        con.execute("""
            insert into build.runs (build_id, as_of, mode, reason, code_fingerprint, watermark,
                                    prev_build_id, prev_as_of, prev_watermark, started_at, status)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp, 'running')
        """, [build_id, as_of, mode, reason, fingerprint, raw_watermark(con), *prev])
        con.execute("commit")
    finally:
        con.close()
    return BuildPlan(build_id, mode, reason, as_of, memory_limit)


# The cascading rows of the last build that an incremental build recomputes (every contract of a
# changed year): the pre-hook delete_changed() of marts.cascading_edges and marts.audit_findings
# (meta keep_before, dbt_project/macros/incremental.sql) keeps them in these tables before it
# deletes them. The KKs whose edges or findings differ afterwards (a parent or child of a changed
# KK) are changed too, for publication. Each table with the same rows of the rebuilt mart.
_CHANGED_YEARS = ("(select contract_id from intermediate.int_dirty_contracts "
                  "where in_changed_year)")
# kept table: (the mart's rows it holds, the columns that name a KK of a differing row)
CASCADING_ROWS = {
    "build.before_cascading_edges": (
        f"select * from marts.cascading_edges where child_contract_id in {_CHANGED_YEARS}",
        ("child_contract_id", "parent_contract_id")),
    "build.before_cascading_findings": (
        "select * from marts.audit_findings where rule like 'CASCADE_%' "
        f"and contract_id in {_CHANGED_YEARS}",
        ("contract_id",)),
}


def _cascading_changes_sql(con) -> str:
    """The contracts (and years) of the cascading rows that differ from the kept ones. A table
    no model kept (the model did not run in this build) has no changes."""
    ctes, changed = [], []
    for n, (table, (rows, kk_columns)) in enumerate(CASCADING_ROWS.items()):
        if not table_exists(con, *table.split(".")):
            continue
        ctes.append(f"""d{n} as (
            ({rows} except all select * from {table})
            union all
            (select * from {table} except all {rows})
        )""")
        changed += [f"select {column}, year from d{n}" for column in kk_columns]
    if not changed:
        return "select null::varchar as contract_id, null::integer as year where false"
    return "with " + ",\n".join(ctes) + "\n" + "\nunion\n".join(changed)


def finish_build(warehouse: Path, plan: BuildPlan) -> int:
    """Record the build's changed contracts and mark it done; returns how many changed."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("begin")
        if plan.mode == "incremental":
            con.execute(f"""
                insert into build.dirty_contracts
                select ?, contract_id, any_value(year) from (
                    select contract_id, year from intermediate.int_dirty_contracts where in_fold
                    union all
                    select * from ({_cascading_changes_sql(con)})
                )
                where contract_id is not null
                group by contract_id
            """, [plan.build_id])
            for table in CASCADING_ROWS:
                con.execute(f"drop table if exists {table}")
        changed = con.execute("select count(*) from build.dirty_contracts where build_id = ?",
                              [plan.build_id]).fetchone()[0]
        con.execute("update build.runs set status = 'done', finished_at = now()::timestamp "
                    "where build_id = ?", [plan.build_id])
        con.execute("commit")
    finally:
        con.close()
    return changed


def fail_build(warehouse: Path, plan: BuildPlan) -> None:
    """Mark a failed build (the next one is full). Best effort: a killed build stays `running`."""
    try:
        con = duckdb.connect(str(warehouse))
    except duckdb.Error:
        return
    try:
        con.execute("update build.runs set status = 'failed', finished_at = now()::timestamp "
                    "where build_id = ?", [plan.build_id])
    finally:
        con.close()
