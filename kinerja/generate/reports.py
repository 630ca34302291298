"""Realisation report rows: on time, late, missing, corrected, and for unknown IKUs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import calendar as cal
from .events import World
from .scales import SHARES, at_least

QUARTER_NAMES = np.array(["Q1", "Q2", "Q3", "Q4"], dtype=object)


@dataclass
class Reports:
    """Report rows (before ids are assigned); `late_file` marks rows for the late/corrections
    file, `quarter` is 0..3."""
    row: np.ndarray
    quarter: np.ndarray
    value: np.ndarray
    reported_at: np.ndarray
    late_file: np.ndarray
    iku_override: np.ndarray  # object: None, or an iku_code the KK does not have
    correction: np.ndarray    # bool: a later report superseding an earlier one

    def take(self, idx) -> "Reports":
        return Reports(**{k: v[idx] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list["Reports"]) -> "Reports":
        return Reports(**{k: np.concatenate([getattr(p, k) for p in parts])
                          for k in parts[0].__dict__})


def reported_mask(rng, values: np.ndarray) -> np.ndarray:
    """Which quarters get a report at all (a few never do: REALISATION_MISSING)."""
    return ~np.isnan(values) & (rng.random(values.shape) >= SHARES.report_missing)


def _timestamps(rng, year: int, quarter: np.ndarray, days_after: np.ndarray) -> np.ndarray:
    day = cal.quarter_ends(year)[quarter] + days_after.astype("timedelta64[D]")
    return cal.at_hours(day, rng.integers(1, 10, len(day))) + rng.integers(
        0, 3600, len(day)).astype("timedelta64[s]").astype("timedelta64[us]")


def build_reports(rng, world: World, values: np.ndarray, reported: np.ndarray) -> Reports:
    year = world.year
    row, quarter = np.nonzero(reported)
    value = values[row, quarter]
    n = len(row)
    # due the 15th day after quarter end: most report in the second week, some late
    late = rng.random(n) < SHARES.report_late
    days = np.where(late, rng.integers(16, 50, n), rng.integers(5, 15, n))
    stamps = _timestamps(rng, year, quarter, days)
    none = np.full(n, None, dtype=object)
    main = Reports(row, quarter, value, stamps, late, none, np.zeros(n, bool))

    # corrections: the first report was wrong; a later one (new id) gives the final figure
    fixed = np.flatnonzero(rng.random(n) < SHARES.report_correction)
    wrong = main.value[fixed] * rng.choice([0.8, 0.9, 1.1, 1.25], len(fixed))
    correction = main.take(fixed)
    correction.reported_at = correction.reported_at + rng.integers(
        5, 30, len(fixed)).astype("timedelta64[D]").astype("timedelta64[us]")
    correction.late_file = np.ones(len(fixed), bool)
    correction.correction = np.ones(len(fixed), bool)
    main.value[fixed] = np.round(wrong, 2)

    # reports for an IKU the KK does not have in force (REALISATION_UNKNOWN_IKU)
    # (on time for Q1..Q3, so that a year-end as-of already knows them)
    early = np.flatnonzero((quarter < 3) & ~late)
    unknown = main.take(rng.choice(early, at_least(SHARES.report_unknown_iku, n, 1),
                                   replace=False))
    unknown.iku_override = np.full(len(unknown.row), "IKU-99", dtype=object)
    unknown.late_file[:] = False
    return Reports.concat([main, correction, unknown])


def report_table(world: World, reports: Reports, ids: pa.Array) -> pa.Table:
    from .writer import REALISATION_SCHEMA

    book, c = world.book, world.contracts
    kk = pa.array(book.kk[reports.row])
    unknown = reports.iku_override != None  # noqa: E711
    iku = pa.array(book.code, pa.string()).take(pa.array(reports.row))
    if unknown.any():
        iku = pc.if_else(pa.array(unknown), pa.array(reports.iku_override, pa.string()), iku)
    return pa.Table.from_arrays([
        ids,
        pa.array(c.contract_id, pa.string()).take(kk),
        iku,
        pa.array(QUARTER_NAMES, pa.string()).take(pa.array(reports.quarter)),
        pa.array(reports.value, pa.float64()),
        pa.array(reports.reported_at, pa.timestamp("us", tz="UTC")),
        pa.array(c.holder_nip, pa.string()).take(kk),
    ], schema=REALISATION_SCHEMA)


def report_ids(year: int, start: int, n: int) -> pa.Array:
    seq = pc.cast(pa.array(np.arange(start + 1, start + n + 1)), pa.string())
    return pc.binary_join_element_wise(f"RP-{year}-", pc.utf8_lpad(seq, 8, "0"), "")
