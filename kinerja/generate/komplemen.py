"""`komplemen` events: a successor's new KK with declared remaining targets (DOMAIN.md 6)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import calendar as cal
from . import trajectories as tr
from .contracts import Contracts, contract_ids
from .events import EventBatch, World, event_columns, event_ids, recorded_after
from .scales import SHARES, at_least

REASONS = np.array(["mutation", "promotion", "reorganisation", "returning"], dtype=object)


@dataclass
class KomplemenPlan:
    kk: np.ndarray            # predecessor KK
    start: np.ndarray         # successor's first working day
    signed: np.ndarray
    reason: np.ndarray
    handover: np.ndarray      # quarter 1..4 containing the start
    declared: np.ndarray      # 'rule', 'none' (targets not declared) or 'wrong'


def plan_komplemen(rng, world: World, eligible: np.ndarray) -> KomplemenPlan:
    year = world.year
    count = min(len(eligible), at_least(SHARES.komplemen, len(world.contracts), 4))
    kk = np.sort(rng.choice(eligible, count, replace=False))
    # most handovers mid-year; a few in Q1 (whole trajectory) and after the 18 October cutoff
    window = rng.choice(5, count, p=[0.1, 0.3, 0.35, 0.2, 0.05])
    window[rng.permutation(count)[:2]] = [0, 4]
    lo = np.array([cal.day(year, 1, 12), cal.day(year, 4, 1), cal.day(year, 7, 1),
                   cal.day(year, 10, 1), cal.day(year, 10, 19)])
    hi = np.array([cal.day(year, 3, 27), cal.day(year, 6, 26), cal.day(year, 9, 25),
                   cal.day(year, 10, 16), cal.day(year, 12, 4)])
    span = ((hi - lo) / cal.DAY).astype(int)[window]
    start = cal.next_weekday(lo[window] + (rng.random(count) * span).astype("timedelta64[D]"))
    late = rng.random(count) < 0.1
    late[rng.integers(count)] = True
    delay = np.where(late, rng.integers(25, 45, count), rng.integers(1, 15, count))
    reason = rng.choice(REASONS, count, p=[0.5, 0.25, 0.15, 0.1])
    reason[rng.permutation(count)[:4]] = REASONS
    declared = rng.choice(np.array(["rule", "none", "wrong"], dtype=object), count,
                          p=[0.8, 0.12, 0.08])
    declared[rng.permutation(count)[:2]] = ["none", "wrong"]
    return KomplemenPlan(kk, start, start + delay.astype("timedelta64[D]"), reason,
                         cal.quarter_of(start), declared)


def predecessor_realisation(values, reported, consolidation, handover):
    """R_prev over quarters before the handover (NaN: null)."""
    before = np.arange(4)[None, :] < (handover - 1)[:, None]
    seen = reported & before & ~np.isnan(values)
    v = np.where(seen, values, 0.0)
    count = seen.sum(axis=1)
    total = v.sum(axis=1)
    last_idx = 3 - np.argmax(seen[:, ::-1], axis=1)
    last = values[np.arange(len(values)), last_idx]
    r = np.where(consolidation == "sum", total,
                 np.where(consolidation == "average", total / np.maximum(count, 1), last))
    r = np.where((count == 0) & (consolidation != "sum"), np.nan, r)
    return np.where(handover == 1, 0.0, r)


def remaining_targets(targets, target_y, consolidation, progress, handover, r_prev):
    """The rule's quarterly targets (NaN before the handover) and Y for the successor."""
    n = len(targets)
    q_idx = np.arange(4)[None, :]
    before = q_idx < (handover - 1)[:, None]
    out = np.where(before, np.nan, targets)
    c_done = np.where(before, np.nan_to_num(targets), 0.0).sum(axis=1)
    prev_q = targets[np.arange(n), np.maximum(handover - 2, 0)]
    last_done = np.where(handover > 1, np.nan_to_num(prev_q), 0.0)
    r_or = np.nan_to_num(r_prev, nan=-np.inf)
    y = target_y.copy()

    is_sum = consolidation == "sum"
    excess = np.where(is_sum, np.maximum(0.0, r_or - c_done), 0.0)
    for q in range(4):
        take = np.minimum(excess, np.nan_to_num(out[:, q]))
        take = np.where(before[:, q], 0.0, take)
        out[:, q] = np.where(is_sum & ~np.isnan(out[:, q]), out[:, q] - take, out[:, q])
        excess -= take
    y = np.where(is_sum, target_y - np.maximum(r_or, c_done), y)

    avg = consolidation == "average"
    after = ~before & ~np.isnan(out)
    mean_after = np.where(after, out, 0.0).sum(axis=1) / np.maximum(after.sum(axis=1), 1)
    y = np.where(avg, np.where(after.any(axis=1), mean_after, np.nan), y)

    cum = (consolidation == "take_last_known") & progress
    floor = np.maximum(r_or, last_done)
    out = np.where(cum[:, None], out - floor[:, None], out)
    y = np.where(cum, target_y - floor, y)
    return np.maximum(out, 0.0), np.maximum(y, 0.0)


def komplemen_events(rng, world: World, plan: KomplemenPlan, values, reported,
                     successor_nips) -> tuple[EventBatch, np.ndarray, np.ndarray]:
    """Events, the book rows of the successors' lines (appended to world.book) and, per book
    row, the row of its successor's copy (-1: none)."""
    book, c, year = world.book, world.contracts, world.year
    pred_rows = np.flatnonzero(np.isin(book.kk, plan.kk) & (np.arange(len(book)) < len(values)))
    which = np.searchsorted(plan.kk, book.kk[pred_rows])
    h = plan.handover[which]
    # lines the predecessor had when handing over (an addendum-free KK: as signed)
    cons = tr.CONSOLIDATION[book.tpl[pred_rows]]
    r_prev = predecessor_realisation(values[pred_rows], reported[pred_rows], cons, h)
    computed_q, computed_y = remaining_targets(
        book.target_in_force[pred_rows], book.target_y[pred_rows], cons,
        tr.PROGRESS[book.tpl[pred_rows]], h, r_prev)

    mode = plan.declared[which]
    declared_q = np.where(mode[:, None] == "none", np.nan, computed_q)
    declared_y = np.where(mode == "none", np.nan, computed_y)
    # a wrong declaration: the successor copies the full annual target on one line per KK
    first_line = np.r_[True, which[1:] != which[:-1]]
    wrong = (mode == "wrong") & first_line
    declared_y[wrong] = np.where(book.target_y[pred_rows[wrong]] != computed_y[wrong],
                                 book.target_y[pred_rows[wrong]], computed_y[wrong] + 1)

    n = len(plan.kk)
    first_new = len(c)
    successors = Contracts(
        contract_id=contract_ids(year, np.arange(first_new, first_new + n)),
        position=c.position[plan.kk], holder_nip=successor_nips[:n],
        supervisor_nip=np.where(c.parent[plan.kk] >= 0,
                                c.holder_nip[np.maximum(c.parent[plan.kk], 0)], None),
        parent=c.parent[plan.kk], start_quarter=plan.handover)
    new_kk = np.array(c.append(successors))

    lines = book.take(pred_rows)
    lines.kk = new_kk[which]
    lines.targets, lines.target_y = declared_q, declared_y
    lines.in_force = np.arange(4)[None, :] >= (h - 1)[:, None]
    lines.target_in_force = np.where(np.isnan(declared_q), computed_q, declared_q)
    lines.s1_overachieved[:] = False
    book.in_force[pred_rows] &= ~lines.in_force
    new_rows = np.array(book.append(lines))

    cols = event_columns(
        world, new_kk, event_id=event_ids(year, "K", n), event_type="komplemen",
        holder_nip=successors.holder_nip, supervisor_nip=successors.supervisor_nip,
        effective_date=plan.start, signed_date=plan.signed,
        recorded_at=recorded_after(rng, plan.signed), reason=plan.reason, replaces=plan.kk)
    line_event = which
    late = (plan.signed - plan.start) > np.timedelta64(21, "D")
    successor = np.full(len(book), -1)
    successor[pred_rows] = new_rows
    batch = EventBatch(cols, book.take(new_rows), line_event,
                       np.full(len(new_rows), None, dtype=object), late)
    return batch, new_rows, successor
