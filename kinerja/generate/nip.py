"""Realistic 18-digit NIPs: birth date, appointment month, sex digit, 3-digit sequence."""
from __future__ import annotations

import numpy as np


def make_nips(rng, levels: np.ndarray, year: int) -> np.ndarray:
    """One unique NIP per person; senior levels are older. Returns an object array of str."""
    n = len(levels)
    # senior officials are older: level 0 is 56..64 years old, staff anywhere from 25 to 58
    oldest = year - np.array([64, 62, 60, 58, 56, 58])[levels]
    youngest = year - np.array([56, 52, 48, 42, 36, 25])[levels]
    birth_year = rng.integers(oldest, youngest + 1)
    birth = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + rng.integers(
        0, 365, n).astype("timedelta64[D]")
    appoint_year = np.minimum(birth_year + rng.integers(22, 31, n), year - 1)
    appoint_month = rng.choice([1, 3, 12], n, p=[0.6, 0.3, 0.1])
    sex = rng.integers(1, 3, n)
    prefix = np.char.add(np.char.add(
        np.char.replace(np.datetime_as_string(birth, unit="D"), "-", ""),
        np.char.add(appoint_year.astype(str), np.char.zfill(appoint_month.astype(str), 2))),
        sex.astype(str))
    # the sequence makes NIPs unique among people sharing birth date, appointment and sex
    order = np.argsort(prefix, kind="stable")
    sorted_prefix = prefix[order]
    new_group = np.r_[True, sorted_prefix[1:] != sorted_prefix[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(n) - group_start + 1
    return np.char.add(prefix, np.char.zfill(seq.astype(str), 3)).astype(object)
