"""Incremental publication: rewrite only the units whose KKs changed since the last publication.

The build step records in the warehouse (schema `build`):
    build.runs(build_id, as_of, mode 'full'|'incremental', reason, started_at, finished_at,
               status 'running'|'done'|'failed')
    build.dirty_contracts(build_id, contract_id, year): for an incremental build, every KK
               whose rows in any marts table may have changed in that build.
Every publication records in MANIFEST.json the build_id it reflects (the latest in build.runs),
its format version, the masking mode, the dashboard year and a digest of the unit tree.

The next publication is incremental only when the previous MANIFEST is readable and names a
build_id P that build.runs knows, every build after P is mode 'incremental' (of any status: a
full build, even a failed one, may have touched anything), and the format, masking, dashboard
year and unit tree are the same. It then starts from hard links to the previous night's unit files
and rewrites the (year, unit) pairs of every KK in build.dirty_contracts with build_id > P: the
unit the KK is in now (marts) and the unit it was published under before (recap/kk_index.csv of
the previous publication), so a KK that moved or disappeared leaves no stale file. Everything
else is a full publication.

What a unit file holds depends only on the marts rows of its own KKs (a cascading_edges row
belongs to its parent and its child KK), the unit's name and level in the tree (digest) and the
masking mode; as-of, verdict, generation time, the default period and unit NKOs are in the global
files (data/tree.js, recap/index.csv, recap/kk_index.csv, MANIFEST.json), rewritten every night.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kinerja.publish import fragments

FORMAT = 3  # publication layout version (3: per-KK fragments); a change forces a full one


@dataclass
class Plan:
    mode: str  # "full" | "incremental"
    reason: str
    build_id: int | None


def _has_build_tables(con) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = 'build' "
        "and table_name in ('runs', 'dirty_contracts')").fetchall()[0][0] == 2


def current_build_id(con) -> int | None:
    if not _has_build_tables(con):
        return None
    return con.execute("select max(build_id) from build.runs").fetchall()[0][0]


def decide(con, live: Path, previous: dict | None, state: dict) -> Plan:
    """Full or incremental (see the module doc). `state` holds this night's format, masking,
    dashboard year and tree digest; on incremental, the temp table `pub_todo(year, unit_id)`
    lists the units to rewrite."""
    build_id = current_build_id(con)

    def full(reason: str) -> Plan:
        return Plan("full", reason, build_id)

    if previous is None:
        return full("no previous publication")
    if build_id is None:
        return full("the warehouse has no build.runs")
    for key in ("format", "nip_masked", "dashboard_year", "tree"):
        if previous.get(key) != state[key]:
            return full(f"{key} changed")
    prev_id = previous.get("build_id")
    if not isinstance(prev_id, int):
        return full("the previous publication names no build")
    known, full_after = con.execute(
        "select count(*) filter (where build_id = $p), "
        "count(*) filter (where build_id > $p and mode is distinct from 'incremental') "
        "from build.runs", {"p": prev_id}).fetchall()[0]
    if not known or build_id < prev_id:
        return full(f"build {prev_id} of the previous publication is not in this warehouse")
    if full_after:
        return full("a full build ran since the previous publication")
    kk_index = live / "recap" / "kk_index.csv"
    for needed in (kk_index, live / fragments.INDEX):
        if not needed.is_file():
            return full(f"the previous publication has no {needed.relative_to(live)}")
    old = str(kk_index).replace("'", "''")
    con.execute(f"""
        create or replace temp table pub_dirty as
        select distinct contract_id from build.dirty_contracts where build_id > {int(prev_id)}
    """)
    con.execute(f"""
        create or replace temp table pub_todo as
        with dirty as (select contract_id from pub_dirty),
        before as (select * from read_csv('{old}', header = true,
                   columns = {{'year': 'INTEGER', 'contract_id': 'VARCHAR', 'unit_id': 'VARCHAR'}}))
        select distinct year, unit_id from (
            select year, unit_id from pub_kk join dirty using (contract_id)
            union all
            select year, unit_id from before join dirty using (contract_id))
    """)
    n = con.execute("select count(*) from pub_todo").fetchall()[0][0]
    return Plan("incremental", f"{n} units changed since build {prev_id}", build_id)


def link_previous(live: Path, tmp: Path) -> int:
    """Hard-link the previous night's unit files (recap/<year>/, data/unit/) into `tmp`."""
    from kinerja.publish.atomic import link_tree

    n = 0
    for sub in [live / "data" / "unit"] + sorted(p for p in (live / "recap").iterdir()
                                                 if p.is_dir()):
        if sub.is_dir() and not sub.is_symlink():
            n += link_tree(sub, tmp / os.path.relpath(sub, live))
    return n
