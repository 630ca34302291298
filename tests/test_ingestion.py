"""Landing-zone ingestion (EVENTS.md): the worked examples, every quarantine reason, duplicates,
whole-file rejects, refused paths, idempotent reruns and conservation on every ledger row."""
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.ingest import ingest_landing
from tests.conftest import EXAMPLE_LANDING
from tests.ingestion_helpers import (ingest, ledger, quarantine, raw_ids, reasons, rows,
                                     snapshot)
from tests.landing_factory import (HOLDER_NIP, addendum_event, komplemen_event, line,
                                   minimal_landing, plt_event, remove_line, report,
                                   signed_event, to_table, unit, write_bytes, write_feed,
                                   write_table)


@pytest.fixture
def landing(tmp_path):
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def wh(tmp_path):
    return tmp_path / "wh" / "warehouse.duckdb"


# --- the worked examples ----------------------------------------------------------------------

def test_example_landing_ingests_without_quarantine(wh):
    messages = []
    counts = ingest(EXAMPLE_LANDING, wh, messages)
    assert counts["rows_quarantined"] == 0
    assert counts["files_new"] == 3 and counts["files_rejected"] == 0
    assert (counts["rows_read"], counts["rows_accepted"]) == (38, 38)
    assert len(raw_ids(wh, "contract_events")) == 4
    assert len(raw_ids(wh, "realisations")) == 26
    assert len(raw_ids(wh, "units")) == 8
    assert {e["status"] for e in ledger(wh)} == {"ingested"}
    assert [m.split(":")[0] for m in messages] == [
        "contract_events contract_events/ce_01_events.parquet",
        "realisations realisations/re_01_reports.parquet",
        "units units/un_01_tree.parquet",
    ]
    # the example files lack lines.target_is_max: stored with the canonical struct anyway
    (typ,) = rows(wh, "select data_type from information_schema.columns where "
                      "table_schema = 'raw' and table_name = 'contract_events' "
                      "and column_name = 'lines'")[0]
    assert "target_is_max BOOLEAN" in typ
    assert rows(wh, "select count(*) from raw.contract_events, unnest(lines) as u(l) "
                    "where l.target_is_max is not null") == [(0,)]


def test_rerun_changes_nothing(landing, wh):
    minimal_landing(landing)
    write_feed(landing, "realisations", [report("RP-9", value=float("nan")),
                                         report("RP-1")], name="z_more.parquet")
    write_bytes(landing, "units", "broken.parquet", b"not a parquet file")
    first = ingest(landing, wh)
    before = snapshot(wh)
    second = ingest(landing, wh)
    assert snapshot(wh) == before
    assert first["files_new"] == 5 and first["rows_duplicate"] == 1
    assert second == {**second, "files_seen": 5, "files_new": 0, "files_skipped": 5,
                      "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0}


# --- row reasons ------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
ROW_CASES = {
    "required field null": (
        "contract_events", signed_event(holder_nip=None), "missing_required_field: holder_nip"),
    "required field blank": (
        "contract_events", signed_event(contract_id="  "), "missing_required_field: contract_id"),
    "bad event_type": (
        "contract_events", {**signed_event(), "event_type": "foo"},
        "invalid_value: event_type 'foo' not in (signed, addendum, komplemen, plt_transfer)"),
    "short supervisor nip": (
        "contract_events", signed_event(supervisor_nip="123"),
        "malformed_nip: supervisor_nip '123' is not 18 digits"),
    "holder nip with letters": (
        "contract_events", signed_event(holder_nip="19700101199503100X"),
        "malformed_nip: holder_nip '19700101199503100X' is not 18 digits"),
    "year 1999": ("contract_events", signed_event(year=1999),
                  "year_out_of_range: 1999 not in 2000..2100"),
    "year 2101": ("contract_events", signed_event(year=2101),
                  "year_out_of_range: 2101 not in 2000..2100"),
    "position level 6": ("contract_events", signed_event(position_level=6),
                         "invalid_value: position_level 6 not in 0..5"),
    "nan target": ("contract_events",
                   signed_event(lines=[line("A", weight=50.0), line("B", weight=50.0),
                                       line("C", target_q3=NAN)]),
                   "non_finite_number: lines[2].target_q3 nan"),
    "infinite weight": ("contract_events", signed_event(lines=[line("A", weight=INF)]),
                        "non_finite_number: lines[0].weight inf"),
    "empty lines signed": ("contract_events", signed_event(lines=[]),
                           "empty_lines: a signed event needs at least one IKU line"),
    "empty lines komplemen": ("contract_events", komplemen_event(lines=[]),
                              "empty_lines: a komplemen event needs at least one IKU line"),
    "null lines": ("contract_events", plt_event(lines=None), "missing_required_field: lines"),
    "repeated iku": ("contract_events",
                     signed_event(lines=[line("IKU-01", weight=50.0), line("IKU-01", weight=50.0)]),
                     "duplicate_iku_code: IKU-01"),
    "addendum dated last year": (
        "contract_events", addendum_event(effective_date="2025-12-30"),
        "effective_date_outside_year: 2025-12-30 not in 2026"),
    "plt dated next year": (
        "contract_events", plt_event(effective_date="2027-01-02"),
        "effective_date_outside_year: 2027-01-02 not in 2026"),
    "line without iku_code": ("contract_events", signed_event(lines=[line("A"), line(None)]),
                              "missing_required_field: lines[1].iku_code"),
    "null line": ("contract_events", signed_event(lines=[line("A"), None]),
                  "missing_required_field: lines[1]"),
    **{f"upsert without {f}": (
        "contract_events", signed_event(lines=[line("A", **{f: None})]),
        f"missing_required_field: lines[0].{f} (required in an upsert line)")
       for f in ("perspective", "polarity", "consolidation", "weight")},
    "bad op": ("contract_events", addendum_event(lines=[line("A", op="delete")]),
               "invalid_value: lines[0].op 'delete' not in (upsert, remove)"),
    "remove in signed": (
        "contract_events", signed_event(lines=[line("A"), remove_line("B")]),
        "invalid_value: lines[1].op 'remove' is only allowed in an addendum, not in a signed"),
    **{f"bad {f}": (
        "contract_events", signed_event(lines=[line("A", **{f: "weird"})]),
        f"invalid_value: lines[0].{f} 'weird' not in ({allowed})")
       for f, allowed in (
           ("perspective", "stakeholder, customer, internal_process, learning_growth"),
           ("polarity", "maximize, minimize, stabilize"),
           ("consolidation", "sum, average, take_last_known"),
           ("aspect", "kuantitas, kualitas, waktu, biaya"),
           ("cascade_type", "direct, indirect, non_cascading"))},
    "komplemen without predecessor": (
        "contract_events", komplemen_event(replaces_contract_id=None),
        "missing_required_field: replaces_contract_id (required for komplemen)"),
    "addendum without period": (
        "contract_events", addendum_event(effective_period=None),
        "missing_required_field: effective_period (required for addendum)"),
    "addendum period Q5": (
        "contract_events", addendum_event(effective_period="Q5"),
        "invalid_value: effective_period 'Q5' not in (Q1, Q2, Q3, Q4)"),
    "signed without signed_date": (
        "contract_events", signed_event(signed_date=None),
        "missing_required_field: signed_date (required for signed)"),
    "reason of another type": (
        "contract_events", signed_event(reason="mutation"),
        "invalid_value: reason 'mutation' not valid for signed "
        "(annual, returning, transfer_in, new_cpns)"),
    "missing recorded_at": ("contract_events", signed_event(recorded_at=None),
                            "missing_required_field: recorded_at"),
    "report quarter Q5": ("realisations", report(quarter="Q5"),
                          "invalid_value: quarter 'Q5' not in (Q1, Q2, Q3, Q4)"),
    "report value nan": ("realisations", report(value=NAN), "non_finite_number: value nan"),
    "report value -inf": ("realisations", report(value=-INF), "non_finite_number: value -inf"),
    "report value null": ("realisations", report(value=None),
                          "missing_required_field: value"),
    "reporter nip": ("realisations", report(reporter_nip="1234"),
                     "malformed_nip: reporter_nip '1234' is not 18 digits"),
    "report without iku": ("realisations", report(iku_code=None),
                           "missing_required_field: iku_code"),
    "unit level 9": ("units", unit(level=9), "invalid_value: level 9 not in 0..5"),
    "unit without name": ("units", unit(name=None), "missing_required_field: name"),
    "unit without valid_from": ("units", unit(valid_from=None),
                                "missing_required_field: valid_from"),
}


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_row_quarantined_with_reason(landing, wh, case):
    feed, bad_row, expected = ROW_CASES[case]
    good_row = {"contract_events": signed_event("EV-OK", "KK-OK"),
                "realisations": report("RP-OK"), "units": unit("UNIT-OK")}[feed]
    write_feed(landing, feed, [good_row, bad_row])
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_quarantined"]) == (1, 1)
    assert [(q[1], q[3]) for q in quarantine(wh)] == [(1, expected)]
    (raw,) = rows(wh, "select raw from ingest.quarantine")[0]
    assert json.loads(raw.replace("NaN", "null").replace("-Infinity", "null")
                      .replace("Infinity", "null"))  # the whole row is kept


ACCEPTED_CASES = {
    "signed dated in the previous year": signed_event(effective_date="2025-12-20"),
    "plt transfer without lines or signed_date": plt_event(),
    "addendum removing a line": addendum_event(lines=[remove_line("IKU-01")]),
    "addendum with no lines": addendum_event(lines=[]),
    "negative weight is a business rule, not a format error": signed_event(
        lines=[line("A", weight=-5.0)]),
    "no supervisor (MISSING_APPROVAL is an audit finding)": signed_event(supervisor_nip=None),
    "reason absent": signed_event(reason=None),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED_CASES))
def test_interpretable_rows_are_accepted(landing, wh, case):
    write_feed(landing, "contract_events", [ACCEPTED_CASES[case]])
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_quarantined"]) == (1, 0), reasons(wh)


def test_castable_types_are_cast_per_row(landing, wh):
    table = to_table("contract_events", [
        signed_event("EV-1", year="2026", recorded_at=None),
        signed_event("EV-2", year="twenty", recorded_at=None),
        signed_event("EV-3", year="2026", recorded_at=None),
        signed_event("EV-4", year="2026.5", recorded_at=None),  # never rounded to 2027
    ], types={"year": pa.string(), "recorded_at": pa.string()})
    recorded = pa.array(["2026-01-15T09:00:00+07:00", "2026-01-15", "15/01/2026", "2026-01-15"])
    table = table.set_column(table.schema.get_field_index("recorded_at"), "recorded_at", recorded)
    write_table(landing, "contract_events", table)
    ingest(landing, wh)
    assert [(q[1], q[3]) for q in quarantine(wh)] == [
        (1, "invalid_value: year 'twenty' is not a valid integer"),
        (2, "invalid_value: recorded_at '15/01/2026' is not a valid timestamp"),
        (3, "invalid_value: year '2026.5' is not a valid integer"),
    ]
    # the +07:00 timestamp is stored as its UTC instant
    assert rows(wh, "select year, recorded_at from raw.contract_events") == [
        (2026, datetime(2026, 1, 15, 2, 0))]


def test_timestamps_are_stored_in_utc(landing, wh):
    jakarta = timezone(timedelta(hours=7))
    table = to_table("realisations", [report("RP-1", reported_at=None)])
    stamp = pa.array([datetime(2026, 4, 10, 10, 0, tzinfo=jakarta)],
                     type=pa.timestamp("us", tz="Asia/Jakarta"))
    table = table.set_column(table.schema.get_field_index("reported_at"), "reported_at", stamp)
    write_table(landing, "realisations", table)
    ingest(landing, wh)
    assert rows(wh, "select reported_at from raw.realisations") == [(datetime(2026, 4, 10, 3, 0),)]


def test_unknown_columns_and_line_fields_are_kept_in_extra(landing, wh):
    event = signed_event(batch_note="dari aplikasi e-Kinerja", **{"kolom aneh \"x\"": 7},
                         lines=[line("A", catatan="baris 1")])
    write_feed(landing, "contract_events", [event])
    ingest(landing, wh)
    (extra, lines) = rows(wh, "select extra, lines from raw.contract_events")[0]
    assert json.loads(extra) == {"batch_note": "dari aplikasi e-Kinerja", 'kolom aneh "x"': 7,
                                 "lines": [{"catatan": "baris 1"}]}
    assert "catatan" not in lines[0] and lines[0]["iku_code"] == "A"


# --- duplicates -------------------------------------------------------------------------------

def test_identical_duplicate_across_files_is_counted_not_stored(landing, wh):
    write_feed(landing, "realisations", [report("RP-1"), report("RP-2")], name="a.parquet")
    write_feed(landing, "realisations", [report("RP-2"), report("RP-3")], name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_duplicate"], counts["rows_quarantined"]) \
        == (3, 1, 0)
    assert raw_ids(wh, "realisations") == ["RP-1", "RP-2", "RP-3"]
    assert [(e["file"], e["rows_duplicate"]) for e in ledger(wh)] == [
        ("realisations/a.parquet", 0), ("realisations/b.parquet", 1)]


def test_conflicting_duplicate_across_files_is_quarantined(landing, wh):
    write_feed(landing, "realisations", [report("RP-1", value=80.0)], name="a.parquet")
    write_feed(landing, "realisations", [report("RP-1", value=95.0)], name="b.parquet")
    ingest(landing, wh)
    assert quarantine(wh) == [(
        "realisations/b.parquet", 0, "RP-1",
        "conflicting_duplicate: report_id RP-1 already accepted with different content "
        "(from realisations/a.parquet row 0)")]
    assert rows(wh, "select value from raw.realisations") == [(80.0,)]  # the first one wins


def test_negative_zero_is_the_same_number(landing, wh):
    """A report and an event re-sent with -0.0 for 0.0 are identical duplicates, not conflicts."""
    write_feed(landing, "realisations", [report("RP-1", value=0.0)], name="a.parquet")
    write_feed(landing, "realisations", [report("RP-1", value=-0.0)], name="b.parquet")
    write_feed(landing, "contract_events", [signed_event("EV-1", lines=[line("A", target_q1=0.0)])],
               name="a.parquet")
    write_feed(landing, "contract_events", [signed_event("EV-1", lines=[line("A", target_q1=-0.0)])],
               name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_duplicate"], counts["rows_quarantined"]) \
        == (2, 2, 0)


def test_duplicates_within_one_file_first_wins(landing, wh):
    write_feed(landing, "contract_events", [
        signed_event("EV-1", holder_nip=None),  # quarantined: does not count as accepted
        signed_event("EV-1"),
        signed_event("EV-1"),
        signed_event("EV-1", position_id="POS-99"),
    ])
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_duplicate"], counts["rows_quarantined"]) \
        == (1, 1, 2)
    assert [(q[1], q[3]) for q in quarantine(wh)] == [
        (0, "missing_required_field: holder_nip"),
        (3, "conflicting_duplicate: event_id EV-1 already accepted with different content "
            "(row 1 of this file)")]
    assert rows(wh, "select source_row from raw.contract_events") == [(1,)]


def test_defaults_make_identical_content(landing, wh):
    """op null = upsert, progress null = false: an identical event, not a conflict."""
    write_feed(landing, "contract_events", [signed_event("EV-1", lines=[line("A", op=None)])],
               name="a.parquet")
    write_feed(landing, "contract_events",
               [signed_event("EV-1", lines=[line("A", op="upsert", progress=False)])],
               name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_duplicate"]) == (1, 1)


def test_unit_versions_are_keyed_by_unit_and_valid_from(landing, wh):
    write_feed(landing, "units", [
        unit("U-1", valid_from="2020-01-01", valid_to="2026-06-30"),
        unit("U-1", valid_from="2026-07-01", name="Unit U-1 (baru)"),
    ], name="a.parquet")
    write_feed(landing, "units", [
        unit("U-1", valid_from="2020-01-01", valid_to="2026-06-30"),  # identical: duplicate
        unit("U-1", valid_from="2026-07-01", name="Unit lain"),  # conflicting
    ], name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["rows_accepted"], counts["rows_duplicate"], counts["rows_quarantined"]) \
        == (2, 1, 1)
    assert quarantine(wh) == [(
        "units/b.parquet", 1, "U-1@2026-07-01",
        "conflicting_duplicate: unit U-1 valid_from 2026-07-01 already accepted with different "
        "content (from units/a.parquet row 1)")]


def test_changed_file_is_ingested_again(landing, wh):
    path = write_feed(landing, "realisations", [report("RP-1")])
    ingest(landing, wh)
    write_feed(landing, "realisations", [report("RP-1"), report("RP-2", value=70.0)])
    messages = []
    ingest(landing, wh, messages)
    assert any("changed since it was ingested" in m for m in messages)
    assert [(e["rows_accepted"], e["rows_duplicate"]) for e in ledger(wh)] == [(1, 0), (1, 1)]
    assert path.exists()


# --- whole files ------------------------------------------------------------------------------

def _rejected(wh):
    (entry,) = [e for e in ledger(wh) if e["status"] == "rejected"]
    (q,) = [q for q in quarantine(wh) if q[1] is None]
    return entry, q[3]


def test_not_parquet_file_is_rejected(landing, wh):
    write_bytes(landing, "contract_events", "notes.parquet", b"event_id,year\nEV-1,2026\n")
    counts = ingest(landing, wh)
    entry, reason = _rejected(wh)
    assert counts["files_rejected"] == 1
    assert (entry["rows_read"], entry["rows_quarantined"]) == (0, 0)
    assert reason.startswith("not_parquet: ")


def test_truncated_parquet_is_rejected(landing, wh):
    path = write_feed(landing, "realisations", [report("RP-1"), report("RP-2")])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    ingest(landing, wh)
    entry, reason = _rejected(wh)
    assert entry["rows_read"] == 0
    assert reason.startswith("unreadable_parquet: footer unreadable")


def test_a_string_that_is_not_utf8_rejects_the_file_and_the_batch_goes_on(landing, wh):
    """Found by test_batch_hostile's random damage: one flipped byte in a string page made
    DuckDB fail fatally and every later file of the run with it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = write_feed(landing, "realisations", [report("RP-1"), report("RP-2")])
    table = pq.read_table(path)
    ids = table.column("report_id").combine_chunks()
    data = bytearray(ids.buffers()[2].to_pybytes())
    data[0] = 0xFF  # not a UTF-8 lead byte
    bad = pa.Array.from_buffers(pa.string(), len(ids), [None, ids.buffers()[1], pa.py_buffer(data)])
    pq.write_table(table.set_column(table.schema.get_field_index("report_id"), "report_id", bad),
                   path)
    write_feed(landing, "realisations", [report("RP-3")], name="re_later.parquet")
    ingest(landing, wh)
    entry, reason = _rejected(wh)
    assert entry["rows_read"] == 2
    assert reason.startswith("unreadable_parquet: 2 rows declared but the data is not valid")
    assert "UTF8" in reason
    assert raw_ids(wh, "realisations") == ["RP-3"]


def test_missing_required_column_rejects_the_file(landing, wh):
    write_feed(landing, "realisations", [report("RP-1"), report("RP-2"), report("RP-3")],
               drop=("reported_at",))
    ingest(landing, wh)
    entry, reason = _rejected(wh)
    assert (entry["rows_read"], entry["rows_accepted"], entry["rows_quarantined"]) == (3, 0, 3)
    assert reason.startswith("missing_required_column: reported_at")
    assert raw_ids(wh, "realisations") == []


def test_missing_optional_column_is_fine(landing, wh):
    write_feed(landing, "realisations", [report("RP-1")], drop=("reporter_nip",))
    counts = ingest(landing, wh)
    assert counts["rows_accepted"] == 1


@pytest.mark.parametrize("column, arrow_type, value, expected", [
    ("lines", pa.string(), "[]", "wrong_column_type: lines is string, expected list of struct"),
    ("lines", pa.list_(pa.string()), ["IKU-01"],
     "wrong_column_type: lines is list<element: string>, expected list of struct"),
    ("holder_nip", pa.int64(), 197001011995031002,
     "wrong_column_type: holder_nip is int64, expected string"),
    ("year", pa.list_(pa.int32()), [2026], "wrong_column_type: year is list<element: int32>, "
                                           "expected int"),
])
def test_wrong_column_type_rejects_the_file(landing, wh, column, arrow_type, value, expected):
    write_feed(landing, "contract_events", [signed_event(**{column: value})],
               types={column: arrow_type})
    ingest(landing, wh)
    entry, reason = _rejected(wh)
    assert (entry["rows_read"], entry["rows_quarantined"]) == (1, 1)
    assert reason == expected


def test_wrong_line_field_type_rejects_the_file(landing, wh):
    event = signed_event(lines=[line("A", weight=[100.0])])
    write_feed(landing, "contract_events", [event], line_types={"weight": pa.list_(pa.float64())})
    ingest(landing, wh)
    _entry, reason = _rejected(wh)
    assert reason == "wrong_column_type: lines.weight is list<element: double>, expected double"


def test_empty_file_is_ingested_with_zero_rows(landing, wh):
    write_feed(landing, "units", [])
    counts = ingest(landing, wh)
    assert counts["files_new"] == 1 and counts["rows_read"] == 0
    assert ledger(wh)[0]["status"] == "ingested"


# --- paths ------------------------------------------------------------------------------------

def test_symlinks_are_refused_never_followed(landing, wh, tmp_path):
    outside = tmp_path / "outside"
    target = write_feed(outside, "realisations", [report("RP-EVIL")])
    (landing / "realisations").mkdir()
    os.symlink(target, landing / "realisations" / "link.parquet")
    os.symlink(outside / "realisations", landing / "realisations" / "linked_dir")
    counts = ingest(landing, wh)
    assert raw_ids(wh, "realisations") == []
    assert counts["files_rejected"] == 2
    assert [(e["file"], e["status"], e["rows_read"]) for e in ledger(wh)] == [
        ("realisations/link.parquet", "rejected", 0),
        ("realisations/linked_dir", "rejected", 0)]
    assert all(r.startswith("symlink_refused: ") for r in reasons(wh))
    again = ingest(landing, wh)
    assert again["files_skipped"] == 2 and len(quarantine(wh)) == 2


def test_odd_file_names_work(landing, wh):
    name = "sub dir/ünïcödé 'kuartal' #1 ✓.parquet"
    write_feed(landing, "realisations", [report("RP-1")], name=name)
    counts = ingest(landing, wh)
    assert counts["rows_accepted"] == 1
    assert ledger(wh)[0]["file"] == f"realisations/{name}"
    assert rows(wh, "select source_file from raw.realisations") == [(f"realisations/{name}",)]


def test_unknown_feed_folders_and_other_files_are_reported_not_read(landing, wh):
    minimal_landing(landing)
    write_table(landing, "kontrak", to_table("contract_events", [signed_event("EV-X")]))
    (landing / "units" / "README.txt").write_text("tree of 2026")
    messages = []
    counts = ingest(landing, wh, messages)
    assert (counts["files_unknown_feed"], counts["files_ignored"]) == (1, 1)
    assert "not read: kontrak/kontrak.parquet is outside the feed folders" in messages[0]
    assert any("units/README.txt is not a .parquet file" in m for m in messages)
    assert raw_ids(wh, "contract_events") == ["EV-1"]


def test_files_are_read_in_relative_path_order(landing, wh):
    write_feed(landing, "realisations", [report("RP-1", value=2.0)], name="b/x.parquet")
    write_feed(landing, "realisations", [report("RP-1", value=1.0)], name="a.parquet")
    write_feed(landing, "realisations", [report("RP-1", value=3.0)], name="b.parquet")
    ingest(landing, wh)
    assert rows(wh, "select value from raw.realisations") == [(1.0,)]
    assert [q[0] for q in quarantine(wh)] == ["realisations/b.parquet", "realisations/b/x.parquet"]


def test_missing_landing_directory_says_what_to_do(tmp_path, wh):
    with pytest.raises(FileNotFoundError, match="pass --landing"):
        ingest_landing(tmp_path / "nope", wh)


def test_ledger_counts_match_returned_counts(landing, wh):
    minimal_landing(landing)
    write_feed(landing, "realisations", [report("RP-1"), report("RP-2", quarter="Q9")],
               name="more.parquet")
    counts = ingest(landing, wh)
    for key in ("rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined"):
        assert counts[key] == sum(e[key] for e in ledger(wh))
    assert counts["rows_read"] == 1 + 2 + 1 + 2


def test_row_dates_and_types_round_trip(landing, wh):
    write_feed(landing, "contract_events", [signed_event(
        "EV-1", lines=[line("A", weight=60.0, target_is_max=True),
                       line("B", weight=40.0, progress=True, consolidation="take_last_known")])])
    ingest(landing, wh)
    got = rows(wh, "select effective_date, signed_date, holder_nip, "
                   "list_transform(lines, lambda l: [l.iku_code, l.target_is_max::varchar, "
                   "l.progress::varchar]) from raw.contract_events")
    assert got == [(date(2026, 1, 1), date(2026, 1, 15), HOLDER_NIP,
                    [["A", "true", None], ["B", None, "true"]])]


def test_infinite_dates_and_timestamps_are_quarantined(landing, wh):
    """Arrow's extreme date32/timestamp values arrive in DuckDB as infinity: not interpretable."""
    table = to_table("contract_events", [addendum_event(f"EV-{i}") for i in (1, 2, 3)])
    june_20 = (date(2026, 6, 20) - date(1970, 1, 1)).days
    eff = pa.array([2**31 - 1, june_20, june_20], type=pa.int32()).view(pa.date32())
    rec = pa.array([0, 2**63 - 1, 1_782_000_000_000_000], type=pa.int64()).view(
        pa.timestamp("us", tz="UTC"))
    table = table.set_column(table.schema.get_field_index("effective_date"), "effective_date", eff)
    table = table.set_column(table.schema.get_field_index("recorded_at"), "recorded_at", rec)
    write_table(landing, "contract_events", table)
    ingest(landing, wh)
    assert [(q[1], q[3]) for q in quarantine(wh)] == [
        (0, "invalid_value: effective_date 'infinity' is not a finite date"),
        (1, "invalid_value: recorded_at 'infinity' is not a finite timestamp")]
    assert raw_ids(wh, "contract_events") == ["EV-3"]


def test_unknown_column_of_a_type_duckdb_cannot_read_is_kept_as_text(landing, wh):
    table = to_table("realisations", [report("RP-1")])
    half = pa.array([1.5], type=pa.float64()).cast(pa.float16())
    write_table(landing, "realisations", table.append_column("presisi", half))
    counts = ingest(landing, wh)
    assert counts["rows_accepted"] == 1
    assert rows(wh, "select extra from raw.realisations") == [('{"presisi":"1.5"}',)]


def test_file_name_that_is_not_utf8_is_ingested_and_named_readably(landing, wh):
    folder = landing / "realisations"
    folder.mkdir()
    raw_name = os.path.join(os.fsencode(folder), b"kuartal-\xe9.parquet")  # Latin-1 'é'
    with open(raw_name, "wb") as handle:
        pq.write_table(to_table("realisations", [report("RP-1")]), handle)
    counts = ingest(landing, wh)
    assert counts["rows_accepted"] == 1
    assert ledger(wh)[0]["file"] == "realisations/kuartal-\\xe9.parquet"


def test_dbt_staging_reads_the_raw_store(example_warehouse):
    """The staging views built by dbt on the ingested examples see every accepted row, with the
    EVENTS.md defaults applied to the lines the example files leave out (target_is_max)."""
    from tests.conftest import query

    counts = query(example_warehouse, """
        select (select count(*) from staging.stg_contract_events),
               (select count(*) from staging.stg_realisations),
               (select count(*) from staging.stg_units),
               (select count(*) from staging.stg_contract_event_lines),
               (select count(*) from staging.stg_contract_event_lines where target_is_max)
    """)
    lines = query(example_warehouse, "select sum(len(lines)) from raw.contract_events")[0][0]
    assert counts == [(4, 26, 8, lines, 0)]


def test_identical_resend_is_a_duplicate_even_if_the_stored_hash_format_changed(landing, wh):
    """Stored rows are re-hashed at comparison time, so a content_hash written by an older
    DuckDB (a different text format) cannot turn an identical re-send into a conflict."""
    import duckdb

    write_feed(landing, "contract_events", [signed_event("EV-1")], name="a.parquet")
    ingest(landing, wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("update raw.contract_events set content_hash = 'written-by-an-older-version'")
    write_feed(landing, "contract_events", [signed_event("EV-1")], name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["rows_duplicate"], counts["rows_quarantined"]) == (1, 0)


@pytest.mark.parametrize("unit, tz", [("ns", "UTC"), ("ns", None), ("ms", "Asia/Jakarta"),
                                      ("s", None)])
def test_timestamp_units_and_zones_are_all_read(landing, wh, unit, tz):
    """pandas writes timestamp[ns, tz=UTC]: it must not fail the batch."""
    write_feed(landing, "realisations", [report("RP-1", reported_at="2026-04-10T03:00")],
               types={"reported_at": pa.timestamp(unit, tz=tz)})
    counts = ingest(landing, wh)
    assert counts["rows_accepted"] == 1
    assert rows(wh, "select reported_at from raw.realisations") == [(datetime(2026, 4, 10, 3, 0),)]


def test_a_conversion_error_inside_the_sql_rejects_only_that_file(landing, wh, monkeypatch):
    """Fault injection: a DuckDB conversion error while staging one file rolls that file back and
    rejects it as unprocessable_file; the batch goes on with the next file."""
    import ingestion.store as store

    real = store.staging_sql

    def failing_for_b(feed, *args):
        sql = real(feed, *args)
        return sql + " where cast('not a number' as integer) = 1" if failing["on"] else sql

    failing = {"on": False}
    monkeypatch.setattr(store, "staging_sql", failing_for_b)
    write_feed(landing, "realisations", [report("RP-1")], name="a.parquet")
    ingest(landing, wh)
    failing["on"] = True
    write_feed(landing, "realisations", [report("RP-2")], name="b.parquet")
    counts = ingest(landing, wh)
    assert (counts["files_new"], counts["files_rejected"]) == (1, 1)
    entry, reason = _rejected(wh)
    assert entry["file"] == "realisations/b.parquet" and entry["rows_quarantined"] == 1
    assert reason.startswith("unprocessable_file: the values cannot be converted")
    assert raw_ids(wh, "realisations") == ["RP-1"]


def test_an_unexpected_error_stops_at_its_file_although_the_next_was_prepared(landing, wh,
                                                                              monkeypatch):
    """The next file is read and validated ahead on a worker thread; an error while storing a
    file still raises IngestError naming it, with only the files before it committed, and the
    rerun ingests the rest."""
    import ingestion.ingest as ingest_module
    import ingestion.store as store

    real = store._quarantine_rows

    def failing_in_b(con, feed, rel, landing_table, ingested_at):
        real(con, feed, rel, landing_table, ingested_at)
        if rel.endswith("b.parquet"):
            raise RuntimeError("disk on fire")

    for name in ("a", "b", "c"):
        write_feed(landing, "realisations", [report(f"RP-{name}")], name=f"{name}.parquet")
    monkeypatch.setattr(store, "_quarantine_rows", failing_in_b)
    with pytest.raises(ingest_module.IngestError, match="realisations/b.parquet.*disk on fire"):
        ingest(landing, wh)
    assert [e["file"] for e in ledger(wh)] == ["realisations/a.parquet"]
    assert raw_ids(wh, "realisations") == ["RP-a"]
    monkeypatch.setattr(store, "_quarantine_rows", real)
    counts = ingest(landing, wh)
    assert (counts["files_skipped"], counts["files_new"]) == (1, 2)
    assert raw_ids(wh, "realisations") == ["RP-a", "RP-b", "RP-c"]
