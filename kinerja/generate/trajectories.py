"""Quarterly targets per IKU template shape, and the consolidation rule of DOMAIN.md section 3."""
from __future__ import annotations

import numpy as np

from .catalog import SUM_LEVEL_FACTOR, TEMPLATES

SHAPE = np.array([t.shape for t in TEMPLATES])
LOW = np.array([t.low for t in TEMPLATES], dtype=float)
HIGH = np.array([t.high for t in TEMPLATES], dtype=float)
STEP = np.array([t.step for t in TEMPLATES], dtype=float)
CONSOLIDATION = np.array([t.consolidation for t in TEMPLATES])
POLARITY = np.array([t.polarity for t in TEMPLATES])
PROGRESS = np.array([bool(t.progress) for t in TEMPLATES])
IS_PERCENT = np.array([t.unit_of_measure == "persen" for t in TEMPLATES])
TARGET_IS_MAX = np.array([t.target_is_max for t in TEMPLATES])
PICK_P = np.array([t.pick_weight for t in TEMPLATES], dtype=float)
PICK_P /= PICK_P.sum()


def snap(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Round to the template's step (and to 6 decimals, so 3.55 stays 3.55)."""
    return np.round(np.round(values / step) * step, 6)


def consolidate(targets: np.ndarray, consolidation: np.ndarray) -> np.ndarray:
    """Annual value of each row of an (n, 4) array with NaN for quarters without a target."""
    has = ~np.isnan(targets)
    any_q = has.any(axis=1)
    total = np.where(has, targets, 0.0).sum(axis=1)
    count = has.sum(axis=1)
    last_idx = 3 - np.argmax(has[:, ::-1], axis=1)
    last = targets[np.arange(len(targets)), last_idx]
    # averages are written to 6 decimals, as a producer would (well inside the 1e-6 tolerance)
    out = np.where(consolidation == "sum", total,
                   np.where(consolidation == "average",
                            np.round(total / np.maximum(count, 1), 6), last))
    return np.where(any_q, out, np.nan)


def draw(rng, tpl: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(n, 4) quarterly targets (NaN: no target that quarter) for lines of the given templates."""
    n = len(tpl)
    shape, low, high, step = SHAPE[tpl], LOW[tpl], HIGH[tpl], STEP[tpl]
    level_value = snap(low + rng.random(n) * (high - low), step)
    out = np.repeat(level_value[:, None], 4, axis=1)

    cum = shape == "cum"
    fractions = np.column_stack([rng.uniform(0.15, 0.3, n), rng.uniform(0.4, 0.55, n),
                                 rng.uniform(0.65, 0.8, n), np.ones(n)])
    out[cum] = snap(level_value[cum, None] * fractions[cum], step[cum, None])

    summed = shape == "sum"
    factor = np.array(SUM_LEVEL_FACTOR, dtype=float)[level]
    per_quarter = low[:, None] + rng.random((n, 4)) * (high - low)[:, None]
    out[summed] = np.maximum(snap(per_quarter[summed] * factor[summed, None],
                                  step[summed, None]), step[summed, None])

    drift = np.cumsum(np.column_stack([np.zeros(n), rng.integers(0, 3, (n, 3))]), axis=1)
    up, down = shape == "avg_up", shape == "avg_down"
    out[up] = snap(level_value[up, None] + drift[up] * step[up, None], step[up, None])
    out[up] = np.where(IS_PERCENT[tpl[up], None], np.minimum(out[up], 100.0), out[up])
    out[down] = np.maximum(snap(level_value[down, None] - drift[down] * step[down, None],
                                step[down, None]), step[down, None])

    semester = shape == "semester"
    out[np.ix_(semester, [0, 2])] = np.nan
    annual = shape == "annual"
    out[np.ix_(annual, [0, 1, 2])] = np.nan
    out[shape == "zero"] = 0.0
    return out


def tolerance(rng, tpl: np.ndarray) -> np.ndarray:
    """Half-width of the scoring band for stabilize lines (NaN: not given, meaning 0)."""
    tol = rng.choice(np.array([np.nan, 0.5, 1.0, 1.5]), len(tpl), p=[0.4, 0.2, 0.25, 0.15])
    return np.where(POLARITY[tpl] == "stabilize", tol, np.nan)
