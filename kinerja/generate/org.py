"""The organisation tree (units of levels 0..4) and its positions (one KK slot each)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import ESELON_I, PROVINCES, TOPICS
from .scales import Scale


@dataclass
class Units:
    unit_id: list[str]
    name: list[str]
    level: np.ndarray          # int
    parent: np.ndarray         # index into units, -1 for the root
    eselon_i: np.ndarray       # index of the Eselon I ancestor, -1 for the root


@dataclass
class Positions:
    """One row per jabatan that signs a KK, ordered by level then by unit (parents first)."""
    position_id: list[str]
    level: np.ndarray
    unit: np.ndarray           # index into Units
    is_head: np.ndarray
    superior: np.ndarray       # index of the direct superior's position, -1 at level 0


def _children(rng, parents: np.ndarray, bounds: tuple[int, int]) -> np.ndarray:
    counts = rng.integers(bounds[0], bounds[1] + 1, len(parents))
    return np.repeat(parents, counts)


def build_units(rng, scale: Scale) -> Units:
    ids, names, levels, parents = ["KEMENKEU"], ["Kementerian Keuangan"], [0], [-1]
    e1 = [-1]
    for code, name in ESELON_I[:scale.eselon_i]:
        ids.append(code), names.append(name), levels.append(1), parents.append(0)
        e1.append(len(ids) - 1)

    def add_level(level: int, bounds: tuple[int, int]) -> None:
        level_parents = np.array([i for i, lv in enumerate(levels) if lv == level - 1])
        rows = _children(rng, level_parents, bounds)
        seq_in_parent = np.zeros(len(rows), dtype=int)
        for k in range(1, len(rows)):
            seq_in_parent[k] = seq_in_parent[k - 1] + 1 if rows[k] == rows[k - 1] else 0
        topic_offset = rng.integers(0, len(TOPICS), len(level_parents))
        offset_of = dict(zip(level_parents.tolist(), topic_offset.tolist()))
        for parent, seq in zip(rows.tolist(), seq_in_parent.tolist()):
            topic = TOPICS[(offset_of[parent] + seq) % len(TOPICS)]
            pid, n = ids[parent], seq + 1
            if level == 2:
                regional = seq >= 6  # large Eselon I units run regional offices
                if seq == 0:
                    uid, name = f"{pid}-SES", f"Sekretariat {names[parent]}"
                elif regional:
                    prov = PROVINCES[(seq - 6) % len(PROVINCES)]
                    uid, name = f"{pid}-KW{n:02d}", f"Kantor Wilayah {pid} Provinsi {prov}"
                else:
                    uid, name = f"{pid}-DIT{n:02d}", f"Direktorat {topic}"
            elif level == 3:
                kind = "Bidang" if "-KW" in pid else "Subdirektorat" if "-DIT" in pid else "Bagian"
                uid, name = f"{pid}-{kind[:3].upper()}{n}", f"{kind} {topic}"
            else:
                kind = "Subbagian" if "-BAG" in pid else "Seksi"
                uid, name = f"{pid}-{kind[:3].upper()}{n}", f"{kind} {topic}"
            ids.append(uid), names.append(name), levels.append(level), parents.append(parent)
            e1.append(e1[parent] if level > 1 else len(ids) - 1)

    add_level(2, scale.eselon_ii)
    add_level(3, scale.eselon_iii)
    add_level(4, scale.eselon_iv)
    return Units(ids, names, np.array(levels), np.array(parents), np.array(e1))


def build_positions(rng, units: Units, scale: Scale) -> Positions:
    """A head position per unit, plus staff positions (level 5) in every Eselon IV unit."""
    n_units = len(units.unit_id)
    head_of_unit = np.arange(n_units)
    eselon_iv = np.flatnonzero(units.level == 4)
    staff_unit = _children(rng, eselon_iv, scale.staff)

    level = np.concatenate([units.level, np.full(len(staff_unit), 5)])
    unit = np.concatenate([head_of_unit, staff_unit])
    is_head = np.concatenate([np.ones(n_units, bool), np.zeros(len(staff_unit), bool)])
    # a head's superior heads the parent unit; staff report to their Eselon IV head
    superior = np.concatenate([units.parent, staff_unit])
    order = np.lexsort((np.arange(len(level)), level))  # stable by level: parents first
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    level, unit, is_head, superior = level[order], unit[order], is_head[order], superior[order]
    superior = np.where(superior >= 0, rank[np.maximum(superior, 0)], -1)

    ids, staff_seq = [], {}
    for u, head in zip(unit.tolist(), is_head.tolist()):
        if head:
            ids.append(f"POS-{units.unit_id[u]}")
        else:
            staff_seq[u] = staff_seq.get(u, 0) + 1
            ids.append(f"POS-{units.unit_id[u]}-P{staff_seq[u]:02d}")
    return Positions(ids, level, unit, is_head, superior)


def unit_versions(units: Units, year: int) -> dict[str, list]:
    """Rows of the units feed: every unit in force, plus the history of a reorganisation.

    Every 200th unit below Eselon I was renamed on 1 January `year - 4` (an older closed
    version precedes the current one), and one Seksi was dissolved the year before (closed,
    nobody holds a position in it)."""
    from datetime import date

    rows = {"unit_id": [], "parent_unit_id": [], "name": [], "level": [], "valid_from": [],
            "valid_to": []}

    def add(uid, parent, name, level, start, end):
        for key, value in zip(rows, (uid, parent, name, level, start, end)):
            rows[key].append(value)

    reorganised = date(year - 4, 1, 1)
    renamed = 0
    for i, (uid, name, level, parent) in enumerate(zip(units.unit_id, units.name,
                                                       units.level.tolist(),
                                                       units.parent.tolist())):
        parent_id = units.unit_id[parent] if parent >= 0 else None
        if level >= 2 and i % 200 == 0:
            renamed += 1
            add(uid, parent_id, name.split(" ", 1)[0] + " Pengelolaan " + name.split(" ", 1)[-1],
                level, date(2016, 1, 1), reorganised - date.resolution)
            add(uid, parent_id, name, level, reorganised, None)
        else:
            add(uid, parent_id, name, level, date(2020, 1, 1), None)
    eselon_iii = int(np.flatnonzero(units.level == 3)[0])
    add(units.unit_id[eselon_iii] + "-ARSIP", units.unit_id[eselon_iii], "Seksi Arsip", 4,
        date(2016, 1, 1), date(year - 1, 6, 30))
    return rows
