"""Event rows of the contract_events feed: columns derived from the KK and its position."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contracts import Contracts
from .lines import LineBook
from .org import Positions, Units


@dataclass
class World:
    """Everything the event builders look up: the tree, positions, KKs and lines."""
    year: int
    units: Units
    positions: Positions
    contracts: Contracts
    book: LineBook
    signed_lines: int  # the book's first rows are the signed KKs' lines, in KK order


@dataclass
class EventBatch:
    """Event rows plus their lines: `lines` rows with `line_event` (row index of the event,
    non-decreasing) and `line_op` (None / 'upsert' / 'remove')."""
    columns: dict[str, np.ndarray]
    lines: LineBook
    line_event: np.ndarray
    line_op: np.ndarray
    late: np.ndarray | None = None  # filed after its deadline: goes to the late-filings file

    def __len__(self) -> int:
        return len(self.columns["event_id"])


def event_ids(year: int, letter: str, n: int, start: int = 0) -> np.ndarray:
    seq = np.arange(start + 1, start + n + 1)
    return np.char.add(f"EV-{year}-{letter}", np.char.zfill(seq.astype(str), 6)).astype(object)


def event_columns(world: World, contract: np.ndarray, *, event_id, event_type, holder_nip,
                  supervisor_nip, effective_date, signed_date, recorded_at, reason,
                  effective_period=None, replaces=None) -> dict[str, np.ndarray]:
    n = len(contract)
    c, pos, units = world.contracts, world.positions, world.units
    position = c.position[contract]
    parent = c.parent[contract]
    unit_ids = np.array(units.unit_id, dtype=object)
    none = np.full(n, None, dtype=object)
    return {
        "event_id": event_id,
        "event_type": np.full(n, event_type, dtype=object),
        "contract_id": c.contract_id[contract],
        "year": np.full(n, world.year, dtype=np.int32),
        "position_id": np.array(pos.position_id, dtype=object)[position],
        "position_level": pos.level[position].astype(np.int32),
        "unit_id": unit_ids[pos.unit[position]],
        "is_unit_head": pos.is_head[position],
        "holder_nip": holder_nip,
        "supervisor_nip": supervisor_nip,
        "parent_contract_id": np.where(parent >= 0, c.contract_id[np.maximum(parent, 0)], None),
        "replaces_contract_id": none if replaces is None else c.contract_id[replaces],
        "effective_date": effective_date,
        "signed_date": signed_date,
        "effective_period": none if effective_period is None else effective_period,
        "reason": reason,
        "recorded_at": recorded_at,
    }


def recorded_after(rng, days: np.ndarray) -> np.ndarray:
    """The source system records an event a few hours to two days after the signature."""
    return days.astype("datetime64[us]") + (rng.integers(1, 48, len(days)) * 3600
                                            + rng.integers(0, 3600, len(days))
                                            ).astype("timedelta64[s]").astype("timedelta64[us]")
