"""The event fold built for real (ingestion + dbt on DuckDB) from small landing zones."""
from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import build_warehouse, query
from tests.landing_factory import (
    ACTING_NIP, HOLDER_NIP, SUCCESSOR_NIP, addendum_event, komplemen_event, line, plt_event,
    report, signed_event, unit, write_feed,
)


def _trajectory(q1, q2, q3, q4, y, **fields):
    return dict(target_q1=q1, target_q2=q2, target_q3=q3, target_q4=q4, target_y=y, **fields)


@pytest.fixture(scope="module")
def fold_landing(tmp_path_factory):
    landing = tmp_path_factory.mktemp("fold") / "landing"
    write_feed(landing, "units", [unit("ROOT", None, 0), unit("UNIT-01", "ROOT", 1),
                                  unit("UNIT-02", "UNIT-01", 2)])
    events = [
        # KK-1: an addendum recorded 25 June raises Q3-Q4 from Q3 on and tries to change Q1
        signed_event("EV-1", "KK-1", lines=[
            line("IKU-01", consolidation="sum", **_trajectory(10, 20, 30, 40, 100)),
        ]),
        addendum_event("EV-2", "KK-1", effective_period="Q3", recorded_at="2026-06-25T09:00",
                       lines=[line("IKU-01", consolidation="sum", **_trajectory(99, 20, 35, 45, 110))]),
        # KK-1 gets a Plt from 2 May (Q2) who hands back on 3 August (Q3)
        plt_event("EV-3", "KK-1", effective_date="2026-05-02", recorded_at="2026-05-02T09:00"),
        plt_event("EV-4", "KK-1", holder_nip=HOLDER_NIP, reason="return",
                  effective_date="2026-08-03", recorded_at="2026-08-03T09:00"),
        # KK-10 (Eselon II head) is replaced by a komplemen KK-11 from 1 April (h = 2); a staff KK
        # cascading from KK-10 must resolve to KK-11
        signed_event("EV-10", "KK-10", position_id="POS-10", unit_id="UNIT-02", position_level=2,
                     parent_contract_id="KK-1",
                     lines=[line("IKU-10", consolidation="sum", **_trajectory(10, 20, 25, 35, 90))]),
        komplemen_event("EV-11", "KK-11", replaces_contract_id="KK-10", position_id="POS-10",
                        unit_id="UNIT-02", position_level=2, parent_contract_id="KK-1",
                        effective_date="2026-04-01", signed_date="2026-04-10",
                        recorded_at="2026-04-10T09:00",
                        lines=[line("IKU-10", consolidation="sum",
                                    **_trajectory(None, None, None, None, None))]),
        signed_event("EV-20", "KK-20", position_id="POS-20", unit_id="UNIT-02", position_level=3,
                     is_unit_head=False, parent_contract_id="KK-10",
                     lines=[line("IKU-20", consolidation="sum", parent_iku_code="IKU-10",
                                 cascade_type="direct", **_trajectory(10, 20, 25, 35, 90))]),
    ]
    write_feed(landing, "contract_events", events)
    write_feed(landing, "realisations", [
        report("RP-10-Q1", "KK-10", "IKU-10", "Q1", 18.0, reported_at="2026-04-05T09:00"),
    ])
    return landing


@pytest.fixture(scope="module")
def fold_warehouse(fold_landing, tmp_path_factory):
    wh = tmp_path_factory.mktemp("fold_wh") / "warehouse.duckdb"
    return build_warehouse(fold_landing, wh, date(2026, 12, 31))


def _line_state(wh, contract_id, iku_code):
    return query(wh, """
        select version, last_event_id, target_q1, target_q2, target_q3, target_q4, target_y
        from marts.contract_lines where contract_id = ? and iku_code = ?""", [contract_id, iku_code])


def test_addendum_applies_from_its_quarter_and_never_revises_the_past(fold_warehouse):
    # Q1 keeps the signed 10 although the addendum line says 99
    assert _line_state(fold_warehouse, "KK-1", "IKU-01") == [(2, "EV-2", 10.0, 20.0, 35.0, 45.0, 110.0)]


def test_as_of_before_and_after_the_addendum_was_recorded(fold_landing, tmp_path):
    wh = tmp_path / "asof.duckdb"
    build_warehouse(fold_landing, wh, date(2026, 6, 25))
    assert _line_state(wh, "KK-1", "IKU-01") == [(2, "EV-2", 10.0, 20.0, 35.0, 45.0, 110.0)]
    # rebuilding with the earlier date reproduces the earlier night
    build_warehouse(fold_landing, wh, date(2026, 6, 24))
    assert _line_state(wh, "KK-1", "IKU-01") == [(1, "EV-1", 10.0, 20.0, 30.0, 40.0, 100.0)]


def test_plt_transfer_moves_accountability_by_quarter(fold_warehouse):
    rows = query(fold_warehouse, """
        select holder_nip, role, from_date, to_date, from_quarter, to_quarter, event_id
        from marts.responsibility where contract_id = 'KK-1' order by from_date""")
    assert rows == [
        (HOLDER_NIP, "definitive", date(2026, 1, 1), date(2026, 5, 1), 1, 1, "EV-1"),
        (ACTING_NIP, "acting", date(2026, 5, 2), date(2026, 8, 2), 2, 2, "EV-3"),
        (HOLDER_NIP, "definitive", date(2026, 8, 3), None, 3, None, "EV-4"),
    ]


def test_komplemen_closes_the_predecessor_and_computes_remaining_targets(fold_warehouse):
    assert query(fold_warehouse, """
        select holder_nip, to_date, to_quarter from marts.responsibility
        where contract_id = 'KK-10'""") == [(HOLDER_NIP, date(2026, 3, 31), 1)]
    assert query(fold_warehouse, """
        select holder_nip, from_quarter from marts.responsibility
        where contract_id = 'KK-11'""") == [(SUCCESSOR_NIP, 2)]
    # sum, h = 2: R_prev 18 over C = 10 takes 8 off Q2; Y = 90 - 18
    assert _line_state(fold_warehouse, "KK-11", "IKU-10") == [(1, "EV-11", None, 12.0, 25.0, 35.0, 72.0)]
    periods = query(fold_warehouse, """
        select period, computed_target from marts.komplemen_targets
        where contract_id = 'KK-11' order by period""")
    assert dict(periods) == {"Q2": 12.0, "S1": 12.0, "Q3": 25.0, "SDQ3": 37.0, "Q4": 35.0, "Y": 72.0}


def test_cascading_parent_resolves_to_the_komplemen_successor(fold_warehouse):
    assert query(fold_warehouse, """
        select parent_contract_id, parent_iku_code, child_contract_id, child_iku_code, cascade_type,
               parent_unit_id, child_unit_id
        from marts.cascading_edges where child_contract_id = 'KK-20'""") == [
        ("KK-11", "IKU-10", "KK-20", "IKU-20", "direct", "UNIT-02", "UNIT-02")]


def test_every_target_names_the_event_that_set_it(fold_warehouse):
    rows = query(fold_warehouse, """
        select period, target, target_event_id from marts.target_lineage
        where contract_id = 'KK-1' and iku_code = 'IKU-01' order by period""")
    assert rows == [("Q1", 10.0, "EV-1"), ("Q2", 20.0, "EV-1"), ("Q3", 35.0, "EV-2"),
                    ("Q4", 45.0, "EV-2"), ("Y", 110.0, "EV-2")]
