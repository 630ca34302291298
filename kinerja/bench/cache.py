"""The page cache before each measured step: the same state for every run.

On this VM the same step ran up to a fifth slower when the page cache filled the memory: every
new page then costs the kernel a reclaim first (a night: 27-28 s right after the cache was
dropped, 33-35 s with 20 GB of cache from earlier steps; the system time of its publication
3.5 -> 6-7 s). And a night that found its warehouse in the cache ran faster than one that read it
from disk (session 6's paired nights). So before each measured step the bench writes dirty pages
out, drops the clean page cache where it may (root: /proc/sys/vm/drop_caches; elsewhere it goes
on without and says so in benchmarks.json) and reads the step's inputs back: the landing zone
and the warehouse with its sidecars. The previous night's publication is not read back: a night
copies its kept pieces from disk (for the five-year warehouse, that publication is five times
larger and reading it all would fill the cache again).
"""
from __future__ import annotations

import os
from pathlib import Path

DROP_CACHES = Path("/proc/sys/vm/drop_caches")
_CHUNK = 1 << 24


def drop_page_cache() -> bool:
    """Write dirty pages out, then drop the clean page cache; False where not allowed."""
    os.sync()
    try:
        DROP_CACHES.write_text("1\n")
    except OSError:  # not root, or no such file (another OS)
        return False
    return True


def read_back(paths: list[Path]) -> int:
    """Read every file under `paths` once (into the page cache); returns the bytes read."""
    total = 0
    buf = bytearray(_CHUNK)
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            with open(f, "rb", buffering=0) as fh:
                while n := fh.readinto(buf):
                    total += n
    return total


def settle(paths: list[Path]) -> dict:
    """The cache state every measured step starts from (module docstring)."""
    dropped = drop_page_cache()
    return {"dropped": dropped, "read_back_mib": round(read_back([p for p in paths if p.exists()])
                                                       / (1 << 20))}
