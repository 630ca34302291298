"""The nightly batch, step by step. `kinerja run` and the Airflow DAG call these same functions.

ingest -> build (dbt: models and data tests) -> check (Great Expectations) -> publish.
Every step takes the warehouse's writer lock; `run_batch` holds it across all of them.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from kinerja.lock import WarehouseBusy, writer_lock


_fault_counts: dict[str, int] = {}


def fault_point(point: str) -> None:
    """TEST HOOK for tests/test_fault_injection.py; does nothing unless KINERJA_FAULT_AT is set.

    `KINERJA_FAULT_AT=<point>[@<n>]` makes the process SIGKILL itself the n-th time (default 1st)
    it reaches `point`, so a test can kill a real batch at an exact spot. Points: `ingest` (inside
    a file's transaction: its rows and ledger row written, not committed; ingestion/ingest.py),
    `publish:swap` (new publication complete and fsynced, before the swap) and `publish:swapped`
    (after the swap, before the previous publication is deleted; kinerja/publish/atomic.py).
    Kills inside dbt and the checks are timed from outside. See docs/RELIABILITY.md.
    """
    spec = os.environ.get("KINERJA_FAULT_AT")
    if not spec:
        return
    name, _, nth = spec.partition("@")
    if name != point:
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if _fault_counts[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


class BatchFailed(RuntimeError):
    """The batch could not complete; the message is the one-line reason for stderr."""


@dataclass(frozen=True)
class BatchConfig:
    landing: Path
    warehouse: Path
    as_of: date
    publish_dir: Path | None = None
    mask_nip: bool = True

    @classmethod
    def create(cls, landing, warehouse, as_of: date | str | None = None, publish_dir=None,
               mask_nip: bool = True) -> "BatchConfig":
        if as_of is None:
            as_of = datetime.now(timezone.utc).date()
        elif isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        # absolute paths: dbt runs in a child process and GE writes its docs by absolute path
        return cls(Path(landing).absolute(), Path(warehouse).absolute(), as_of,
                   Path(publish_dir).absolute() if publish_dir else None, mask_nip)


@dataclass
class BatchSummary:
    as_of: date
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: list[Path] = field(default_factory=list)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ingest_step(cfg: BatchConfig, progress: Callable[[str], None] = _say) -> dict[str, Any]:
    from ingestion.ingest import ingest_landing

    if not cfg.landing.is_dir():
        raise BatchFailed(f"landing directory {cfg.landing} does not exist; pass --landing DIR")
    with writer_lock(cfg.warehouse):
        try:
            return ingest_landing(cfg.landing, cfg.warehouse, progress=progress)
        except Exception as exc:
            # another process without our lock (a DAG dbt task, a shell) has the file open
            if type(exc).__name__ == "IOException" and "lock" in str(exc).lower():
                raise WarehouseBusy(f"another process has {cfg.warehouse} open: "
                                    f"{str(exc).splitlines()[0]}; wait for it to finish, "
                                    "then run again") from None
            raise


def prepare_build_step(cfg: BatchConfig, progress: Callable[[str], None] = _say):
    """Open the build's record and choose full or incremental (kinerja/build_state.py)."""
    from kinerja.build_state import prepare_build

    with writer_lock(cfg.warehouse):
        plan = prepare_build(cfg.warehouse, cfg.as_of)
    progress(f"building models as of {cfg.as_of} (dbt build, {plan.mode}"
             + (f": {plan.reason})" if plan.reason else ")"))
    return plan


def finish_build_step(cfg: BatchConfig, plan) -> dict[str, Any]:
    from kinerja.build_state import finish_build

    with writer_lock(cfg.warehouse):
        changed = finish_build(cfg.warehouse, plan)
    return {"build_id": plan.build_id, "mode": plan.mode, "changed_contracts": changed}


def build_step(cfg: BatchConfig, progress: Callable[[str], None] = _say,
               dbt_child=None) -> dict[str, Any]:
    """`dbt_child`: a child from kinerja.dbt_build.start_dbt_child that has imported dbt already
    (None: the build starts its own)."""
    from kinerja.build_state import fail_build
    from kinerja.dbt_build import DbtBuildFailed, run_dbt

    with writer_lock(cfg.warehouse):
        plan = prepare_build_step(cfg, progress)
        try:
            # dbt unit tests check the SQL, not the night's data: they run in the test suite
            result = run_dbt("build", cfg.warehouse, cfg.as_of, ["--exclude", "test_type:unit"],
                             build_mode=plan.mode, memory_limit=plan.memory_limit,
                             child=dbt_child)
        except DbtBuildFailed as exc:
            fail_build(cfg.warehouse, plan)
            raise BatchFailed(str(exc)) from exc
        return {"dbt_nodes": result.nodes, **finish_build_step(cfg, plan)}


def check_step(cfg: BatchConfig, progress: Callable[[str], None] = _say):
    """Run the Great Expectations checkpoint; a blocking failure stops the batch before publishing.

    Each rule that can be reads only the rows changed since the last check (expectations/scope.py),
    so a night's checks cost what the night changed; their figures are still the whole tables'."""
    from expectations.checkpoint import run_checks

    progress("running data-quality checks (Great Expectations)")
    with writer_lock(cfg.warehouse):
        report = run_checks(cfg.warehouse, cfg.as_of, changed_only=True)
    progress(f"checks: {report.verdict}, {report.scope.get('scope')} "
             f"({report.scope.get('reason')})")
    if report.blocking_failures:
        raise BatchFailed(
            "blocking data check failed: " + "; ".join(report.blocking_failures[:5])
            + " (nothing was published; the last good publication stays)"
        )
    return report


def publish_step(cfg: BatchConfig, check_report, progress: Callable[[str], None] = _say) -> list[Path]:
    from kinerja.publish import publish

    if cfg.publish_dir is None:
        return []
    progress(f"publishing to {cfg.publish_dir}")
    with writer_lock(cfg.warehouse):
        return publish(cfg.warehouse, cfg.publish_dir, cfg.as_of, check_report, mask_nip=cfg.mask_nip)


def _publication_mode() -> dict[str, Any]:
    """Full or incremental, and how many units the publication wrote (kinerja.publish.LAST)."""
    from kinerja.publish import LAST

    return {k: LAST[k] for k in ("mode", "units") if k in LAST}


def _timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = step()
    return result, round(time.perf_counter() - started, 2)


def run_batch(cfg: BatchConfig, progress: Callable[[str], None] = _say) -> BatchSummary:
    from kinerja.dbt_build import start_dbt_child, stop_dbt_child

    summary = BatchSummary(as_of=cfg.as_of)
    with writer_lock(cfg.warehouse):
        # the dbt child imports dbt (~1.3 s) while the landing zone is ingested
        dbt_child = start_dbt_child()
        try:
            ingested, seconds = _timed(lambda: ingest_step(cfg, progress))
            summary.steps["ingest"] = {**ingested, "seconds": seconds}

            # Great Expectations' import (seconds of Python) runs beside the dbt child process
            from expectations.gx_run import preload

            preload()
            built, seconds = _timed(lambda: build_step(cfg, progress, dbt_child))
            summary.steps["build"] = {**built, "seconds": seconds}
        finally:
            stop_dbt_child(dbt_child)

        report, seconds = _timed(lambda: check_step(cfg, progress))
        summary.steps["check"] = {"warnings": len(report.warnings),
                                  "scope": report.scope.get("scope"), "seconds": seconds}

        summary.published, seconds = _timed(lambda: publish_step(cfg, report, progress))
        summary.steps["publish"] = {"files": len(summary.published), **_publication_mode(),
                                    "seconds": seconds}
    return summary
