"""Date arithmetic on numpy day arrays (datetime64[D]) for the data year."""
from __future__ import annotations

import numpy as np

DAY = np.timedelta64(1, "D")


def day(year: int, month: int, dom: int) -> np.datetime64:
    return np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D")


def quarter_start(year: int, q: int) -> np.datetime64:
    return day(year, 3 * (q - 1) + 1, 1)


def quarter_end(year: int, q: int) -> np.datetime64:
    return quarter_start(year + 1, 1) - DAY if q == 4 else quarter_start(year, q + 1) - DAY


def quarter_ends(year: int) -> np.ndarray:
    return np.array([quarter_end(year, q) for q in (1, 2, 3, 4)], dtype="datetime64[D]")


def quarter_of(days: np.ndarray) -> np.ndarray:
    """1..4 for each date."""
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    return (months // 3 + 1).astype(np.int64)


def next_weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the following Monday (people start work on a weekday)."""
    dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    shift = np.where(dow == 5, 2, np.where(dow == 6, 1, 0))
    return days + shift.astype("timedelta64[D]")


def random_days(rng, start: np.datetime64, end: np.datetime64, n: int) -> np.ndarray:
    """n uniform dates in [start, end]."""
    span = int((end - start) / DAY) + 1
    return start + rng.integers(0, span, n).astype("timedelta64[D]")


def at_hours(days: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Timestamps (datetime64[us]) a number of hours after each day's midnight UTC."""
    return days.astype("datetime64[us]") + (np.asarray(hours) * 3_600_000_000).astype(
        "timedelta64[us]")
