"""Quarterly realisation values: noise around the target in force, copies along direct cascades."""
from __future__ import annotations

import numpy as np

from . import trajectories as tr
from .lines import DIRECT, LineBook
from .scales import SHARES


def draw_values(rng, book: LineBook, rows: np.ndarray) -> np.ndarray:
    """(len(rows), 4) values, NaN where the line has no target in force that quarter."""
    n = len(rows)
    target = book.target_in_force[rows]
    tpl = book.tpl[rows]
    has = book.in_force[rows] & ~np.isnan(target)
    factor = rng.normal(1.0, 0.07, (n, 4))
    above = rng.random((n, 4)) < 0.04     # well above target: ICI over 120 before clamping
    factor[above] = rng.uniform(1.2, 1.45, int(above.sum()))
    factor[rng.random((n, 4)) < 0.005] = 0.0  # nothing achieved (or nothing reported as done)
    polarity = tr.POLARITY[tpl][:, None]
    value = np.where(polarity == "stabilize", target * (1 + (factor - 1) * 0.5), target * factor)

    at_max = tr.TARGET_IS_MAX[tpl][:, None]
    met = rng.random((n, 4)) < 0.5
    value = np.where(at_max, np.where(met, target, np.minimum(value, target)), value)
    value = np.where(tr.IS_PERCENT[tpl][:, None], np.minimum(value, 100.0), value)

    # lines whose S1 realisation reaches the annual target (ADDENDUM_REQUIRED / its addendum)
    step = tr.STEP[tpl][:, None]
    is_sum = (tr.SHAPE[tpl] == "sum")[:, None] | (tr.SHAPE[tpl] == "zero")[:, None]
    value = np.where(is_sum, np.round(value / step) * step, np.round(value, 2))

    over = np.flatnonzero(book.s1_overachieved[rows])
    if len(over):  # rounded up, so the S1 sum surely reaches the annual target
        first_half = np.nansum(target[over, :2], axis=1)
        lift = np.maximum(1.1 * book.target_y[rows[over]] / np.maximum(first_half, 1e-9), 1.0)
        value[over, :2] = np.ceil(target[over, :2] * lift[:, None] / step[over]) * step[over]
    return np.where(has, np.maximum(value, 0.0), np.nan)


def copy_direct(book: LineBook, values: np.ndarray, line_level: np.ndarray,
                rows: np.ndarray | None = None, successor: np.ndarray | None = None) -> None:
    """A `direct` child reports its parent's figure (most of the time), level by level.

    `successor[p]` is the row of the komplemen successor's copy of line p (-1 when none): where
    the parent's KK was handed over, the child reports what the successor's line reports."""
    rows = np.arange(len(book)) if rows is None else rows
    direct = rows[(book.cascade[rows] == DIRECT) & (book.parent_line[rows] >= 0)]
    # a fixed pseudo-random 5% of direct lines report their own figure, in every pass
    differs = (direct * 2654435761 % 1000) < 1000 * SHARES.direct_realisation_differs
    direct = direct[~differs]
    for lv in range(1, 6):
        child = direct[line_level[direct] == lv]
        parent = book.parent_line[child]
        source = values[parent]
        if successor is not None:
            later = successor[parent]
            has_later = later >= 0
            source[has_later] = np.where(np.isnan(source[has_later]),
                                         values[later[has_later]], source[has_later])
        both = ~np.isnan(values[child]) & ~np.isnan(source)
        values[child] = np.where(both, source, values[child])
