"""The Great Expectations checkpoint (expectations/): real GE runs on small DuckDB warehouses.

Most tests use a hand-built warehouse with every public table (WAREHOUSE.md columns) holding a
few healthy rows, then break one thing in a copy and expect the checkpoint to name it. One test
runs on the fully built tiny warehouse (ingest + dbt) to prove a real night passes.
"""
from __future__ import annotations

import pickle
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from expectations.checkpoint import default_docs_dir, run_checks
from expectations.suites import ALL_SUITES
from ingestion.schema import INGEST_DDL

AS_OF = date(2026, 12, 31)

MARTS_DDL = (
    "create schema if not exists marts",
    """create table marts.contract_lines (year integer, contract_id varchar, position_id varchar,
        unit_id varchar, iku_code varchar, iku_name varchar, ss_code varchar, perspective varchar,
        polarity varchar, consolidation varchar, progress boolean, aspect varchar,
        unit_of_measure varchar, weight double, tolerance double, target_is_max boolean,
        target_q1 double, target_q2 double, target_q3 double, target_q4 double, target_y double,
        parent_iku_code varchar, cascade_type varchar, version integer, last_event_id varchar)""",
    """create table marts.responsibility (year integer, contract_id varchar, position_id varchar,
        holder_nip varchar, role varchar, from_date date, to_date date, from_quarter integer,
        to_quarter integer, event_id varchar)""",
    """create table marts.iku_achievement (year integer, contract_id varchar, position_id varchar,
        unit_id varchar, holder_nip varchar, iku_code varchar, iku_name varchar,
        perspective varchar, polarity varchar, consolidation varchar, weight double,
        period varchar, target double, realisation double, ici double, colour varchar)""",
    """create table marts.nko (year integer, contract_id varchar, position_id varchar,
        unit_id varchar, is_unit_head boolean, period varchar, nko double, grade varchar,
        iku_scored integer)""",
    """create table marts.komplemen_targets (year integer, contract_id varchar,
        replaces_contract_id varchar, iku_code varchar, handover_quarter integer, r_prev double,
        period varchar, computed_target double, declared_target double, effective_target double)""",
    """create table marts.cascading_edges (year integer, parent_contract_id varchar,
        parent_iku_code varchar, child_contract_id varchar, child_iku_code varchar,
        cascade_type varchar, parent_unit_id varchar, child_unit_id varchar)""",
    """create table marts.audit_findings (finding_id varchar, rule varchar, severity varchar,
        year integer, contract_id varchar, iku_code varchar, period varchar, event_id varchar,
        detail varchar)""",
)

PERIODS = ("Q1", "Q2", "S1", "Q3", "SDQ3", "Q4", "Y")
NIP_A, NIP_B = "198001012005011001", "199002022015022002"


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    """A consistent little ministry: root unit U0 headed by KK-0, unit U1 headed by KK-1 whose
    holder hands over to a komplemen KK-2 in Q3; one IKU line per KK, fully reported."""
    ts = "timestamp '2026-12-31 01:00:00'"
    con.execute(f"""insert into ingest.ledger values
        ('contract_events', 'contract_events/a.parquet', 'aa', 300, 3, 296, 1, 'ingested', {ts}),
        ('realisations', 'realisations/a.parquet', 'bb', 9, 8, 1, 0, 'ingested', {ts}),
        ('units', 'units/a.parquet', 'cc', 2, 2, 0, 0, 'ingested', {ts})""")
    con.execute(f"""insert into ingest.quarantine values
        ('contract_events', 'contract_events/a.parquet', 3, 'E-bad', 'invalid_nip', '{{}}', {ts})""")
    con.execute(f"""insert into raw.units (unit_id, parent_unit_id, name, level, valid_from,
            source_file, source_row, ingested_at) values
        ('U0', null, 'Ministry', 0, date '2020-01-01', 'units/a.parquet', 0, {ts}),
        ('U1', 'U0', 'Directorate', 1, date '2020-01-01', 'units/a.parquet', 1, {ts})""")
    for i, (eid, etype, kk) in enumerate((("E-0", "signed", "KK-0"), ("E-1", "signed", "KK-1"),
                                          ("E-2", "komplemen", "KK-2"))):
        con.execute(f"""insert into raw.contract_events (event_id, event_type, contract_id, year,
                recorded_at, source_file, source_row, ingested_at)
            values ('{eid}', '{etype}', '{kk}', 2026, {ts}, 'contract_events/a.parquet', {i}, {ts})""")
    for i in range(8):
        con.execute(f"""insert into raw.realisations (report_id, contract_id, iku_code, quarter,
                value, reported_at, source_file, source_row, ingested_at)
            values ('R-{i}', 'KK-{i % 3}', 'IKU-1', 'Q{i % 4 + 1}', 90, {ts},
                    'realisations/a.parquet', {i}, {ts})""")
    for kk, unit, parent in (("KK-0", "U0", None), ("KK-1", "U1", "KK-0"), ("KK-2", "U1", "KK-0")):
        cascade = "'non_cascading', 1" if parent is None else "'direct', 1"
        con.execute(f"""insert into marts.contract_lines values (2026, '{kk}', 'P-{unit}', '{unit}',
            'IKU-1', 'Share on time', 'SS-1', 'customer', 'maximize', 'average', false, 'kualitas',
            'persen', 100, 0, false, 80, 80, 90, 90, 85,
            {'null' if parent is None else "'IKU-1'"}, {cascade}, 'E-x')""")
    con.execute(f"""insert into marts.responsibility values
        (2026, 'KK-0', 'P-U0', '{NIP_A}', 'definitive', date '2026-01-01', null, 1, null, 'E-0'),
        (2026, 'KK-1', 'P-U1', '{NIP_B}', 'definitive', date '2026-01-01', date '2026-07-14', 1, 2, 'E-1'),
        (2026, 'KK-2', 'P-U1', '{NIP_A}', 'definitive', date '2026-07-15', null, 3, null, 'E-2')""")
    for kk, unit, periods in (("KK-0", "U0", PERIODS), ("KK-1", "U1", ("Q1", "Q2", "S1")),
                              ("KK-2", "U1", ("Q3", "SDQ3", "Q4", "Y"))):
        for p in periods:
            ici, colour = (112.5, "green") if p != "Q2" else (85.0, "yellow")
            con.execute(f"""insert into marts.iku_achievement values (2026, '{kk}', 'P-{unit}',
                '{unit}', '{NIP_A}', 'IKU-1', 'Share on time', 'customer', 'maximize', 'average',
                100, '{p}', 80, 90, {ici}, '{colour}')""")
            nko, grade = (112.5, "sangat_baik") if p != "Q2" else (85.0, "kurang")
            con.execute(f"""insert into marts.nko values (2026, '{kk}', 'P-{unit}', '{unit}', true,
                '{p}', {nko}, '{grade}', 1)""")
    for p, computed in (("Q3", 90), ("SDQ3", 90), ("Q4", 90), ("Y", 90)):
        con.execute(f"""insert into marts.komplemen_targets values (2026, 'KK-2', 'KK-1', 'IKU-1',
            3, 85, '{p}', {computed}, null, {computed})""")
    con.execute("""insert into marts.cascading_edges values
        (2026, 'KK-0', 'IKU-1', 'KK-2', 'IKU-1', 'direct', 'U0', 'U1')""")
    con.execute("""insert into marts.audit_findings values
        ('F-1', 'KK_SIGNED_LATE', 'warning', 2026, 'KK-1', null, null, 'E-1', 'signed on 3 Feb'),
        ('F-2', 'TARGET_NOT_SCORABLE', 'error', 2026, 'KK-0', 'IKU-1', 'Q1', null, 'target 0')""")


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ge_healthy") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for ddl in INGEST_DDL + MARTS_DDL:
            con.execute(ddl)
        _fill(con)
    return path


def _broken(healthy: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of the healthy warehouse with `statements` applied."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(healthy, path)
    with duckdb.connect(str(path)) as con:
        for sql in statements:
            con.execute(sql)
    return path


@pytest.fixture(scope="module")
def healthy_report(healthy):
    return run_checks(healthy, AS_OF)


def test_healthy_warehouse_passes_every_suite(healthy_report):
    report = healthy_report
    assert report.blocking_failures == []
    assert report.warnings == []
    assert report.verdict == "pass"
    assert [s.name for s in report.suites] == [s.name for s in ALL_SUITES]
    assert all(s.success and s.evaluated == len(suite.rules) + 1
               for s, suite in zip(report.suites, ALL_SUITES))
    # the informational figure is reported even though it passes
    assert report.figures["quality_signals.error_findings"] == 1
    name, success, blocking = report.suites[0]
    assert (name, success, blocking) == ("ingest_ledger", True, True)
    # the Airflow DAG pickles the report between its check and publish tasks
    again = pickle.loads(pickle.dumps(report))
    assert (again.verdict, again.suites, again.docs_dir) == ("pass", report.suites, report.docs_dir)


def test_data_docs_index_names_every_suite(healthy, healthy_report):
    docs = healthy_report.docs_dir
    assert docs == default_docs_dir(healthy)
    index = (docs / "index.html").read_text()
    for suite in ALL_SUITES:
        assert suite.name in index, suite.name
        assert (docs / "expectations" / f"{suite.name}.html").is_file()
    # one validation page per suite for this run
    assert len(list((docs / "validations").rglob("*.html"))) == len(ALL_SUITES)


def test_docs_dir_is_recreated_each_run(healthy, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "stale.html").write_text("from last night")
    report = run_checks(healthy, AS_OF, docs_dir=docs)
    assert not (docs / "stale.html").exists()
    assert (docs / "index.html").is_file() and report.docs_dir == docs


def _blocking(report, suite: str) -> list[str]:
    return [f for f in report.blocking_failures if f.startswith(suite + ":")]


def test_conservation_break_blocks_and_names_the_file(healthy, tmp_path):
    wh = _broken(healthy, tmp_path, "update ingest.ledger set rows_accepted = 2 "
                                    "where file = 'contract_events/a.parquet'")
    report = run_checks(wh, AS_OF)
    assert report.verdict == "fail"
    lines = _blocking(report, "ingest_ledger")
    assert len(lines) == 1 and "rows_read != rows_accepted" in lines[0]
    assert "contract_events/a.parquet" in lines[0]
    # the raw store no longer matches the ledger either: both are named
    assert any("rows in raw.contract_events - sum of rows_accepted" in f
               for f in _blocking(report, "raw_store"))
    suite = next(s for s in report.suites if s.name == "ingest_ledger")
    assert (suite.success, suite.blocking, suite.failed) == (False, True, ("conservation_breaks",))


def test_duplicate_key_in_each_mart_blocks(healthy, tmp_path):
    wh = _broken(healthy, tmp_path,
                 "insert into marts.iku_achievement select * from marts.iku_achievement "
                 "where contract_id = 'KK-0' and period = 'Y'",
                 "insert into marts.nko select * from marts.nko where contract_id = 'KK-1' limit 1",
                 "insert into marts.contract_lines select * from marts.contract_lines limit 1",
                 "insert into marts.komplemen_targets select * from marts.komplemen_targets limit 1",
                 "insert into marts.audit_findings select * from marts.audit_findings "
                 "where finding_id = 'F-1'")
    report = run_checks(wh, AS_OF)
    for mart in ("iku_achievement", "nko", "contract_lines", "komplemen_targets", "audit_findings"):
        lines = _blocking(report, f"marts_{mart}")
        assert len(lines) == 1 and "occurring more than once" in lines[0], (mart, lines)
    assert "contract_id=KK-0, iku_code=IKU-1, period=Y, copies=2" in \
        _blocking(report, "marts_iku_achievement")[0]
    assert len(report.blocking_failures) == 5


def test_ici_out_of_range_blocks(healthy, tmp_path):
    wh = _broken(healthy, tmp_path, "update marts.iku_achievement set ici = 250 "
                                    "where contract_id = 'KK-2' and period = 'Q4'")
    report = run_checks(wh, AS_OF)
    assert report.verdict == "fail"
    [line] = report.blocking_failures
    assert line.startswith("marts_iku_achievement: rows of marts.iku_achievement with ici "
                           "outside [0, 120] = 1")
    assert "contract_id=KK-2" in line and "ici=250" in line


# Independent breaks, one per rule: injected together into one copy (a GE run costs seconds on
# this shared machine), then each must be named, and nothing else may fail.
BREAKS = {
    ("ingest_ledger", "status_outside_set"): (
        "update ingest.ledger set status = 'partial' where feed = 'units'", "status is not one of"),
    ("raw_store", "duplicate_event_ids"): (
        "insert into raw.contract_events select * from raw.contract_events where event_id = 'E-1';"
        "update ingest.ledger set rows_read = rows_read + 1, rows_accepted = rows_accepted + 1 "
        "where feed = 'contract_events'",
        "(event_id) values occurring more than once in raw.contract_events"),
    ("raw_store", "realisations_not_distinct"): (
        "insert into raw.realisations select * from raw.realisations where report_id = 'R-3';"
        "update ingest.ledger set rows_read = rows_read + 1, rows_accepted = rows_accepted + 1 "
        "where feed = 'realisations'",
        "rows in raw.realisations - distinct report_id = 1"),
    ("marts_nko", "nko_out_of_range"): (
        "update marts.nko set nko = -3 where period = 'S1' and contract_id = 'KK-0'",
        "nko outside [0, 120] = 1"),
    ("marts_nko", "grade_outside_set"): (
        "update marts.nko set grade = 'excellent' where period = 'Q1'", "grade is not one of"),
    ("marts_iku_achievement", "colour_outside_set"): (
        "update marts.iku_achievement set colour = 'blue' where period = 'Q3'",
        "colour is not one of"),
    ("marts_iku_achievement", "period_outside_set"): (
        "update marts.iku_achievement set period = 'H1' where period = 'S1'",
        "period is not one of"),
    ("marts_iku_achievement", "null_keys"): (
        "update marts.iku_achievement set iku_code = null where period = 'Y'",
        "with a null in (contract_id, iku_code, period)"),
    ("marts_audit_findings", "rule_outside_set"): (
        "update marts.audit_findings set rule = 'MADE_UP' where finding_id = 'F-2'",
        "rule=MADE_UP"),
    ("marts_audit_findings", "severity_disagrees_with_rule"): (
        "update marts.audit_findings set severity = 'error' where finding_id = 'F-1'",
        "finding_id=F-1, rule=KK_SIGNED_LATE, severity=error"),
    ("marts_responsibility", "role_outside_set"): (
        "update marts.responsibility set role = 'boss' where contract_id = 'KK-0'",
        "role is not one of"),
    ("marts_komplemen_targets", "computed_target_negative"): (
        "update marts.komplemen_targets set computed_target = -5 where period = 'Q4'",
        "negative computed remaining target"),
    ("marts_cascading_edges", "child_with_two_parents"): (
        "insert into marts.cascading_edges values (2026, 'KK-1', 'IKU-1', 'KK-2', 'IKU-1', "
        "'direct', 'U0', 'U1')", "(child_contract_id, child_iku_code) values occurring"),
}


def test_each_blocking_kind_is_named_and_nothing_else(healthy, tmp_path):
    report = run_checks(_broken(healthy, tmp_path, *(sql for sql, _ in BREAKS.values())), AS_OF)
    assert report.verdict == "fail"
    for (suite, rule), (_sql, needle) in BREAKS.items():
        lines = _blocking(report, suite)
        assert any(needle in line for line in lines), (suite, rule, lines)
    failed = {(s.name, rule) for s in report.suites for rule in s.failed}
    # a colour / grade outside its set also disagrees with its ICI / NKO: a warning, expected
    assert failed == set(BREAKS) | {("quality_signals", "colour_disagrees_with_ici"),
                                    ("quality_signals", "grade_disagrees_with_nko")}
    assert len(report.blocking_failures) == len(BREAKS)


def test_an_empty_mart_fed_by_data_blocks(healthy, tmp_path):
    """Counts of violations are all 0 on an empty table: emptiness itself must be caught."""
    wh = _broken(healthy, tmp_path, "delete from marts.iku_achievement",
                 "delete from marts.responsibility")
    report = run_checks(wh, AS_OF)
    failed = {(s.name, rule) for s in report.suites for rule in s.failed if s.blocking}
    assert failed == {("marts_iku_achievement", "empty_while_upstream_has_rows"),
                      ("marts_responsibility", "empty_while_upstream_has_rows")}
    assert "marts.iku_achievement is empty although marts.contract_lines has a line with a " \
           "target (1 = yes) = 1" in "\n".join(report.blocking_failures)
    # before any event is known (as of 2025) an empty warehouse is not a failure
    empty = _broken(healthy, tmp_path / "early", *(f"delete from marts.{t}" for t in (
        "contract_lines", "responsibility", "iku_achievement", "nko", "komplemen_targets",
        "cascading_edges", "audit_findings")))
    assert run_checks(empty, date(2025, 12, 31)).blocking_failures == []


def test_missing_table_or_column_blocks_without_crashing(healthy, tmp_path):
    wh = _broken(healthy, tmp_path, "drop table marts.nko",
                 "alter table marts.contract_lines drop column polarity")
    report = run_checks(wh, AS_OF)
    assert _blocking(report, "marts_nko") == [
        "marts_nko: cannot be checked (missing table marts.nko)"]
    [line] = _blocking(report, "marts_contract_lines")
    assert line.startswith("marts_contract_lines: cannot be checked (query of rule "
                           "polarity_outside_set failed")
    # the warning suite reads marts.nko too: it cannot be computed, and says so as a warning
    assert report.warnings == ["quality_signals: cannot be checked (missing table marts.nko)"]
    assert {(s.name, s.failed) for s in report.suites if not s.success} == {
        ("marts_nko", ("computable",)), ("marts_contract_lines", ("computable",)),
        ("quality_signals", ("computable",))}


def test_warnings_are_reported_but_do_not_block(healthy, tmp_path):
    wh = _broken(
        healthy, tmp_path,
        # a whole file rejected tonight: 6 of 316 rows now quarantined (> 1%)
        "insert into ingest.ledger values ('realisations', 'realisations/b.parquet', 'dd', 5, 0, 0,"
        " 5, 'rejected', timestamp '2026-12-31 01:00:00')",
        "insert into ingest.quarantine values ('realisations', 'realisations/b.parquet', null, "
        "null, 'truncated', null, timestamp '2026-12-31 01:00:00')",
        # a due period without ICI, a unit nobody heads, a colour that disagrees with its ICI
        "update marts.iku_achievement set ici = null, colour = null where period = 'Q1'",
        "insert into raw.units (unit_id, parent_unit_id, name, level, valid_from) values "
        "('U9', 'U0', 'New office', 1, date '2026-06-01')",
        "update ingest.ledger set rows_read = 3, rows_accepted = 3 where feed = 'units'",
        "update marts.iku_achievement set colour = 'yellow' where period = 'Y' and contract_id = 'KK-0'",
    )
    report = run_checks(wh, AS_OF)
    assert report.blocking_failures == []
    assert report.verdict == "warn"
    text = "\n".join(report.warnings)
    for needle in ("share of landing rows quarantined", "files rejected whole by the latest ingest "
                   "run that wrote the ledger = 1", "realisations/b.parquet", "have no ICI", "unit_id=U9",
                   "colour is not the one their ICI gives"):
        assert needle in text, needle
    signals = next(s for s in report.suites if s.name == "quality_signals")
    assert (signals.success, signals.blocking) == (False, False)
    assert set(signals.failed) == {"quarantined_share", "files_rejected_last_run",
                                   "null_ici_share_due", "units_without_head_kk",
                                   "colour_disagrees_with_ici"}


def test_stale_or_undue_signals_are_not_warnings(healthy, tmp_path):
    """Mid-year, Q4 and Y have targets but no reports yet: not a warning. Nor is a file rejected
    by an earlier ingest run than the latest one."""
    wh = _broken(healthy, tmp_path,
                 "update marts.iku_achievement set ici = null, colour = null "
                 "where period in ('Q4', 'Y')",
                 "insert into ingest.ledger values ('units', 'units/old.parquet', 'ee', 1, 0, 0, 1, "
                 "'rejected', timestamp '2026-12-30 01:00:00')",
                 "insert into ingest.quarantine values ('units', 'units/old.parquet', null, null, "
                 "'truncated', null, timestamp '2026-12-30 01:00:00')")
    assert run_checks(wh, date(2026, 11, 30)).warnings == []
    late = run_checks(wh, date(2027, 1, 16))
    assert any("have no ICI" in w for w in late.warnings)


def test_failure_pages_show_in_data_docs(healthy, tmp_path):
    wh = _broken(healthy, tmp_path, "update marts.iku_achievement set ici = 250 where period = 'Y'")
    report = run_checks(wh, AS_OF)
    pages = list((report.docs_dir / "validations" / "marts_iku_achievement").rglob("*.html"))
    assert len(pages) == 1
    text = re.sub(r"<[^>]+>", " ", pages[0].read_text())
    assert "Failed" in text and "ici outside [0, 120]" in text


@pytest.mark.slow
def test_built_worked_examples_pass(example_warehouse, tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(example_warehouse, wh)
    report = run_checks(wh, date(2026, 12, 31))
    assert report.blocking_failures == [], report.blocking_failures


@pytest.mark.slow
def test_built_tiny_warehouse_passes(tiny_warehouse, tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(tiny_warehouse, wh)  # the session fixture is shared: keep the docs out of it
    report = run_checks(wh, date(2026, 12, 31))
    assert report.blocking_failures == [], report.blocking_failures
    assert report.verdict in ("pass", "warn")
    assert (report.docs_dir / "index.html").is_file()


def test_data_quality_doc_lists_the_catalogue_of_the_code():
    """docs/DATA_QUALITY.md carries the generated catalogue; regenerate it when a rule changes."""
    from expectations.catalogue import BEGIN, END, catalogue

    doc = (Path(__file__).resolve().parent.parent / "docs" / "DATA_QUALITY.md").read_text()
    embedded = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert embedded == catalogue().strip(), "run: python -m expectations.catalogue"


def test_unreadable_warehouse_is_a_blocking_failure_not_a_crash(tmp_path):
    missing = run_checks(tmp_path / "nope.duckdb", AS_OF)
    assert missing.verdict == "fail" and missing.docs_dir is None
    assert missing.blocking_failures == [f"warehouse {tmp_path / 'nope.duckdb'} does not exist"]
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database" * 1000)
    [line] = run_checks(garbage, AS_OF).blocking_failures
    assert line.startswith(f"cannot read warehouse {garbage}: ")


def test_preload_imports_great_expectations_once_in_the_background(healthy, tmp_path):
    """kinerja.batch may call preload() early; run_checks then waits for that import."""
    import sys

    from expectations import gx_run

    first = gx_run.preload()
    assert gx_run.preload() is first and first.daemon
    report = run_checks(healthy, AS_OF, docs_dir=tmp_path / "docs")
    assert not first.is_alive() and "great_expectations" in sys.modules
    assert report.blocking_failures == [] and (tmp_path / "docs" / "index.html").is_file()
