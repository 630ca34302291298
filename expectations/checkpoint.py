"""`run_checks`: the data-quality step of the nightly batch (called by kinerja.batch.check_step).

summarise the warehouse in DuckDB (read-only) -> validate the summary row with GE as one
checkpoint -> data docs in `docs_dir` -> CheckReport (blocking failures stop publication).
"""
from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

from .gx_run import preload, run_checkpoint
from .report import CheckReport, build_report
from .suites import ALL_SUITES
from .summary import summarise


def default_docs_dir(warehouse: Path) -> Path:
    """Beside the warehouse, hidden, like dbt's work dir (kinerja.paths.dbt_work_dir)."""
    return warehouse.parent / f".{warehouse.name}.checks" / "data_docs"


def _cannot_judge(reason: str, started: float) -> CheckReport:
    """Nothing could be judged, so nothing may be published; no data docs are written."""
    return CheckReport(blocking_failures=[reason],
                       seconds=round(time.perf_counter() - started, 2))


def run_checks(warehouse: Path, as_of: date, docs_dir: Path | None = None,
               suites=ALL_SUITES) -> CheckReport:
    started = time.perf_counter()
    warehouse = Path(warehouse)
    docs_dir = Path(docs_dir) if docs_dir else default_docs_dir(warehouse)
    if not warehouse.is_file():
        return _cannot_judge(f"warehouse {warehouse} does not exist", started)
    preload()  # GE's import (Python) runs while DuckDB (no GIL) computes the summary
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("set enable_progress_bar = false")  # long scans would draw on stderr
            summary = summarise(con, suites, as_of)
    except duckdb.Error as exc:  # locked by a writer, corrupt: a one-line reason, not a traceback
        return _cannot_judge(f"cannot read warehouse {warehouse}: {str(exc).splitlines()[0]}", started)
    summarised = time.perf_counter()

    # Recreated each run: the folder holds exactly this night's results, ready to be copied.
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True)
    try:
        outcomes = run_checkpoint(suites, summary.values, docs_dir,
                                  run_name=f"as_of_{as_of.isoformat()}")
    except Exception as exc:  # noqa: BLE001 - GE failing means nothing was judged: block, say why
        return _cannot_judge(f"the Great Expectations checkpoint could not run: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                           started)

    report = build_report(tuple(suites), summary, outcomes)
    report.docs_dir = docs_dir
    report.seconds = round(time.perf_counter() - started, 2)
    report.timings = {"duckdb_summary": round(summarised - started, 2),
                      "ge_checkpoint_and_docs": round(time.perf_counter() - summarised, 2)}
    return report
