"""The KK registry (one per position, plus komplemen successors) and the `signed` events."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import calendar as cal
from .nip import make_nips
from .org import Positions
from .scales import SHARES, at_least

MID_YEAR_REASONS = np.array(["new_cpns", "returning", "transfer_in"], dtype=object)


@dataclass
class Contracts:
    contract_id: np.ndarray     # object
    position: np.ndarray        # index into Positions
    holder_nip: np.ndarray      # object
    supervisor_nip: np.ndarray  # object, None: not co-signed
    parent: np.ndarray          # index of the superior's KK (as signed), -1 at level 0
    start_quarter: np.ndarray   # first quarter with targets

    def __len__(self) -> int:
        return len(self.contract_id)

    def append(self, other: "Contracts") -> range:
        start = len(self)
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))
        return range(start, len(self))


def contract_ids(year: int, seq: np.ndarray) -> np.ndarray:
    return np.char.add(f"KK-{year}-", np.char.zfill((seq + 1).astype(str), 6)).astype(object)


@dataclass
class SignedPlan:
    """Dates and reasons of the `signed` events, one per position."""
    reason: np.ndarray
    effective_date: np.ndarray
    signed_date: np.ndarray


def plan_signed(rng, positions: Positions, year: int) -> SignedPlan:
    n = len(positions.level)
    reason = np.full(n, "annual", dtype=object)
    effective = np.full(n, cal.day(year, 1, 1))
    # ordinary KKs are signed in January; a few late ones in February
    signed = cal.next_weekday(cal.random_days(rng, cal.day(year, 1, 2), cal.day(year, 1, 30), n))
    late = rng.random(n) < SHARES.signed_late
    late[rng.integers(1, n)] = True
    signed[late] = cal.next_weekday(cal.random_days(rng, cal.day(year, 2, 2),
                                                    cal.day(year, 2, 27), int(late.sum())))

    staff = np.flatnonzero(positions.level == 5)
    n_mid = at_least(SHARES.mid_year_signed, len(staff), 3)
    mid = rng.choice(staff, n_mid, replace=False)
    reason[mid] = MID_YEAR_REASONS[np.arange(n_mid) % 3]
    effective[mid] = cal.next_weekday(cal.random_days(rng, cal.day(year, 2, 1),
                                                      cal.day(year, 10, 10), n_mid))
    # one new CPNS appointed after the 18 October cutoff still signs (KK_AFTER_CUTOFF)
    effective[mid[0]] = cal.next_weekday(np.array([cal.day(year, 11, 2)]))[0]
    delay = np.where(rng.random(n_mid) < 0.1, rng.integers(25, 40, n_mid),
                     rng.integers(1, 12, n_mid))
    signed[mid] = effective[mid] + delay.astype("timedelta64[D]")
    return SignedPlan(reason, effective, signed)


def build_contracts(rng, positions: Positions, plan: SignedPlan, year: int,
                    n_extra_people: int) -> tuple[Contracts, np.ndarray]:
    """One KK per position; returns it and the NIPs of the extra people (komplemen successors)."""
    n = len(positions.level)
    people_levels = np.concatenate([positions.level,
                                    rng.choice(positions.level, n_extra_people)])
    nips = make_nips(rng, people_levels, year)
    holder = nips[:n].copy()
    # a Plt already acting on 1 January signs the KK of the position (DOMAIN.md section 6):
    # the superior holds a few Eselon IV positions too
    eselon_iv = np.flatnonzero(positions.level == 4)
    acting = rng.choice(eselon_iv, max(1, len(eselon_iv) // 200), replace=False)
    holder[acting] = holder[positions.superior[acting]]

    supervisor = np.where(positions.superior >= 0, holder[np.maximum(positions.superior, 0)], None)
    below_top = np.flatnonzero(positions.level > 0)
    unapproved = rng.choice(below_top, at_least(SHARES.missing_approval, n, 1), replace=False)
    supervisor[unapproved] = None

    contracts = Contracts(
        contract_id=contract_ids(year, np.arange(n)), position=np.arange(n),
        holder_nip=holder, supervisor_nip=supervisor.astype(object),
        parent=positions.superior.copy(),
        start_quarter=cal.quarter_of(plan.effective_date))
    return contracts, nips[n:]
