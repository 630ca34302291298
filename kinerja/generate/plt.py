"""`plt_transfer` events: an acting official (Plt) takes over a KK, then hands it back."""
from __future__ import annotations

import numpy as np

from . import calendar as cal
from .events import EventBatch, World, event_columns, event_ids, recorded_after


def plt_events(rng, world: World, acting_kk: np.ndarray, sk_dates: np.ndarray,
               return_dates: np.ndarray) -> EventBatch:
    """One `acting` event per KK; a `return` event where a return date is given (not NaT)."""
    c = world.contracts
    # the Plt is the direct superior, who holds the position on top of their own
    superior_kk = c.parent[acting_kk]
    acting_nip = c.holder_nip[superior_kk]
    returns = ~np.isnat(return_dates)
    kk = np.concatenate([acting_kk, acting_kk[returns]])
    holder = np.concatenate([acting_nip, c.holder_nip[acting_kk[returns]]])
    effective = np.concatenate([sk_dates, return_dates[returns]])
    reason = np.array(["acting"] * len(acting_kk) + ["return"] * int(returns.sum()), dtype=object)
    order = np.lexsort((reason == "return", kk))
    kk, holder, effective, reason = kk[order], holder[order], effective[order], reason[order]
    n = len(kk)
    cols = event_columns(
        world, kk, event_id=event_ids(world.year, "P", n), event_type="plt_transfer",
        holder_nip=holder, supervisor_nip=c.supervisor_nip[kk], effective_date=effective,
        signed_date=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        recorded_at=recorded_after(rng, effective), reason=reason)
    empty = world.book.take(np.array([], dtype=int))
    return EventBatch(cols, empty, np.array([], dtype=int), np.array([], dtype=object))


def plan_plt(rng, world: World, candidates: np.ndarray, count: int):
    """SK dates in February..August; the definitive holder returns one to four months later."""
    kk = np.sort(rng.choice(candidates, min(count, len(candidates)), replace=False))
    year = world.year
    sk = cal.next_weekday(cal.random_days(rng, cal.day(year, 2, 1), cal.day(year, 8, 31), len(kk)))
    back = cal.next_weekday(sk + rng.integers(30, 120, len(kk)).astype("timedelta64[D]"))
    return kk, sk, back
