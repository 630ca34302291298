"""A small pure-Python reference of DOMAIN.md sections 3-5 (period consolidation, ICI, NKO).

Written from the spec text, independently of the SQL, so that tests can compare every row of
marts.iku_achievement and marts.nko with it. The documented choices (docs/ACHIEVEMENT.md) are the
same: quarter periods show the quarter's own realisation even without a target; a composite with
no quarter that has a target has a null target (Y: target_y if given) and a null realisation;
the target-met test of konversi 120 allows a relative float slack of 1e-9; ICI and NKO are
rounded to 12 decimals before the colour and grade bands are applied.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

EPS = 1e-9  # relative slack of the target-met test (konversi 120)
DECIMALS = 12  # published ICI and NKO are rounded to 12 decimals; bands compare exactly

# period -> (order, first quarter, last quarter)
PERIODS: dict[str, tuple[int, int, int]] = {
    "Q1": (1, 1, 1),
    "Q2": (2, 2, 2),
    "S1": (3, 1, 2),
    "Q3": (4, 3, 3),
    "SDQ3": (5, 1, 3),
    "Q4": (6, 4, 4),
    "Y": (7, 1, 4),
}


@dataclass(frozen=True)
class LineQuarter:
    """The version of one line in force in one quarter (int_line_quarters)."""
    polarity: str
    consolidation: str
    weight: float
    target: float | None
    target_y: float | None
    tolerance: float = 0.0
    target_is_max: bool = False
    perspective: str = "stakeholder"
    is_komplemen_remaining: bool = False


def consolidate(consolidation: str, values: list[float]) -> float | None:
    """values in quarter order; None for an empty list."""
    if not values:
        return None
    if consolidation == "sum":
        return sum(values)
    if consolidation == "average":
        return sum(values) / len(values)
    if consolidation == "take_last_known":
        return values[-1]
    raise ValueError(consolidation)


def target_met(polarity: str, r: float, t: float) -> bool:
    if polarity == "maximize":
        return r >= t - EPS * abs(t)
    if polarity == "minimize":
        return r <= t + EPS * abs(t)
    return abs(r - t) <= EPS * abs(t)


def ici(polarity: str, r: float | None, t: float | None, tolerance: float | None = 0.0,
        target_is_max: bool | None = False) -> float | None:
    if r is None or t is None or t <= 0:
        return None
    tol = tolerance or 0.0
    if target_is_max and target_met(polarity, r, t):
        raw = 120.0
    elif polarity == "maximize":
        raw = 100.0 * r / t
    elif polarity == "minimize":
        raw = 100.0 * (2 - r / t)
    elif polarity == "stabilize":
        dev = abs(r - t)
        raw = 100.0 if dev <= tol else 100.0 * (1 - (dev - tol) / abs(t))
    else:
        raise ValueError(polarity)
    return round(max(0.0, min(120.0, raw)), DECIMALS)


def colour(value: float | None) -> str | None:
    if value is None:
        return None
    if value >= 100:
        return "green"
    if value >= 80:
        return "yellow"
    return "red"


def grade(nko: float | None) -> str | None:
    if nko is None:
        return None
    for bound, name in ((110, "sangat_baik"), (100, "baik"), (90, "cukup"), (80, "kurang")):
        if nko >= bound:
            return name
    return "buruk"


def line_periods(quarters: Mapping[int, LineQuarter],
                 realisations: Mapping[int, float]) -> dict[str, dict]:
    """period -> {target, realisation, ici, colour, weight, perspective, ...} for one line.

    quarters: the quarters (1..4) in which the line is in force, with the version in force.
    realisations: the latest realisation per quarter (any quarter; those not in force are ignored).
    """
    out: dict[str, dict] = {}
    for period, (_order, first, last) in PERIODS.items():
        if last not in quarters:
            continue  # a row only when the line is in force in the period's last quarter
        anchor = quarters[last]
        span = [q for q in range(first, last + 1) if q in quarters]
        if first == last:
            target = anchor.target
            real = realisations.get(last)
        else:
            with_target = [q for q in span if quarters[q].target is not None]
            cons = anchor.consolidation
            target = consolidate(cons, [quarters[q].target for q in with_target])
            if period == "Y" and anchor.target_y is not None:
                target = anchor.target_y
            if not with_target:
                real = None
            elif cons == "take_last_known":
                real = realisations.get(with_target[-1])
            elif any(q not in realisations for q in with_target):
                real = None
            else:
                real = consolidate(cons, [realisations[q] for q in with_target])
        value = ici(anchor.polarity, real, target, anchor.tolerance, anchor.target_is_max)
        out[period] = {
            "target": target,
            "realisation": real,
            "ici": value,
            "colour": colour(value),
            "weight": anchor.weight,
            "perspective": anchor.perspective,
            "polarity": anchor.polarity,
            "consolidation": anchor.consolidation,
        }
    return out


def nko(lines: Iterable[Mapping], perspective_weights: Mapping[str, float] | None = None
        ) -> tuple[float | None, int]:
    """(NKO, iku_scored) of one KK and period from its line rows (weight, perspective, ici)."""
    scored = [ln for ln in lines if ln["ici"] is not None]
    if not scored:
        return None, 0
    by_p: dict[str, list[Mapping]] = {}
    for ln in scored:
        by_p.setdefault(ln["perspective"], []).append(ln)
    num = den = 0.0
    for p, rows in by_p.items():
        w_sum = sum(r["weight"] for r in rows)
        weighted = sum(r["weight"] * r["ici"] for r in rows)
        w_p = (perspective_weights or {}).get(p)
        if w_p is None:  # no configuration: the plain weighted mean
            num += weighted
            den += w_sum
        else:
            num += w_p * weighted / w_sum
            den += w_p
    return (round(num / den, DECIMALS) if den else None), len(scored)
