"""One writer per warehouse file: a second batch refuses at once instead of waiting or corrupting.

DuckDB allows a single writing process per file; the lock is taken before any step opens the file
and held for the whole batch. It is an advisory `flock` on `<warehouse>.lock`, so a killed batch
releases it with its process (no stale lock to clean up by hand).
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class WarehouseBusy(RuntimeError):
    pass


_held: dict[Path, int] = {}


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def writer_lock(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock; re-entrant within one process."""
    key = warehouse.resolve()
    if key in _held:
        yield
        return
    key.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise WarehouseBusy(
            f"another batch is writing {warehouse} (lock {lock_path(key)} is held); "
            "wait for it to finish, then run again"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd
    try:
        yield
    finally:
        del _held[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
