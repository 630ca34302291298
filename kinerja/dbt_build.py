"""Build the dbt project against one warehouse file, in process (dbt's Python entry point)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kinerja.paths import DBT_PROJECT_DIR, dbt_work_dir


class DbtBuildFailed(RuntimeError):
    pass


@dataclass
class DbtBuildResult:
    nodes: int
    failures: list[str] = field(default_factory=list)


def dbt_args(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None) -> list[str]:
    work = dbt_work_dir(warehouse)
    return [
        command,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps({"as_of": as_of.isoformat()}),
        *(extra or []),
    ]


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {"KINERJA_WAREHOUSE": str(warehouse.resolve())}


def run_dbt(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
            quiet: bool = True) -> DbtBuildResult:
    """Run one dbt command (build, run, test, seed); raise DbtBuildFailed naming what failed."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(warehouse))
    args = dbt_args(command, warehouse, as_of, extra)
    if quiet:
        args = ["--quiet", "--no-use-colors", *args]
    result = dbtRunner().invoke(args)
    if result.exception is not None:
        raise DbtBuildFailed(f"dbt {command} could not run: {result.exception}")
    nodes = list(result.result or [])
    failures = [
        f"{r.node.resource_type} {r.node.name}: {r.status} {r.message or ''}".strip()
        for r in nodes
        if str(r.status) in ("error", "fail")
    ]
    if not result.success:
        raise DbtBuildFailed(
            f"dbt {command} failed ({len(failures)} node(s)): " + "; ".join(failures[:5])
            + f" (logs: {dbt_work_dir(warehouse) / 'logs'})"
        )
    return DbtBuildResult(nodes=len(nodes), failures=failures)
