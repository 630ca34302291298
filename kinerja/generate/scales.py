"""What each scale holds: the tree's fan-out per level and the shares of each kind of event."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    eselon_i: int
    # (low, high) inclusive number of children per unit for levels 2, 3, 4 and staff per Eselon IV
    eselon_ii: tuple[int, int]
    eselon_iii: tuple[int, int]
    eselon_iv: tuple[int, int]
    staff: tuple[int, int]


SCALES = {
    "tiny": Scale("tiny", 1, (2, 2), (2, 2), (1, 2), (4, 6)),
    "small": Scale("small", 1, (8, 8), (5, 7), (3, 3), (10, 14)),
    "ministry": Scale("ministry", 12, (10, 15), (6, 9), (2, 4), (15, 28)),
}


@dataclass(frozen=True)
class Shares:
    """Shares of KKs (or reports, or rows) per phenomenon; every scale gets at least the minimum
    count written next to each so that even `tiny` exercises every rule."""
    addendum: float = 0.08
    komplemen: float = 0.05
    plt: float = 0.01
    plt_before_komplemen: float = 0.2   # of komplemen KKs whose position had a Plt first
    mid_year_signed: float = 0.025      # of staff KKs: new_cpns / returning / transfer_in
    signed_late: float = 0.02
    missing_approval: float = 0.003
    weights_not_100: float = 0.003
    trajectory_inconsistent: float = 0.003
    cascade_orphan: float = 0.002
    direct_multi: float = 0.005         # of parent lines with indirect children
    cascade_target_differs: float = 0.01  # of direct leaf lines
    s1_overachieved_without_addendum: float = 0.002
    report_missing: float = 0.015
    report_late: float = 0.03
    report_correction: float = 0.03
    report_unknown_iku: float = 0.0005
    direct_realisation_differs: float = 0.05
    bad_rows: float = 0.005


SHARES = Shares()


def at_least(share: float, n: int, minimum: int) -> int:
    return max(minimum, int(round(share * n)))
