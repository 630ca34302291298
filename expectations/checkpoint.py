"""`run_checks`: the data-quality step of the nightly batch (called by kinerja.batch.check_step).

decide the scope (whole, or the rows changed since the last check: scope.py) and summarise the
warehouse in DuckDB (read-only) -> validate the summary row with GE as one checkpoint -> data docs
in `docs_dir` -> CheckReport (blocking failures stop publication) -> the figures in build.checks.
"""
from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

from .gx_run import preload, run_checkpoint
from .report import CheckReport, build_report
from .scope import decide_scope, record_check
from .suites import ALL_SUITES
from .summary import column, summarise


def default_docs_dir(warehouse: Path) -> Path:
    """Beside the warehouse, hidden, like dbt's work dir (kinerja.paths.dbt_work_dir)."""
    return warehouse.parent / f".{warehouse.name}.checks" / "data_docs"


def _cannot_judge(reason: str, started: float) -> CheckReport:
    """Nothing could be judged, so nothing may be published; no data docs are written."""
    return CheckReport(blocking_failures=[reason],
                       seconds=round(time.perf_counter() - started, 2))


def run_checks(warehouse: Path, as_of: date, docs_dir: Path | None = None,
               suites=ALL_SUITES, changed_only: bool = False) -> CheckReport:
    """`changed_only`: compute what it can over the rows changed since the last recorded check
    (the nightly batch); otherwise every rule reads its whole tables."""
    started = time.perf_counter()
    warehouse = Path(warehouse)
    docs_dir = Path(docs_dir) if docs_dir else default_docs_dir(warehouse)
    if not warehouse.is_file():
        return _cannot_judge(f"warehouse {warehouse} does not exist", started)
    preload()  # GE's import (Python) runs while DuckDB (no GIL) computes the summary
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("set enable_progress_bar = false")  # long scans would draw on stderr
            scope = decide_scope(con, changed_only)
            summary = summarise(con, suites, as_of, scope)
    except duckdb.Error as exc:  # locked by a writer, corrupt: a one-line reason, not a traceback
        return _cannot_judge(f"cannot read warehouse {warehouse}: {str(exc).splitlines()[0]}", started)
    summarised = time.perf_counter()

    # Recreated each run: the folder holds exactly this night's results, ready to be copied.
    shutil.rmtree(docs_dir, ignore_errors=True)
    docs_dir.mkdir(parents=True)
    try:
        outcomes = run_checkpoint(suites, summary.values, docs_dir,
                                  run_name=f"as_of_{as_of.isoformat()}",
                                  computed_over=_computed_over(scope, suites))
    except Exception as exc:  # noqa: BLE001 - GE failing means nothing was judged: block, say why
        return _cannot_judge(f"the Great Expectations checkpoint could not run: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                           started)

    report = build_report(tuple(suites), summary, outcomes)
    report.docs_dir = docs_dir
    report.scope = {"scope": scope.kind, "reason": scope.reason,
                    "rules_over_changed_rows": len(scope.scoped)}
    checked = time.perf_counter()
    not_recorded = record_check(warehouse, scope, as_of, report.verdict, summary.values, suites)
    if not_recorded:
        report.scope["not_recorded"] = not_recorded
    report.seconds = round(time.perf_counter() - started, 2)
    report.timings = {"duckdb_summary": round(summarised - started, 2),
                      "ge_checkpoint_and_docs": round(checked - summarised, 2),
                      "record": round(time.perf_counter() - checked, 2)}
    return report


def _computed_over(scope, suites) -> dict[str, str]:
    """Per summary column, what its figure was computed over (shown in the data docs)."""
    whole = "the whole table" + ("" if scope.kind == "whole" else
                                 " (its figure was not 0 at the last check, or cannot be scoped)")
    changed = (f"the rows changed since check {scope.since_check_id}: {scope.reason}; the other "
               "rows are unchanged since that check, which found none, so this is the whole "
               "table's figure")
    return {column(s, r.name): changed if column(s, r.name) in scope.scoped else whole
            for s in suites for r in s.rules}
