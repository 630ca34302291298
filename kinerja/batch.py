"""The nightly batch, step by step. `kinerja run` and the Airflow DAG call these same functions.

ingest -> build (dbt: models and data tests) -> check (Great Expectations) -> publish.
Every step takes the warehouse's writer lock; `run_batch` holds it across all of them.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from kinerja.lock import writer_lock


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
        return ingest_landing(cfg.landing, cfg.warehouse, progress=progress)


def build_step(cfg: BatchConfig, progress: Callable[[str], None] = _say) -> dict[str, Any]:
    from kinerja.dbt_build import DbtBuildFailed, run_dbt

    progress(f"building models as of {cfg.as_of} (dbt build)")
    with writer_lock(cfg.warehouse):
        try:
            # dbt unit tests check the SQL, not the night's data: they run in the test suite
            result = run_dbt("build", cfg.warehouse, cfg.as_of, ["--exclude", "test_type:unit"])
        except DbtBuildFailed as exc:
            raise BatchFailed(str(exc)) from exc
    return {"dbt_nodes": result.nodes}


def check_step(cfg: BatchConfig, progress: Callable[[str], None] = _say):
    """Run the Great Expectations checkpoint; a blocking failure stops the batch before publishing."""
    from expectations.checkpoint import run_checks

    progress("running data-quality checks (Great Expectations)")
    with writer_lock(cfg.warehouse):
        report = run_checks(cfg.warehouse, cfg.as_of)
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


def run_batch(cfg: BatchConfig, progress: Callable[[str], None] = _say) -> BatchSummary:
    summary = BatchSummary(as_of=cfg.as_of)
    with writer_lock(cfg.warehouse):
        started = time.perf_counter()
        summary.steps["ingest"] = ingest_step(cfg, progress)
        summary.steps["ingest"]["seconds"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        summary.steps["build"] = build_step(cfg, progress)
        summary.steps["build"]["seconds"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        report = check_step(cfg, progress)
        summary.steps["check"] = {"warnings": len(report.warnings),
                                  "seconds": round(time.perf_counter() - started, 2)}

        started = time.perf_counter()
        summary.published = publish_step(cfg, report, progress)
        summary.steps["publish"] = {"files": len(summary.published),
                                    "seconds": round(time.perf_counter() - started, 2)}
    return summary
