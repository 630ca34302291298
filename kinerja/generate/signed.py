"""`signed` events: one per position, carrying all its lines."""
from __future__ import annotations

import numpy as np

from .contracts import SignedPlan
from .events import EventBatch, World, event_columns, recorded_after


def signed_events(rng, world: World, plan: SignedPlan) -> EventBatch:
    n = len(plan.reason)
    contract = np.arange(n)
    c = world.contracts
    cols = event_columns(
        world, contract, event_id=np.char.add(
            f"EV-{world.year}-S", np.char.zfill((contract + 1).astype(str), 6)).astype(object),
        event_type="signed", holder_nip=c.holder_nip[:n], supervisor_nip=c.supervisor_nip[:n],
        effective_date=plan.effective_date, signed_date=plan.signed_date,
        recorded_at=recorded_after(rng, plan.signed_date), reason=plan.reason)
    rows = np.arange(world.signed_lines)  # later rows are added by addenda and komplemen
    lines = world.book.take(rows)
    return EventBatch(cols, lines, lines.kk.copy(), np.full(len(rows), None, dtype=object))
