"""`addendum` events: retargets, removed and added lines, approvals and deadlines."""
from __future__ import annotations

import numpy as np

from . import calendar as cal
from . import trajectories as tr
from .events import EventBatch, World, event_columns, event_ids, recorded_after
from .lines import NON_CASCADING, iku_codes
from .scales import SHARES, at_least

REASONS = np.array(["apbn_change", "semester_target_met", "regulation", "minister_policy",
                    "staffing_change", "other"], dtype=object)
REASON_P = [0.15, 0.2, 0.15, 0.15, 0.15, 0.2]
KINDS = np.array(["retarget", "revise_past", "remove", "add"], dtype=object)
KIND_P = [0.84, 0.06, 0.05, 0.05]


def _retarget(rng, targets: np.ndarray, tpl: int, first_q: int) -> np.ndarray:
    """A new trajectory from quarter index `first_q` on (earlier quarters unchanged)."""
    new = targets.copy()
    step = tr.STEP[tpl]
    factor = rng.uniform(0.85, 1.25)
    new[first_q:] = tr.snap(new[first_q:] * factor, step)
    if tr.SHAPE[tpl] == "sum":
        new[first_q:] = np.maximum(new[first_q:], step)
    if tr.IS_PERCENT[tpl]:
        new = np.minimum(new, 100.0)
    if tr.PROGRESS[tpl]:
        new = np.fmax.accumulate(new)
    if new[first_q] == targets[first_q]:  # the change must show in its first quarter
        at_top = tr.IS_PERCENT[tpl] and targets[first_q] >= 100
        new[first_q] = targets[first_q] + (-step if at_top else step)
        if tr.PROGRESS[tpl]:
            new = np.fmax.accumulate(new)
    return new


def addendum_events(rng, world: World, eligible: np.ndarray) -> tuple[EventBatch, np.ndarray]:
    """Addenda for a share of the eligible KKs; edits the book's in-force targets.

    Returns the batch and the KKs that got one."""
    year, book, c = world.year, world.book, world.contracts
    n_kk = len(c)
    count = min(len(eligible), at_least(SHARES.addendum, n_kk, 8))
    chosen = rng.choice(eligible, count, replace=False)
    reason = rng.choice(REASONS, count, p=REASON_P)
    kind = rng.choice(KINDS, count, p=KIND_P)
    level_of = world.positions.level[c.position]
    # staffing changes are for level-5 KKs; a few other levels try it anyway
    wrong_level = (reason == "staffing_change") & (level_of[chosen] != 5) & (
        rng.random(count) < 0.9)
    reason[wrong_level] = "other"

    has_children = np.zeros(len(book), bool)
    has_children[book.parent_line[book.parent_line >= 0]] = True
    free_line = ~has_children & (book.cascade == NON_CASCADING) & (tr.SHAPE[book.tpl] != "zero")
    free_of = np.bincount(book.kk[free_line], minlength=n_kk)
    sum_max = free_line & (tr.SHAPE[book.tpl] == "sum") & (tr.POLARITY[book.tpl] == "maximize")
    sum_max_of = np.bincount(book.kk[sum_max], minlength=n_kk)
    # every reason at least once, staffing changes both allowed (level 5) and not; where no
    # chosen KK fits, a KK whose reason is not needed elsewhere is swapped for one that does
    needs = (("semester_target_met", sum_max_of > 0), ("staffing_change", level_of == 5),
             ("staffing_change", level_of != 5), ("apbn_change", free_of >= 0),
             ("regulation", free_of >= 0), ("minister_policy", free_of >= 0),
             ("other", free_of >= 0))
    covered = np.zeros(count, bool)
    for value, fits in needs:
        hit = np.flatnonzero((reason == value) & fits[chosen] & ~covered)
        if len(hit):
            covered[hit[0]] = True
            continue
        spare = np.flatnonzero(~covered)
        if not len(spare):
            break
        j = spare[np.argmax(fits[chosen[spare]])]
        if not fits[chosen[j]]:
            pool = np.setdiff1d(eligible[fits[eligible]], chosen)
            if not len(pool):
                continue
            chosen[j] = rng.choice(pool)
        reason[j], covered[j] = value, True
    order = np.argsort(chosen)
    chosen, reason, kind = chosen[order], reason[order], kind[order]
    level, n_free = level_of[chosen], free_of[chosen]
    # a revision of the past, a removal and an addition at least once
    kind[np.flatnonzero((reason != "semester_target_met") & (n_free >= 2))[:3]] = KINDS[1:]

    first_row = np.searchsorted(book.kk, chosen)
    last_row = np.searchsorted(book.kk, chosen, side="right")

    periods, effective, signed, supervisor, lates = [], [], [], [], []
    src, op, ev, new_targets, new_weight, added = [], [], [], [], [], []
    for i, kk in enumerate(chosen.tolist()):
        rows = np.arange(first_row[i], last_row[i])
        # only lines outside any cascade, so a retarget breaks no parent-child agreement
        changeable = rows[free_line[rows]]
        if len(changeable) < 2:  # every line is cascaded: the KK can only add one
            kind[i] = "add"
        sum_max = changeable[(tr.SHAPE[book.tpl[changeable]] == "sum")
                             & (tr.POLARITY[book.tpl[changeable]] == "maximize")]
        if reason[i] == "semester_target_met" and len(sum_max) == 0:
            reason[i] = "other"
        r = reason[i]
        e = {"semester_target_met": 3, "apbn_change": int(rng.integers(2, 4)),
             "other": int(rng.integers(2, 4))}.get(r, int(rng.integers(2, 5)))
        cause = cal.quarter_start(year, e) + np.timedelta64(int(rng.integers(-40, 8)), "D")
        cause = max(cause, cal.day(year, 1, 2))
        if r == "semester_target_met":  # decided once the S1 figures are in, early July
            cause = cal.day(year, 7, 1) + np.timedelta64(int(rng.integers(0, 8)), "D")
        deadline = {"regulation": cal.day(year, 10, 18), "minister_policy": cal.day(year, 10, 18),
                    "staffing_change": min(cause + np.timedelta64(15, "D"),
                                           cal.day(year, 10, 18))}.get(r, cal.day(year, 7, 20))
        sign = min(cause + np.timedelta64(int(rng.integers(2, 12)), "D"), deadline)
        if rng.random() < 0.1 or sign < cause or i == count - 1:  # the last one late for sure
            sign = max(deadline, cause) + np.timedelta64(int(rng.integers(3, 40)), "D")
        approver = c.supervisor_nip[kk]
        if (r == "apbn_change" and rng.random() < 0.5) or rng.random() < 0.03:
            approver = None  # apbn changes need no approval; others miss it (MISSING_APPROVAL)
        periods.append(f"Q{e}"), effective.append(cause), signed.append(sign)
        lates.append(sign > deadline)
        supervisor.append(approver)

        def upsert(row, targets, weight=None):
            src.append(row), op.append("upsert"), ev.append(i), new_targets.append(targets)
            new_weight.append(book.weight[row] if weight is None else weight)
            added.append(False)
            book.target_in_force[row, e - 1:] = targets[e - 1:]

        if r == "semester_target_met":
            row = int(rng.choice(sum_max))
            old = book.target_in_force[row]
            book.s1_overachieved[row] = True
            # the new annual target lies above the S1 realisation, which values.draw_values
            # makes 1.1 x the old target, rounded up per quarter
            step = tr.STEP[book.tpl[row]]
            lift = max(1.1 * book.target_y[row] / max(np.nansum(old[:2]), 1e-9), 1.0)
            s1 = np.nansum(np.ceil(old[:2] * lift / step) * step)
            new_y = max(1.35 * book.target_y[row], s1 + step)
            gain = (new_y - np.nansum(old[:2])) / max(np.nansum(old[2:]), 1e-9)
            new = old.copy()
            new[2:] = np.maximum(np.ceil(np.round(old[2:] * gain / step, 6)) * step, old[2:])
            upsert(row, new)
            continue
        picks = rng.permutation(changeable)
        if kind[i] == "remove":
            gone, keeper = int(picks[0]), int(picks[1])
            src.append(gone), op.append("remove"), ev.append(i)
            new_targets.append(book.targets[gone]), new_weight.append(np.nan), added.append(False)
            book.in_force[gone, e - 1:] = False
            upsert(keeper, book.target_in_force[keeper].copy(),
                   book.weight[keeper] + book.weight[gone])
        elif kind[i] == "add":
            keeper = int(rows[np.argmax(book.weight[rows])])
            upsert(keeper, book.target_in_force[keeper].copy(), book.weight[keeper] - 5)
            src.append(keeper), op.append("upsert"), ev.append(i), added.append(True)
            new_weight.append(5.0)
            fresh = tr.draw(rng, np.array([book.tpl[keeper]]), np.array([level[i]]))[0]
            fresh[: e - 1] = np.nan
            new_targets.append(fresh)
        else:
            for row in picks[: int(rng.integers(1, 4))].tolist():
                first_changed = e - 2 if kind[i] == "revise_past" else e - 1
                upsert(row, _retarget(rng, book.target_in_force[row], book.tpl[row],
                                      first_changed))

    src, added = np.array(src), np.array(added)
    lines = book.take(src)
    lines.targets = np.array(new_targets)
    lines.weight = np.array(new_weight, dtype=float)
    lines.target_y = tr.consolidate(lines.targets, tr.CONSOLIDATION[lines.tpl])
    lines.tolerance = np.where(added, np.nan, lines.tolerance)
    new_code_seq = np.array([last_row[ev_i] - first_row[ev_i] for ev_i in np.array(ev)[added]])
    lines.code[added] = iku_codes(new_code_seq)
    lines.cascade[added], lines.parent_line[added], lines.parent_code[added] = NON_CASCADING, -1, None
    lines.target_y[np.array(op) == "remove"] = np.nan

    # an added line enters the book from its effective quarter
    new_rows = lines.take(np.flatnonzero(added))
    first_q = np.array([int(periods[k][1]) for k in np.array(ev)[added]])
    new_rows.in_force = np.arange(4)[None, :] >= (first_q - 1)[:, None]
    new_rows.target_in_force = new_rows.targets.copy()
    book.append(new_rows)

    effective, signed = np.array(effective), np.array(signed)
    cols = event_columns(
        world, chosen, event_id=event_ids(year, "A", count), event_type="addendum",
        holder_nip=c.holder_nip[chosen], supervisor_nip=np.array(supervisor, dtype=object),
        effective_date=effective, signed_date=signed, recorded_at=recorded_after(rng, signed),
        reason=reason, effective_period=np.array(periods, dtype=object))
    batch = EventBatch(cols, lines, np.array(ev), np.array(op, dtype=object), np.array(lates))
    return batch, chosen
