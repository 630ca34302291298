"""Find the landing files to read, without ever following a link out of the landing directory.

The walk never follows symlinks (`os.walk(followlinks=False)`); a symlink or any other non-regular
entry inside a feed folder is returned as a refused entry so the ledger and the quarantine show it.
Entries outside the three feed folders are never read, only listed.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.schema import FEEDS

PARQUET_SUFFIX = ".parquet"


@dataclass(frozen=True)
class LandingEntry:
    feed: str
    rel: str  # path relative to the landing directory, '/'-separated: the ledger's `file`
    path: Path
    refused: str | None = None  # why the entry is not read at all (a quarantine reason)


@dataclass
class LandingScan:
    entries: list[LandingEntry] = field(default_factory=list)  # in ledger (relative path) order
    unknown_feed: list[str] = field(default_factory=list)  # files outside the feed folders
    ignored: list[str] = field(default_factory=list)  # non-.parquet files inside a feed folder


def display_name(text: str) -> str:
    """A file name as valid UTF-8 (bytes that are not UTF-8 become \\xNN), for the ledger."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _rel(landing: Path, path: Path) -> str:
    return display_name(path.relative_to(landing).as_posix())


def _refuse_reason(path: Path, landing_real: str) -> str | None:
    """Why this entry must not be read, or None for a regular file or folder inside the landing."""
    st = os.lstat(path)
    name = display_name(path.name)
    if stat.S_ISLNK(st.st_mode):
        target = display_name(os.readlink(path))
        return (f"symlink_refused: {name} links to {target!r}; links are never followed, "
                "put the file itself in the landing directory")
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        return f"not_regular_file: {name} is not a regular file (device, pipe or socket)"
    real = os.path.realpath(path)
    if os.path.commonpath([real, landing_real]) != landing_real:
        return f"outside_landing: {name} resolves outside the landing directory"
    return None


def scan_landing(landing: Path) -> LandingScan:
    landing = Path(landing)
    landing_real = os.path.realpath(landing)
    scan = LandingScan()
    for top in sorted(os.listdir(landing)):
        top_path = landing / top
        if top not in FEEDS:
            scan.unknown_feed.extend(_files_under(landing, top_path))
            continue
        refused = _refuse_reason(top_path, landing_real)
        if refused:
            scan.entries.append(LandingEntry(top, top, top_path, refused))
            continue
        if not top_path.is_dir():
            scan.unknown_feed.append(top)
            continue
        for dirpath, dirnames, filenames in os.walk(top_path, followlinks=False):
            here = Path(dirpath)
            kept_dirs = []
            for name in sorted(dirnames):
                sub = here / name
                reason = _refuse_reason(sub, landing_real)
                if reason:  # a symlinked folder: refuse it as one entry, never descend
                    scan.entries.append(LandingEntry(top, _rel(landing, sub), sub, reason))
                else:
                    kept_dirs.append(name)
            dirnames[:] = kept_dirs
            for name in filenames:
                path = here / name
                reason = _refuse_reason(path, landing_real)
                if reason:
                    scan.entries.append(LandingEntry(top, _rel(landing, path), path, reason))
                elif name.endswith(PARQUET_SUFFIX):
                    scan.entries.append(LandingEntry(top, _rel(landing, path), path))
                else:
                    scan.ignored.append(_rel(landing, path))
    scan.entries.sort(key=lambda e: e.rel)
    scan.unknown_feed.sort()
    scan.ignored.sort()
    return scan


def _files_under(landing: Path, path: Path) -> list[str]:
    """Relative names of the files of an unknown folder (listed, never read, links not followed)."""
    if path.is_symlink() or not path.is_dir():
        return [_rel(landing, path)]
    found = []
    for dirpath, _dirnames, filenames in os.walk(path, followlinks=False):
        found.extend(_rel(landing, Path(dirpath) / name) for name in filenames)
    return sorted(found)
