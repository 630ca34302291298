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
import pandas as pd

from .gx_run import run_checkpoint
from .report import CheckReport, build_report
from .suites import ALL_SUITES
from .summary import summarise


def default_docs_dir(warehouse: Path) -> Path:
    """Beside the warehouse, hidden, like dbt's work dir (kinerja.paths.dbt_work_dir)."""
    return warehouse.parent / f".{warehouse.name}.checks" / "data_docs"


def run_checks(warehouse: Path, as_of: date, docs_dir: Path | None = None,
               suites=ALL_SUITES) -> CheckReport:
    started = time.perf_counter()
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist")
    docs_dir = Path(docs_dir) if docs_dir else default_docs_dir(warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set enable_progress_bar = false")  # long scans would draw on the batch's stderr
        summary = summarise(con, suites, as_of)

    # Recreated each run: the folder holds exactly this night's results, ready to be copied.
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True)
    frame = pd.DataFrame([summary.values])
    outcomes = run_checkpoint(suites, frame, docs_dir, run_name=f"as_of_{as_of.isoformat()}")

    report = build_report(tuple(suites), summary, outcomes)
    report.docs_dir = docs_dir
    report.seconds = round(time.perf_counter() - started, 2)
    return report
