"""Model-based property: duplicates and "the first occurrence wins", across files, rows and batches.

Random files are drawn from a small pool of ids, each row in one of two content variants or a
broken variant (quarantined, so it claims no id); for contract events a third variant writes the
EVENTS.md line defaults out explicitly and must count as the same content as the first. The files arrive over one to three batches.
A few lines of Python (the model below) say what EVENTS.md requires: within a batch files in
relative-path order, rows in file order; a bad row is quarantined; an id not yet accepted is
accepted; the same id with the same content is a duplicate; with other content it is quarantined
as `conflicting_duplicate`. The real ingestion must agree with the model on every ledger row,
every stored row (with its source file and row) and every quarantine reason.
"""
from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.ingest import ingest_landing
from tests.ingestion_helpers import assert_conservation
from tests.landing_factory import line, report, signed_event, unit, write_feed

IDS = ("A", "B", "C", "D")
# "0d" is variant 0 with EVENTS.md defaults written out (op upsert, progress false, tolerance 0,
# target_is_max false): the same content. Only contract events have defaults.
VARIANTS = (0, 1, "bad")
EVENT_VARIANTS = (0, "0d", 1, "bad")


def _content(variant):
    return 0 if variant == "0d" else variant


def _row(feed: str, ident: str, variant):
    if feed == "contract_events":
        if variant == "bad":
            return signed_event(f"EV-{ident}", year=1999)
        if variant == "0d":
            lines = [line("IKU-01", op="upsert", progress=False, tolerance=0.0,
                          target_is_max=False)]
        else:
            lines = [line("IKU-01", weight=100.0 - variant)]
        return signed_event(f"EV-{ident}", lines=lines)
    if feed == "realisations":
        value = math.nan if variant == "bad" else 10.0 + variant
        return report(f"RP-{ident}", value=value)
    # units are keyed by (unit_id, valid_from): variants differ in name; "bad" lacks its level
    if variant == "bad":
        return unit(f"U-{ident}", level=None)
    return unit(f"U-{ident}", name=f"Unit {ident} v{variant}", valid_from=date(2024, 1, 1))


BAD_REASON = {"contract_events": "year_out_of_range: 1999",
              "realisations": "non_finite_number: value",
              "units": "missing_required_field: level"}


def _label(feed: str, reason: str) -> str:
    """The model's name for a quarantine reason; an unexpected reason stays itself (and fails)."""
    if reason.startswith("conflicting_duplicate: "):
        return "conflicting_duplicate"
    return "bad" if reason.startswith(BAD_REASON[feed]) else reason


def _model(batches: list[list[tuple[str, list]]]):
    """Per file (accepted, duplicate, quarantined), the stored rows and the quarantine reasons."""
    accepted: dict[str, object] = {}
    ledger, stored, reasons = {}, set(), set()
    for batch in batches:
        for name, rows in sorted(batch):
            counts = [0, 0, 0]
            for index, (ident, variant) in enumerate(rows):
                if variant == "bad":
                    counts[2] += 1
                    reasons.add((name, index, "bad"))
                elif ident not in accepted:
                    accepted[ident] = _content(variant)
                    counts[0] += 1
                    stored.add((ident, _content(variant), name, index))
                elif accepted[ident] == _content(variant):
                    counts[1] += 1
                else:
                    counts[2] += 1
                    reasons.add((name, index, "conflicting_duplicate"))
            ledger[name] = tuple(counts)
    return ledger, stored, reasons


def landing_batches(variants):
    file_rows = st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(variants)), max_size=6)
    return st.lists(
        st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "f"]), file_rows),
                 min_size=1, max_size=3, unique_by=lambda f: f[0]),
        min_size=1, max_size=3)


feed_and_batches = st.sampled_from(["contract_events", "realisations", "units"]).flatmap(
    lambda feed: st.tuples(st.just(feed), landing_batches(
        EVENT_VARIANTS if feed == "contract_events" else VARIANTS)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feed_and_drawn=feed_and_batches)
def test_duplicates_follow_first_occurrence_wins(feed_and_drawn):
    feed, drawn = feed_and_drawn
    # file names are unique over the whole landing zone: a later batch adds new files only
    seen, batches = set(), []
    for batch_number, batch in enumerate(drawn):
        files = []
        for stem, rows in batch:
            name = f"{feed}/{stem}{batch_number}.parquet"
            if name not in seen:
                seen.add(name)
                files.append((name, rows))
        batches.append(files)

    with tempfile.TemporaryDirectory() as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "wh.duckdb"
        landing.mkdir()
        for files in batches:
            for name, rows in files:
                write_feed(landing, feed, [_row(feed, i, v) for i, v in rows],
                           name=name.split("/", 1)[1])
            ingest_landing(landing, warehouse, progress=lambda _m: None)

        assert_conservation(warehouse)
        want_ledger, want_stored, want_reasons = _model(batches)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            got_ledger = {f: (a, d, q) for f, a, d, q in con.execute(
                "select file, rows_accepted, rows_duplicate, rows_quarantined "
                "from ingest.ledger").fetchall()}
            if feed == "contract_events":
                got_stored = {(eid.removeprefix("EV-"), int(100.0 - weight), f, r)
                              for eid, weight, f, r in con.execute(
                                  "select event_id, lines[1].weight, source_file, source_row "
                                  "from raw.contract_events").fetchall()}
            elif feed == "realisations":
                got_stored = {(rid.removeprefix("RP-"), int(value - 10.0), f, r) for rid, value, f, r
                              in con.execute("select report_id, value, source_file, source_row "
                                             "from raw.realisations").fetchall()}
            else:
                got_stored = {(uid.removeprefix("U-"), int(name[-1]), f, r) for uid, name, f, r
                              in con.execute("select unit_id, name, source_file, source_row "
                                             "from raw.units").fetchall()}
            got_reasons = {(f, i, _label(feed, reason)) for f, i, reason in con.execute(
                "select file, row_index, reason from ingest.quarantine").fetchall()}
        assert got_ledger == want_ledger
        assert got_stored == want_stored
        assert got_reasons == want_reasons
