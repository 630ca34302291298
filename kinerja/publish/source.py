"""Reading the warehouse for publication: connection, the unit tree at the as-of date, periods.

Every published output reads the public marts (WAREHOUSE.md) plus the dbt view
`staging.stg_units`; nothing here writes to the warehouse.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

# The read-only publication connection is bounded (DuckDB's default is 80% of RAM): the batch runs
# next to other processes and publication works in unit batches that never need more than this.
MEMORY_LIMIT = "1800MB"

# Report order of DOMAIN.md section 3.
PERIODS = ("Q1", "Q2", "S1", "Q3", "SDQ3", "Q4", "Y")
PERIOD_ORDER_SQL = "list_position(['Q1','Q2','S1','Q3','SDQ3','Q4','Y'], {col})"

LEVEL_NAMES = {
    0: "Kemenkeu-Wide",
    1: "Eselon I",
    2: "Eselon II",
    3: "Eselon III",
    4: "Eselon IV",
    5: "Pelaksana/Fungsional",
}


class WarehouseMissing(RuntimeError):
    """The warehouse file or one of the public tables it needs is not there."""


@contextmanager
def connect(warehouse: Path | str):
    path = Path(warehouse)
    if not path.is_file():
        raise WarehouseMissing(f"warehouse {path} does not exist; run `kinerja run` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:  # a batch holds the file open for writing right now
        from kinerja.lock import WarehouseBusy

        raise WarehouseBusy(f"warehouse {path} is being written by a batch; retry when it ends "
                            f"({str(exc).splitlines()[0][:120]})") from exc
    # DuckDB draws a progress bar on stderr for long queries; the batch log is not a terminal
    con.execute("set enable_progress_bar = false")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    try:
        yield con
    finally:
        con.close()


def _has_relation(con, schema: str, name: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchall()[0][0])


# the publication's list of KKs and their row counts, kept by the build (dbt_project/models/
# intermediate/int_kk_achievement_rows.sql)
KK_ROWS = "intermediate.int_kk_achievement_rows"


def require_marts(con, *names: str) -> None:
    """Fail clearly when a relation the publication reads is missing: a name is a mart, or
    `schema.name`."""
    qualified = [n if "." in n else f"marts.{n}" for n in names]
    missing = [n for n in qualified if not _has_relation(con, *n.split("."))]
    if missing:
        raise WarehouseMissing("warehouse has no " + ", ".join(missing)
                               + "; build it with `kinerja run` first")


def create_units_view(con, as_of: date | None) -> None:
    """Temp table `pub_units`: one row per unit in force at the as-of date.

    A unit is in force when valid_from <= as_of and valid_to is null or >= as_of (the closing day
    still belongs to the old version). Units no longer in force that KKs still point at are kept,
    from their latest version, flagged `closed`, so no KK disappears from the dashboard.
    """
    source = "staging.stg_units" if _has_relation(con, "staging", "stg_units") else None
    if source is None:
        raise WarehouseMissing("warehouse has no staging.stg_units; build it with `kinerja run` first")
    cut = "date '9999-12-31'" if as_of is None else f"date '{as_of.isoformat()}'"
    kk_units = ("select distinct unit_id from marts.nko"
                if _has_relation(con, "marts", "nko") else "select null::varchar as unit_id where false")
    con.execute(f"""
        create or replace temp table pub_units as
        with versions as (
            select unit_id, parent_unit_id, unit_name, unit_level::integer as unit_level,
                   valid_from, valid_to,
                   (valid_from <= {cut} and (valid_to is null or valid_to >= {cut})) as in_force,
                   row_number() over (partition by unit_id
                                      order by (valid_from <= {cut}) desc, valid_from desc) as rn
            from {source}
        ),
        latest as (select * from versions where rn = 1)
        select unit_id, parent_unit_id, unit_name, unit_level, not in_force as closed
        from latest
        where in_force or unit_id in ({kk_units})
    """)
    # A parent that is not in the tree would orphan its subtree: hang such units off the root.
    con.execute("""
        update pub_units set parent_unit_id = null
        where parent_unit_id is not null
          and parent_unit_id not in (select unit_id from pub_units)
    """)


def tree_fingerprint(con) -> str:
    """A digest of `pub_units` (ids, parents, names, levels, closed): the unit tree a recap row's
    unit name and level come from. An incremental publication needs it unchanged."""
    return con.execute("""
        select coalesce(md5(string_agg(concat_ws('|', unit_id, coalesce(parent_unit_id, '-'),
                                                 unit_name, coalesce(unit_level::varchar, '-'),
                                                 closed::varchar), chr(10) order by unit_id)), '')
        from pub_units
    """).fetchall()[0][0]


def latest_period(con, unit: str | None = None) -> str | None:
    """The default period: the latest (report order) that is substantially reported.

    "Substantially" = at least half as many KKs with an NKO as the best-covered period, so a few
    early Q4 reports do not make an almost empty Y the default. Falls back to the latest period
    with any row when nothing is scored yet.
    """
    where = "where unit_id = ?" if unit else ""
    params = [unit] if unit else []
    row = con.execute(f"""
        with per as (
            select period, count(nko) as scored from marts.nko {where} group by period
        )
        select period from per
        order by (scored > 0 and scored * 2 >= (select max(scored) from per)) desc,
                 {PERIOD_ORDER_SQL.format(col='period')} desc
        limit 1
    """, params).fetchall()
    return row[0][0] if row else None
