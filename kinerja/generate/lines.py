"""The IKU lines of every signed KK: templates, weights, trajectories and cascading.

Lines live in a `LineBook` of flat numpy arrays (one row per line of one KK). Addenda and komplemen
append rows and edit `in_force` / `target_in_force`, which the realisations are drawn from.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import trajectories as tr
from .scales import SHARES, at_least

DIRECT, INDIRECT, NON_CASCADING = 0, 1, 2
CASCADE_NAMES = np.array(["direct", "indirect", "non_cascading"], dtype=object)


@dataclass
class LineBook:
    kk: np.ndarray               # contract index
    code: np.ndarray             # iku_code (object)
    tpl: np.ndarray              # template index
    weight: np.ndarray
    tolerance: np.ndarray        # NaN: null
    targets: np.ndarray          # (n, 4) as signed / declared, NaN: no target
    target_y: np.ndarray
    cascade: np.ndarray          # DIRECT / INDIRECT / NON_CASCADING
    parent_line: np.ndarray      # row of the parent line, -1 when none
    parent_code: np.ndarray      # parent_iku_code as written (object, None when none)
    in_force: np.ndarray         # (n, 4) bool: the line is in force in that quarter
    target_in_force: np.ndarray  # (n, 4) the target in force in that quarter (after addenda)
    s1_overachieved: np.ndarray  # bool: realisation of Q1+Q2 is drawn to reach target_y

    def __len__(self) -> int:
        return len(self.kk)

    def append(self, other: "LineBook") -> range:
        start = len(self)
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))
        return range(start, len(self))

    def take(self, rows) -> "LineBook":
        return LineBook(**{f.name: getattr(self, f.name)[rows].copy() for f in fields(self)})


def iku_codes(k: np.ndarray) -> np.ndarray:
    return np.char.add("IKU-", np.char.zfill((k + 1).astype(str), 2)).astype(object)


def integer_weights(rng, kk: np.ndarray, n_lines: np.ndarray) -> np.ndarray:
    """Whole-percent weights, at least 3 each, summing to exactly 100 per KK."""
    draw = rng.gamma(2.0, 1.0, len(kk))
    per_kk = np.bincount(kk, weights=draw)
    spare = 100 - 3 * n_lines
    weight = 3 + np.floor(spare[kk] * draw / per_kk[kk])
    deficit = 100 - np.bincount(kk, weights=weight)
    first = np.r_[0, np.cumsum(n_lines)[:-1]]
    weight[first] += deficit
    return weight


def _choose_parent_lines(rng, child_kk, parent_kk, n_cascaded, offsets, n_lines):
    """Distinct parent lines per child KK: returns (child line rows, parent line rows)."""
    keys = rng.random((len(child_kk), 15))
    keys[np.arange(15)[None, :] >= n_lines[parent_kk][:, None]] = np.inf
    picks = np.argsort(keys, axis=1, kind="stable")
    take = np.arange(15)[None, :] < n_cascaded[:, None]
    rows, cols = np.nonzero(take)
    child_rows = offsets[child_kk[rows]] + cols
    parent_rows = offsets[parent_kk[rows]] + picks[rows, cols]
    return child_rows, parent_rows


def _split_sum(rng, parent_rows, child_rows, targets, tpl):
    """Integer parts of each parent's quarterly targets, exactly summing to them."""
    step = tr.STEP[tpl[child_rows]][:, None]
    share = rng.uniform(0.5, 1.5, len(child_rows))
    share /= np.bincount(parent_rows, weights=share, minlength=parent_rows.max() + 1)[parent_rows]
    units = targets[parent_rows] / step
    parts = np.floor(units * share[:, None])
    order = np.argsort(parent_rows, kind="stable")
    first = order[np.r_[True, parent_rows[order][1:] != parent_rows[order][:-1]]]
    for q in range(4):
        given = np.bincount(parent_rows, weights=np.nan_to_num(parts[:, q]),
                            minlength=parent_rows.max() + 1)
        parts[first, q] += np.nan_to_num(units[first, q]) - given[parent_rows[first]]
    parts = np.where(parts <= 0, np.nan, parts)  # a zero part: that child has no target then
    return np.round(parts * step, 6)


def signed_lines(rng, level: np.ndarray, superior: np.ndarray, start_quarter: np.ndarray):
    """Lines of one signed KK per position (positions are ordered parents first)."""
    n_kk = len(level)
    n_lines = rng.integers(8, 16, n_kk)
    offsets = np.r_[0, np.cumsum(n_lines)[:-1]]
    kk = np.repeat(np.arange(n_kk), n_lines)
    k = np.arange(len(kk)) - offsets[kk]
    n = len(kk)
    line_level = level[kk]

    tpl = rng.choice(len(tr.PICK_P), n, p=tr.PICK_P)
    targets = np.full((n, 4), np.nan)
    cascade = np.full(n, NON_CASCADING, dtype=np.int8)
    parent_line = np.full(n, -1)
    mid_year = start_quarter > 1

    for lv in range(6):
        at_level = np.flatnonzero(level == lv)
        if lv > 0:
            children = at_level[~mid_year[at_level]]
            parents = superior[children]
            high = 6 if lv < 5 else 4
            n_cascaded = np.minimum(rng.integers(1 if lv == 5 else 2, high + 1, len(children)),
                                    np.minimum(n_lines[children] - 1, n_lines[parents]))
            c_rows, p_rows = _choose_parent_lines(rng, children, parents, n_cascaded, offsets,
                                                  n_lines)
            tpl[c_rows] = tpl[p_rows]
            parent_line[c_rows] = p_rows
        rows = np.flatnonzero(line_level == lv)
        targets[rows] = tr.draw(rng, tpl[rows], line_level[rows])
        if lv == 0:
            continue
        n_children = np.bincount(p_rows, minlength=n)[p_rows]
        direct = n_children == 1
        cascade[c_rows] = np.where(direct, DIRECT, INDIRECT)
        own = targets[c_rows].copy()
        targets[c_rows] = targets[p_rows]
        is_sum = tr.SHAPE[tpl[c_rows]] == "sum"
        split = ~direct & is_sum
        if split.any():
            parts = _split_sum(rng, p_rows[split], c_rows[split], targets, tpl)
            keep = ~np.isnan(parts).all(axis=1)  # too small to split: the child sets its own
            targets[c_rows[split][keep]] = parts[keep]
            dropped = c_rows[split][~keep]
            cascade[dropped], parent_line[dropped] = NON_CASCADING, -1
            targets[dropped] = own[split][~keep]
            # a part left alone after its siblings dropped out is the whole indicator: direct
            still = parent_line[c_rows] >= 0
            alone = c_rows[still & (np.bincount(parent_line[c_rows[still]], minlength=n)[
                p_rows] == 1) & (cascade[c_rows] == INDIRECT)]
            cascade[alone] = DIRECT
            targets[alone] = targets[parent_line[alone]]

    # KKs starting mid-year have targets only from their first quarter
    late_quarters = np.arange(4)[None, :] < (start_quarter[kk] - 1)[:, None]
    targets[late_quarters] = np.nan
    empty = np.isnan(targets).all(axis=1)
    targets[empty, 3] = tr.draw(rng, tpl[empty], line_level[empty])[:, 3]

    parent_code = np.where(parent_line >= 0, iku_codes(k[np.maximum(parent_line, 0)]), None)
    tolerance = tr.tolerance(rng, tpl)
    for lv in range(1, 6):  # the same indicator handed down keeps its scoring band
        same = np.flatnonzero((cascade == DIRECT) & (line_level == lv))
        tolerance[same] = tolerance[parent_line[same]]
    book = LineBook(
        kk=kk, code=iku_codes(k), tpl=tpl, weight=integer_weights(rng, kk, n_lines),
        tolerance=tolerance, targets=targets,
        target_y=tr.consolidate(targets, tr.CONSOLIDATION[tpl]), cascade=cascade,
        parent_line=parent_line, parent_code=parent_code.astype(object),
        in_force=~late_quarters, target_in_force=targets.copy(),
        s1_overachieved=np.zeros(n, bool))
    _inject_rule_breaks(rng, book, line_level, n_lines, offsets)
    return book


def _inject_rule_breaks(rng, book: LineBook, line_level, n_lines, offsets) -> None:
    """A few lines that break business rules, as real producers do (audit findings)."""
    n, n_kk = len(book), len(n_lines)
    has_children = np.zeros(n, bool)
    has_children[book.parent_line[book.parent_line >= 0]] = True
    leaf = np.flatnonzero((line_level == 5) & (book.cascade == NON_CASCADING) & ~has_children)

    # TARGET_NOT_SCORABLE: "zero repeated findings" lines come from the catalogue; at least one
    zero_tpl = int(np.flatnonzero(tr.SHAPE == "zero")[0])
    full_year = leaf[~np.isnan(book.targets[leaf]).any(axis=1)]
    if not (book.tpl[leaf] == zero_tpl).any() and len(full_year):
        row = full_year[-1]
        book.tpl[row], book.targets[row], book.target_y[row] = zero_tpl, 0.0, 0.0
        book.tolerance[row] = np.nan
        leaf = leaf[leaf != row]

    # TRAJECTORY_INCONSISTENT: an annual target that is not the quarters' consolidation
    bad_y = rng.choice(leaf, at_least(SHARES.trajectory_inconsistent, n, 2), replace=False)
    book.target_y[bad_y] = np.round(book.target_y[bad_y] * 1.1 + 1, 6)

    # WEIGHTS_NOT_100: a KK whose weights add up to 105
    bad_kk = rng.choice(np.unique(book.kk[leaf]), at_least(SHARES.weights_not_100, n_kk, 1),
                        replace=False)
    book.weight[offsets[bad_kk]] += 5

    direct = np.flatnonzero((book.parent_line >= 0) & (book.cascade == DIRECT))
    # CASCADE_ORPHAN: the parent IKU named does not exist in the parent KK
    orphan = rng.choice(direct, at_least(SHARES.cascade_orphan, n, 1), replace=False)
    book.parent_code[orphan] = "IKU-99"
    # CASCADE_DIRECT_MULTI: an indirect group whose children all claim `direct`
    # (only groups of leaf lines, so no grandchild has split the old targets)
    indirect_parents = np.unique(book.parent_line[(book.cascade == INDIRECT) & ~has_children])
    indirect_parents = np.setdiff1d(indirect_parents,
                                    book.parent_line[(book.cascade == INDIRECT) & has_children])
    multi = rng.choice(indirect_parents,
                       at_least(SHARES.direct_multi, len(indirect_parents), 1), replace=False)
    group = np.isin(book.parent_line, multi) & ~np.isin(np.arange(n), orphan)
    book.cascade[group] = DIRECT
    book.targets[group] = book.targets[book.parent_line[group]]
    book.target_y[group] = book.target_y[book.parent_line[group]]

    # CASCADE_TARGET_MISMATCH: a direct leaf child that raised its Q4 target on its own
    loose = np.flatnonzero((book.cascade == DIRECT) & ~has_children & ~group
                           & ~np.isin(np.arange(n), orphan) & ~np.isnan(book.targets[:, 3]))
    raised = rng.choice(loose, at_least(SHARES.cascade_target_differs, len(loose), 1),
                        replace=False)
    step = tr.STEP[book.tpl[raised]]
    book.targets[raised, 3] += np.where(tr.IS_PERCENT[book.tpl[raised]], -step, step)
    book.target_y[raised] = tr.consolidate(book.targets[raised], tr.CONSOLIDATION[book.tpl[raised]])
    book.target_in_force = book.targets.copy()
