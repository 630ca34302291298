"""Incremental builds (docs/INCREMENTAL.md): a night that recomputes only the changed contracts
must leave every intermediate and public table exactly as a full rebuild of the same store and
as-of date would; and the batch falls back to a full build whenever it cannot be sure."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TINY_YEAR, build_warehouse, query
from tests.landing_factory import (
    SUCCESSOR_NIP, addendum_event, komplemen_event, line, report, signed_event, unit, write_feed,
)

pytestmark = pytest.mark.slow


def _trajectory(q1, q2, q3, q4, y, **fields):
    return dict(target_q1=q1, target_q2=q2, target_q3=q3, target_q4=q4, target_y=y, **fields)


def differing_tables(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Tables of intermediate and marts whose rows differ (as multisets) between two warehouses."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        tables = con.execute("""
            select table_schema || '.' || table_name from information_schema.tables
            where table_catalog = 'a' and table_schema in ('intermediate', 'marts')
              and table_type = 'BASE TABLE' and table_name <> 'int_dirty_contracts'
            order by 1""").fetchall()
        assert len(tables) > 20
        out = {}
        for (t,) in tables:
            only_a = con.execute(f"select count(*) from (select * from a.{t} except all "
                                 f"select * from b.{t})").fetchone()[0]
            only_b = con.execute(f"select count(*) from (select * from b.{t} except all "
                                 f"select * from a.{t})").fetchone()[0]
            if only_a or only_b:
                out[t] = (only_a, only_b)
        return out
    finally:
        con.close()


def builds(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select build_id, mode, reason, status from build.runs order by 1")


def changed(warehouse: Path, build_id: int) -> set[str]:
    return {r[0] for r in query(warehouse, "select contract_id from build.dirty_contracts "
                                           "where build_id = ?", [build_id])}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Night 1: a unit head KK-10 with a direct child KK-20 and a staff KK-30 of its own, an
    unrelated KK-40. Night 2 (a new file each feed): KK-10 is replaced by a komplemen KK-11 from
    1 October, KK-40 gets an addendum, KK-20's Q3 report is corrected."""
    root = tmp_path_factory.mktemp("nights")
    first, second = root / "night1", root / "night2"
    units = [unit("ROOT", None, 0), unit("UNIT-01", "ROOT", 1), unit("UNIT-02", "UNIT-01", 2)]
    head = line("IKU-10", consolidation="sum", **_trajectory(10, 20, 25, 35, 90))
    events = [
        signed_event("EV-10", "KK-10", position_id="POS-10", unit_id="UNIT-01", position_level=1,
                     lines=[head]),
        signed_event("EV-20", "KK-20", position_id="POS-20", unit_id="UNIT-02", position_level=2,
                     parent_contract_id="KK-10",
                     lines=[line("IKU-20", consolidation="sum", parent_iku_code="IKU-10",
                                 cascade_type="direct", **_trajectory(10, 20, 25, 35, 90))]),
        signed_event("EV-30", "KK-30", position_id="POS-30", unit_id="UNIT-02", position_level=5,
                     is_unit_head=False, parent_contract_id="KK-20",
                     lines=[line("IKU-30", consolidation="average", parent_iku_code="IKU-20",
                                 cascade_type="indirect", **_trajectory(5, 5, 5, 5, 5))]),
        signed_event("EV-40", "KK-40", position_id="POS-40", unit_id="UNIT-02", position_level=2,
                     lines=[line("IKU-40", **_trajectory(80, 80, 80, 80, 80))]),
        # untouched by night 2, with a REALISATION_MISSING finding (no Q3 report) on both nights
        signed_event("EV-50", "KK-50", position_id="POS-50", unit_id="UNIT-02", position_level=2,
                     lines=[line("IKU-50", **_trajectory(60, 60, 60, 60, 60))]),
    ]
    reports = [report(f"RP-{kk}-{q}", kk, iku, q, value, reported_at=f"{TINY_YEAR}-{m}-05T09:00")
               for kk, iku, value in (("KK-10", "IKU-10", 12.0), ("KK-20", "IKU-20", 12.0),
                                      ("KK-30", "IKU-30", 5.0), ("KK-40", "IKU-40", 81.0),
                                      ("KK-50", "IKU-50", 61.0))
               for q, m in (("Q1", "04"), ("Q2", "07"), ("Q3", "10"))
               if (kk, q) != ("KK-50", "Q3")]
    for landing in (first, second):
        write_feed(landing, "units", units)
        write_feed(landing, "contract_events", events, name="ce_01.parquet")
        write_feed(landing, "realisations", reports, name="re_01.parquet")
    late = f"{TINY_YEAR}-11-11T09:00"
    write_feed(second, "contract_events", [
        komplemen_event("EV-11", "KK-11", replaces_contract_id="KK-10", position_id="POS-10",
                        unit_id="UNIT-01", position_level=1, holder_nip=SUCCESSOR_NIP,
                        effective_date=date(TINY_YEAR, 10, 1), signed_date=date(TINY_YEAR, 10, 8),
                        recorded_at=late,
                        lines=[line("IKU-10", consolidation="sum",
                                    **_trajectory(None, None, None, None, None))]),
        addendum_event("EV-41", "KK-40", effective_period="Q4", recorded_at=late,
                       effective_date=date(TINY_YEAR, 10, 1), signed_date=date(TINY_YEAR, 10, 2),
                       lines=[line("IKU-40", **_trajectory(80, 80, 80, 90, 82.5))]),
    ], name="ce_02.parquet")
    write_feed(second, "realisations", [
        report("RP-KK-20-Q3-FIX", "KK-20", "IKU-20", "Q3", 30.0, reported_at=late),
    ], name="re_02.parquet")
    return first, second


def test_a_night_with_komplemen_addendum_and_correction_equals_a_full_rebuild(nights, tmp_path):
    first, second = nights
    night, full = tmp_path / "night.duckdb", tmp_path / "full.duckdb"
    build_warehouse(first, night, date(TINY_YEAR, 11, 10))
    build_warehouse(second, night, date(TINY_YEAR, 11, 11))
    build_warehouse(second, full, date(TINY_YEAR, 11, 11))

    assert [b[1] for b in builds(night)] == ["full", "incremental"]
    assert differing_tables(night, full) == {}
    # the komplemen's chain (KK-10, KK-11), the addendum's and the correction's KKs; KK-30's
    # cascading edge (to KK-20) and findings did not change, so it is not republished
    assert changed(night, 2) == {"KK-10", "KK-11", "KK-20", "KK-40"}
    in_fold = {r[0] for r in query(night, "select contract_id from intermediate.int_dirty_contracts "
                                          "where in_fold")}
    assert in_fold == {"KK-10", "KK-11", "KK-20", "KK-40"}
    # the night changed what it should: KK-20 now follows its parent's successor KK-11
    assert query(night, "select parent_contract_id from marts.cascading_edges "
                        "where child_contract_id = 'KK-20'") == [("KK-11",)]
    assert query(night, "select realisation from marts.iku_achievement "
                        "where contract_id = 'KK-20' and period = 'Q3'") == [(30.0,)]
    # a finding of an untouched KK is carried over, and equal to the rebuilt one
    assert query(night, "select count(*) from marts.audit_findings where contract_id = 'KK-50' "
                        "and rule = 'REALISATION_MISSING' and period = 'Q3'") == [(1,)]


def test_a_rerun_of_the_same_night_changes_nothing(nights, tmp_path):
    first, _ = nights
    wh = tmp_path / "wh.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    before = tmp_path / "before.duckdb"
    before.write_bytes(wh.read_bytes())
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    assert [b[1] for b in builds(wh)] == ["full", "incremental"]
    assert changed(wh, 2) == set()
    assert differing_tables(wh, before) == {}


def test_passing_a_due_date_recomputes_the_year(nights, tmp_path):
    """REALISATION_MISSING of Q3 appears on 16 October: every KK of the year is recomputed."""
    first, _ = nights
    wh, full = tmp_path / "wh.duckdb", tmp_path / "full.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 10, 14))
    build_warehouse(first, wh, date(TINY_YEAR, 10, 16))
    build_warehouse(first, full, date(TINY_YEAR, 10, 16))
    assert [b[1] for b in builds(wh)] == ["full", "incremental"]
    assert changed(wh, 2) == {"KK-10", "KK-20", "KK-30", "KK-40", "KK-50"}
    assert differing_tables(wh, full) == {}


def test_full_build_when_the_as_of_moves_back_or_a_build_did_not_finish(nights, tmp_path):
    from kinerja.build_state import prepare_build

    first, _ = nights
    wh, full = tmp_path / "wh.duckdb", tmp_path / "full.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    build_warehouse(first, wh, date(TINY_YEAR, 6, 30))
    assert builds(wh)[-1][1:] == ("full", f"the as-of date moved back ({TINY_YEAR}-11-10 -> "
                                          f"{TINY_YEAR}-06-30)", "done")
    build_warehouse(first, full, date(TINY_YEAR, 6, 30))
    assert differing_tables(wh, full) == {}

    # a build that opened its record and died (killed dbt) makes the next one full
    prepare_build(wh, date(TINY_YEAR, 6, 30))
    build_warehouse(first, wh, date(TINY_YEAR, 6, 30))
    assert builds(wh)[-1][1:] == ("full", "build 3 did not finish (running)", "done")
    assert differing_tables(wh, full) == {}


def test_changed_models_force_a_full_build(nights, tmp_path, monkeypatch):
    import kinerja.build_state as build_state

    first, _ = nights
    wh = tmp_path / "wh.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    monkeypatch.setattr(build_state, "code_fingerprint", lambda: "another version of the models")
    plan = build_state.prepare_build(wh, date(TINY_YEAR, 11, 10))
    assert (plan.mode, plan.reason) == ("full", "the dbt models changed since the last build")
    # the full build dropped the dbt schemas, so no stale table of the old models survives
    assert query(wh, "select count(*) from information_schema.tables "
                     "where table_schema in ('intermediate', 'marts')") == [(0,)]


def test_code_fingerprint_follows_the_model_files(tmp_path):
    from kinerja.build_state import code_fingerprint
    from kinerja.paths import DBT_PROJECT_DIR

    project = tmp_path / "dbt"
    for sub in ("models", "macros", "seeds", "tests"):
        (project / sub).mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models" / "a.sql").write_text("select 1")
    before = code_fingerprint(project)
    assert code_fingerprint(project) == before
    (project / "models" / "a.sql").write_text("select 2")
    assert code_fingerprint(project) != before
    assert len(code_fingerprint(DBT_PROJECT_DIR)) == 64


def test_a_full_build_gets_memory_for_every_year_of_the_store(monkeypatch):
    """A five-year full build ran out of memory at the one-year limit (3 GB): a full build gets
    3 GB per year of contracts, capped at 3/4 of RAM; an incremental one keeps 3 GB; the
    environment's KINERJA_DBT_MEMORY_LIMIT wins."""
    import os

    from kinerja.build_state import dbt_memory_limit

    monkeypatch.delenv("KINERJA_DBT_MEMORY_LIMIT", raising=False)
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    con = duckdb.connect()
    assert dbt_memory_limit(con, "full") == "3GB"  # no store yet
    con.execute("create schema raw")
    con.execute("create table raw.contract_events as "
                "select 2022 + (i % 5) as year from range(100) t(i)")
    assert dbt_memory_limit(con, "incremental") == "3GB"
    assert dbt_memory_limit(con, "full") == f"{min(15, int(ram_gb * 0.75))}GB"
    con.execute("delete from raw.contract_events where year < 2026")
    assert dbt_memory_limit(con, "full") == "3GB"
    monkeypatch.setenv("KINERJA_DBT_MEMORY_LIMIT", "5GB")
    assert dbt_memory_limit(con, "full") == "5GB"


def test_a_night_tests_the_new_raw_rows_against_the_whole_store(nights, tmp_path):
    """The raw tables' tests of an incremental build read only the rows ingested since the last
    build, yet a new row that repeats an old report_id still fails `unique` (here written into
    the store by hand: ingestion itself quarantines a conflicting duplicate)."""
    from kinerja.batch import BatchFailed

    first, _ = nights
    wh = tmp_path / "wh.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    with duckdb.connect(str(wh)) as con:
        con.execute("insert into raw.realisations select * replace (now()::timestamp as ingested_at)"
                    " from raw.realisations where report_id = 'RP-KK-40-Q1'")
    with pytest.raises(BatchFailed, match="source_unique_raw_realisations_report_id"):
        build_warehouse(first, wh, date(TINY_YEAR, 11, 11))
    assert builds(wh)[-1][1:] == ("incremental", None, "failed")


def test_a_night_reuses_the_project_dbt_parsed_for_the_last_build(nights, tmp_path, monkeypatch):
    """The as-of date reaches dbt in the environment, not as a dbt var: a night with a new as-of
    does not make dbt parse the project again."""
    from kinerja.paths import dbt_work_dir

    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt says it skipped parsing at debug level
    first, _ = nights
    wh = tmp_path / "wh.duckdb"
    build_warehouse(first, wh, date(TINY_YEAR, 11, 10))
    build_warehouse(first, wh, date(TINY_YEAR, 11, 11))
    night_log = (dbt_work_dir(wh) / "logs" / "dbt.log").read_text().split("Running with dbt=")[-1]
    assert "no changes found, skipping parsing" in night_log
    assert "Unable to do partial parsing" not in night_log


def test_a_kk_with_events_of_two_years_makes_the_cascading_reads_join_by_contract(nights, tmp_path):
    """A night reads the cascading inputs of the changed years by their `year` column only while
    every KK's events name one year (int_dirty_contracts.one_year_per_contract); an addendum that
    names another year than its KK's (bad data the landing zone allows) makes it use the
    contracts, and the night still equals a full rebuild."""
    import shutil

    first, second = nights
    third = tmp_path / "landing3"
    shutil.copytree(second, third)
    write_feed(third, "contract_events", [
        addendum_event("EV-31", "KK-30", year=TINY_YEAR - 1, effective_period="Q4",
                       effective_date=date(TINY_YEAR - 1, 10, 1),
                       signed_date=date(TINY_YEAR - 1, 10, 2), recorded_at=f"{TINY_YEAR}-11-11T09:00",
                       lines=[line("IKU-30", consolidation="average", parent_iku_code="IKU-20",
                                   cascade_type="indirect", **_trajectory(5, 5, 5, 6, 6))]),
    ], name="ce_03.parquet")
    night, full = tmp_path / "night.duckdb", tmp_path / "full.duckdb"
    build_warehouse(first, night, date(TINY_YEAR, 11, 10))
    build_warehouse(third, night, date(TINY_YEAR, 11, 11))
    build_warehouse(third, full, date(TINY_YEAR, 11, 11))
    assert [b[1] for b in builds(night)] == ["full", "incremental"]
    assert query(night, "select distinct one_year_per_contract "
                        "from intermediate.int_dirty_contracts") == [(False,)]
    assert "KK-30" in changed(night, 2)
    assert differing_tables(night, full) == {}
