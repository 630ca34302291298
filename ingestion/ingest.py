"""Ingest a landing zone (EVENTS.md) into the warehouse's raw store, one transaction per file.

Entry point: `ingest_landing(landing, warehouse, progress)`, called by `kinerja.batch.ingest_step`.
Files are read in the order of their path relative to the landing directory; a file whose
(path, sha256) is already in `ingest.ledger` is skipped, so reruns change nothing.
"""
from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pyarrow as pa

from ingestion.scan import LandingEntry, scan_landing
from ingestion.reader import FileRejected, LandingTable, footer_rows, parse, read_bytes
from ingestion.schema import INGEST_DDL
from ingestion.store import FileOutcome, stage, write_file, write_ledger, write_rejected_file
from kinerja.batch import fault_point

COUNT_KEYS = ("files_seen", "files_new", "files_skipped", "files_rejected", "files_unknown_feed",
              "files_ignored", "rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined")

# DuckDB errors that mean "this file's data cannot be converted", not "the warehouse is broken".
_DATA_ERRORS = (duckdb.ConversionException, duckdb.OutOfRangeException,
                duckdb.InvalidInputException, duckdb.NotImplementedException)


class IngestError(RuntimeError):
    """An unexpected failure while storing one file (not a data problem: those are quarantined)."""


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _quiet(_message: str) -> None:
    pass


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if missing) the warehouse with the ingest tables in place."""
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    con.execute("set TimeZone = 'UTC'")  # tz-aware landing timestamps are stored as UTC
    con.execute("set enable_progress_bar = false")  # the progress callable reports per file
    # one checkpoint at the end instead of one per 16 MB of WAL: each file stays its own commit
    con.execute("set checkpoint_threshold = '4GB'")
    for ddl in INGEST_DDL:
        con.execute(ddl)
    return con


def ingest_landing(landing: Path, warehouse: Path,
                   progress: Callable[[str], None] | None = None) -> dict[str, int]:
    say = progress or _quiet
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist; pass --landing DIR")
    scan = scan_landing(landing)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["files_seen"] = len(scan.entries)
    counts["files_unknown_feed"] = len(scan.unknown_feed)
    counts["files_ignored"] = len(scan.ignored)
    for rel in scan.unknown_feed:
        say(f"not read: {rel} is outside the feed folders (contract_events, realisations, units)")
    for rel in scan.ignored:
        say(f"not read: {rel} is not a .parquet file")

    ingested_at = datetime.now(timezone.utc).replace(tzinfo=None)
    con = connect(warehouse)
    prepared_files = None
    try:
        known = set(con.execute("select file, sha256 from ingest.ledger").fetchall())
        seen_files = {file for file, _sha in known}
        prepared_files = _prepared_in_order(con, scan.entries, frozenset(known))
        for prepared in prepared_files:
            outcome = _ingest_entry(con, prepared, known, seen_files, ingested_at, say)
            if outcome is None:
                counts["files_skipped"] += 1
                continue
            known.add((outcome.file, outcome.sha256))
            seen_files.add(outcome.file)
            counts["files_new"] += 1
            counts["files_rejected"] += outcome.status == "rejected"
            for key in ("rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined"):
                counts[key] += getattr(outcome, key)
    finally:
        if prepared_files is not None:
            prepared_files.close()  # the worker stops and its cursor closes before the connection
        con.close()
    if counts["files_skipped"]:
        say(f"skipped {counts['files_skipped']} files already ingested (same path and sha256)")
    return counts


@dataclass
class _Prepared:
    """One landing entry read, hashed, parsed and staged: everything that needs no transaction."""

    entry: LandingEntry
    sha: str
    parsed: LandingTable | None = None
    rejected: FileRejected | None = None
    staged: pa.Table | None = None
    stage_error: Exception | None = None  # raised (or rejected) inside the file's transaction


def _prepare(stage_con, entry: LandingEntry, known_before: frozenset) -> _Prepared:
    data, rejected = None, None
    if entry.refused:
        rejected = FileRejected(entry.refused)
    else:
        try:
            data = read_bytes(entry.path)
        except FileRejected as exc:
            rejected = exc
        except OSError as exc:  # e.g. swapped for a symlink since the scan (ELOOP), no permission
            rejected = FileRejected(f"unreadable_file: {exc.strerror or exc}; make it a regular "
                                    "readable file")
    # A refused entry is identified by its reason, so the same refusal is recorded once.
    sha = hashlib.sha256(data if data is not None else rejected.reason.encode()).hexdigest()
    prepared = _Prepared(entry, sha, rejected=rejected)
    if data is None or (entry.rel, sha) in known_before:  # skipped: no need to parse it
        return prepared
    try:
        prepared.parsed, prepared.rejected = parse(data, entry.feed), None
    except FileRejected as exc:
        prepared.rejected = exc
    except pa.ArrowException as exc:  # a shape no check above foresaw: reject, don't crash
        prepared.rejected = FileRejected(
            f"unprocessable_file: {_short(exc)}; re-export the file", footer_rows(data))
    if prepared.parsed is not None:
        try:
            prepared.staged = stage(stage_con, entry.feed, prepared.parsed)
        except Exception as exc:  # noqa: BLE001 - judged where it was before: in the transaction
            prepared.stage_error = exc
    return prepared


def _prepared_in_order(con, entries, known_before: frozenset) -> Iterator[_Prepared]:
    """The entries prepared one file ahead, on a worker thread with its own cursor: the next file
    is read, parsed and validated (DuckDB and Arrow release the GIL) while this one is stored.

    Skipping is decided again from the live ledger by the caller; `known_before` only spares
    parsing the files already ingested before this run."""
    stage_con = con.cursor()
    stage_con.execute("set TimeZone = 'UTC'")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare")
    pending: deque = deque()
    upcoming = iter(entries)

    def submit_next() -> None:
        entry = next(upcoming, None)
        if entry is not None:
            pending.append(pool.submit(_prepare, stage_con, entry, known_before))

    try:
        submit_next()
        while pending:
            submit_next()  # one file ahead, so at most two parsed files are held at once
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)
        stage_con.close()


def _ingest_entry(con, prepared: _Prepared, known: set, seen_files: set, ingested_at,
                  say) -> FileOutcome | None:
    """Store one prepared landing entry in its own transaction; None when it was already ingested."""
    entry, sha = prepared.entry, prepared.sha
    if (entry.rel, sha) in known:
        return None
    if entry.rel in seen_files:
        say(f"warning: {entry.rel} changed since it was ingested (landing files are immutable; "
            "publish corrections as new files); ingesting the new content")
    parsed, rejected = prepared.parsed, prepared.rejected
    con.execute("begin transaction")
    try:
        if parsed is not None:
            try:
                if prepared.stage_error is not None:
                    raise prepared.stage_error
                outcome = write_file(con, entry.feed, entry.rel, parsed, ingested_at,
                                     staged=prepared.staged)
                write_ledger(con, outcome, ingested_at)
            except _DATA_ERRORS as exc:
                con.execute("rollback")
                con.execute("begin transaction")
                rejected = FileRejected(
                    f"unprocessable_file: the values cannot be converted ({_short(exc)}); "
                    "re-export the file", parsed.rows_read)
        if rejected is not None:
            outcome = write_rejected_file(con, entry.feed, entry.rel, sha, rejected.rows_read,
                                          rejected.reason, ingested_at)
        fault_point("ingest")  # test hook: a no-op unless KINERJA_FAULT_AT is set
        con.execute("commit")
    except BaseException as exc:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass  # the connection is gone; DuckDB discards the open transaction itself
        if isinstance(exc, Exception):
            raise IngestError(f"ingesting {entry.rel} failed ({_short(exc)}); nothing of it was "
                              "stored, earlier files are committed; fix the cause and rerun") from exc
        raise
    if outcome.status == "rejected":
        say(f"{entry.feed} {entry.rel}: rejected ({outcome.reason}); "
            f"{outcome.rows_read} rows quarantined")
    else:
        say(f"{entry.feed} {entry.rel}: accepted {outcome.rows_accepted}, duplicate "
            f"{outcome.rows_duplicate}, quarantined {outcome.rows_quarantined}")
    return outcome
