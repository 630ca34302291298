"""Rows the warehouse must quarantine, one kind after another (EVENTS.md, "What is rejected").

Each bad row is a copy of a valid row with one defect, under a fresh id, except the duplicates,
which reuse the id of a valid row that sits in an earlier file."""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from .writer import EVENT_SCHEMA, REALISATION_SCHEMA

EVENT_KINDS = ("missing_required", "bad_enum", "malformed_nip", "year_out_of_range",
               "non_finite", "empty_lines", "repeated_iku_code", "effective_date_outside_year",
               "conflicting_duplicate", "identical_duplicate")
REPORT_KINDS = ("missing_required", "bad_enum", "malformed_nip", "non_finite",
                "conflicting_duplicate", "identical_duplicate")


def _spoil_event(row: dict, kind: str, variant: int, year: int) -> None:
    lines = row["lines"]
    if kind == "missing_required":
        field = ("holder_nip", "effective_date", "recorded_at", "contract_id", "position_id",
                 "line_weight")[variant % 6]
        if field == "line_weight":
            lines[0]["weight"] = None
        else:
            row[field] = None
    elif kind == "bad_enum":
        choice = variant % 4
        if choice == 0:
            row["event_type"] = "amandemen"
        elif choice == 1:
            row["reason"] = "tahunan"
        elif choice == 2:
            lines[0]["polarity"] = "maximise"
        else:
            lines[-1]["consolidation"] = "median"
    elif kind == "malformed_nip":
        nip = row["holder_nip"]
        row["holder_nip"] = (nip[:-1], nip[:8] + " " + nip[8:], "NIP" + nip[3:])[variant % 3]
    elif kind == "year_out_of_range":
        row["year"] = (1999, 2101, year * 10)[variant % 3]
    elif kind == "non_finite":
        field, value = (("target_q2", math.nan), ("target_y", math.inf),
                        ("weight", -math.inf))[variant % 3]
        lines[0][field] = value
    elif kind == "empty_lines":
        row["lines"] = []
    elif kind == "repeated_iku_code":
        lines.append(dict(lines[0]))
    elif kind == "effective_date_outside_year":
        row["effective_date"] = (date(year - 1, 12, 15), date(year + 1, 1, 12))[variant % 2]
    elif kind == "conflicting_duplicate":
        row["signed_date"] = row["signed_date"] + timedelta(days=1)


def bad_events(rng, valid: pa.Table, count: int, year: int) -> pa.Table:
    """`count` bad contract events (at least one of each kind)."""
    event_type = np.array(valid.column("event_type").to_pylist(), dtype=object)
    signed = np.flatnonzero(event_type == "signed")
    changes = np.flatnonzero(np.isin(event_type, ["addendum", "plt_transfer", "komplemen"]))
    rows = []
    for i in range(count):
        kind = EVENT_KINDS[i % len(EVENT_KINDS)]
        variant = i // len(EVENT_KINDS)
        pool = changes if kind == "effective_date_outside_year" else signed
        row = valid.slice(int(rng.choice(pool)), 1).to_pylist()[0]
        if kind not in ("conflicting_duplicate", "identical_duplicate"):
            row["event_id"] = f"EV-{year}-X{i + 1:06d}"
        _spoil_event(row, kind, variant, year)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def bad_reports(rng, valid: pa.Table, count: int, year: int) -> pa.Table:
    picks = rng.choice(valid.num_rows, count, replace=False)
    rows = valid.take(pa.array(np.sort(picks))).to_pylist()
    order = rng.permutation(count)
    for i, row in zip(range(count), (rows[j] for j in order)):
        kind = REPORT_KINDS[i % len(REPORT_KINDS)]
        variant = i // len(REPORT_KINDS)
        if kind not in ("conflicting_duplicate", "identical_duplicate"):
            row["report_id"] = f"RP-{year}-X{i + 1:07d}"
        if kind == "missing_required":
            row[("value", "contract_id", "quarter", "reported_at", "iku_code")[variant % 5]] = None
        elif kind == "bad_enum":
            row["quarter"] = ("Q5", "S1", "q1")[variant % 3]
        elif kind == "malformed_nip":
            nip = row["reporter_nip"]
            row["reporter_nip"] = (nip[:-1], nip + "0", "19X" + nip[3:])[variant % 3]
        elif kind == "non_finite":
            row["value"] = (math.nan, math.inf, -math.inf)[variant % 3]
        elif kind == "conflicting_duplicate":
            row["value"] = round((row["value"] or 0.0) + 1.5, 2)
    return pa.Table.from_pylist([rows[j] for j in order], schema=REALISATION_SCHEMA)


def file_missing_value_column(valid: pa.Table, year: int) -> pa.Table:
    """A whole file the warehouse must reject: the required `value` column is absent."""
    sample = valid.slice(0, 5).drop_columns(["value"])
    ids = pa.array([f"RP-{year}-M{i + 1:07d}" for i in range(sample.num_rows)], pa.string())
    return sample.set_column(0, "report_id", ids)
