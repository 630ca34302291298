"""Nightly checks over the changed rows (expectations/scope.py): a night's figures must equal the
whole tables' figures, a violation in a rewritten contract must still block, and anything the
record cannot vouch for (a full build, a figure that was not 0, an old whole check) is computed
over the whole table."""
from __future__ import annotations

from datetime import date

import duckdb
import pytest

from expectations.checkpoint import run_checks
from expectations.scope import scopable
from expectations.suites import ALL_SUITES
from expectations.summary import column
from tests.conftest import TINY_YEAR, build_warehouse, query
from tests.test_incremental import nights  # noqa: F401 - the fixture: two nights of a small ministry

pytestmark = pytest.mark.slow

NIGHT1, NIGHT2 = date(TINY_YEAR, 11, 10), date(TINY_YEAR, 11, 11)


def scopable_columns() -> set[str]:
    return {column(s, r.name) for s in ALL_SUITES for r in s.rules if scopable(r)}


def checks(warehouse) -> list[tuple]:
    return query(warehouse, "select check_id, build_id, scope, since_check_id, changed_contracts, "
                            "verdict from build.checks order by check_id")


@pytest.fixture()
def second_night(nights, tmp_path):  # noqa: F811
    """Night 1 built and checked (whole: nothing recorded yet), night 2 built (incremental)."""
    first, second = nights
    wh = tmp_path / "wh.duckdb"
    build_warehouse(first, wh, NIGHT1)
    report = run_checks(wh, NIGHT1, docs_dir=tmp_path / "docs1", changed_only=True)
    assert report.verdict in ("pass", "warn") and report.scope["scope"] == "whole"
    assert report.scope["reason"] == "no earlier check is recorded"
    build_warehouse(second, wh, NIGHT2)
    return wh


def test_every_per_row_rule_of_the_marts_and_raw_store_can_be_scoped():
    per_row = {column(s, r.name) for s in ALL_SUITES for r in s.rules if r.per_row
               and r.tables[0].split(".")[0] in ("marts", "raw") and r.tables[0] != "raw.units"}
    assert per_row and per_row <= scopable_columns()
    # every mart suite's key rules are among them
    assert {f"marts_{t}.null_keys" for t in ("iku_achievement", "nko", "contract_lines")} \
        <= scopable_columns()


def test_a_night_reads_its_changed_rows_and_gets_the_whole_figures(second_night, tmp_path):
    night = run_checks(second_night, NIGHT2, docs_dir=tmp_path / "n", changed_only=True)
    assert night.scope["scope"] == "changed"
    # every scopable rule was 0 on night 1, so every one is computed over the changed rows
    assert night.scope["rules_over_changed_rows"] == len(scopable_columns())
    whole = run_checks(second_night, NIGHT2, docs_dir=tmp_path / "w")
    assert whole.scope["scope"] == "whole"
    assert night.figures == whole.figures
    assert night.verdict == whole.verdict
    # the night's record builds on night 1's check; the 4 KKs night 2 rewrote (test_incremental)
    assert checks(second_night) == [(1, 1, "whole", None, None, night.verdict),
                                    (2, 2, "changed", 1, 4, night.verdict),
                                    (3, 2, "whole", None, None, whole.verdict)]


def test_a_duplicate_in_a_rewritten_contract_blocks(second_night, tmp_path):
    # marts.iku_achievement is a view of intermediate.int_iku_periods: the copy goes there
    with duckdb.connect(str(second_night)) as con:  # KK-40 got an addendum on night 2
        con.execute("insert into intermediate.int_iku_periods select * from "
                    "intermediate.int_iku_periods where contract_id = 'KK-40' and period = 'Q4'")
    report = run_checks(second_night, NIGHT2, docs_dir=tmp_path / "d", changed_only=True)
    assert report.scope["scope"] == "changed"
    assert report.figures["marts_iku_achievement.duplicate_keys"] == 1
    assert any(line.startswith("marts_iku_achievement: (contract_id, iku_code, period) values "
                               "occurring more than once") for line in report.blocking_failures)

    # the figure recorded was 1: the next check computes that rule over the whole table (and
    # finds the repair made by hand); every other scopable rule still reads the changed rows
    with duckdb.connect(str(second_night)) as con:
        con.execute("create table t as select distinct * from intermediate.int_iku_periods")
        con.execute("delete from intermediate.int_iku_periods")
        con.execute("insert into intermediate.int_iku_periods select * from t")
    again = run_checks(second_night, NIGHT2, docs_dir=tmp_path / "e", changed_only=True)
    assert again.figures["marts_iku_achievement.duplicate_keys"] == 0
    assert again.scope["rules_over_changed_rows"] == len(scopable_columns()) - 1
    assert not again.blocking_failures


def test_whole_when_asked_after_a_full_build_or_an_old_whole_check(second_night, tmp_path,
                                                                   monkeypatch, nights):  # noqa: F811
    monkeypatch.setenv("KINERJA_WHOLE_CHECK", "1")
    assert run_checks(second_night, NIGHT2, docs_dir=tmp_path / "a",
                      changed_only=True).scope["reason"] == "KINERJA_WHOLE_CHECK is set"
    monkeypatch.delenv("KINERJA_WHOLE_CHECK")
    # a whole check a week ago is too old: whatever wrote around dbt since is found
    with duckdb.connect(str(second_night)) as con:
        con.execute("update build.checks set checked_at = checked_at - interval 8 days")
    assert run_checks(second_night, NIGHT2, docs_dir=tmp_path / "b",
                      changed_only=True).scope["reason"].startswith("the last whole check is older")
    # a full build since the last check: every row may have changed
    monkeypatch.setenv("KINERJA_FULL_BUILD", "1")
    build_warehouse(nights[1], second_night, NIGHT2)
    report = run_checks(second_night, NIGHT2, docs_dir=tmp_path / "c", changed_only=True)
    assert report.scope["scope"] == "whole" and "was full" in report.scope["reason"]
