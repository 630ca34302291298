"""Build the dbt project against one warehouse file.

dbt runs in a child process: dbt-duckdb keeps its DuckDB connection open for the life of the
process, which would lock the warehouse against the later steps (checks, publication) and
against a read-only reader in the same process. A child also dies cleanly with the batch. The
child is dbt's command line run by `kinerja.dbt_child`, which leaves without the interpreter's
teardown once DuckDB is closed.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
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


def dbt_args(command: str, warehouse: Path, extra: list[str] | None = None) -> list[str]:
    work = dbt_work_dir(warehouse)
    return [
        command,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        # target/ keeps dbt's parsed project (partial_parse.msgpack) from one night to the next
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        *(extra or []),
    ]


def dbt_env(warehouse: Path, as_of: date, build_mode: str | None = None,
            memory_limit: str | None = None) -> dict[str, str]:
    """The warehouse file, the as-of date and the build's mode, for the project's macros.

    The as-of date goes in the environment, not in `--vars`: any change of `--vars` makes dbt
    parse the whole project again (seconds), a changed environment variable only the few models
    that read it (macros/as_of.sql). The mode is the one prepare_build recorded in build.runs;
    passing it saves the macros a query of build.runs per ref() and per test
    (macros/incremental.sql). The memory limit is the build's (build_state.dbt_memory_limit)."""
    env = {"KINERJA_WAREHOUSE": str(warehouse.resolve()), "KINERJA_AS_OF": as_of.isoformat()}
    if build_mode is not None:
        env["KINERJA_BUILD_MODE"] = build_mode
    if memory_limit is not None:
        env["KINERJA_DBT_MEMORY_LIMIT"] = memory_limit
    return env


def _die_with_parent(parent: int | None = None) -> None:
    """Linux: the dbt child gets SIGKILL when the batch dies, so it never outlives the writer lock.

    A parent killed between fork and prctl would not be signalled: the child then sees another
    parent pid and exits at once."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _dbt_command() -> list[str]:
    """dbt's command line through `kinerja.dbt_child` (dbt's CLI with a shorter exit)."""
    return [sys.executable, "-m", "kinerja.dbt_child"]


def start_dbt_child() -> subprocess.Popen:
    """A dbt child that imports dbt now and runs the command `run_dbt(..., child=)` gives it
    later: the batch starts it before ingesting, so the import overlaps the ingest. Stop an
    unused one with `stop_dbt_child`."""
    from kinerja.dbt_child import WAIT

    return subprocess.Popen([*_dbt_command(), WAIT], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=functools.partial(_die_with_parent, os.getpid()))


def stop_dbt_child(child: subprocess.Popen) -> None:
    """End a started child that has not been given a command (no-op once it has run one)."""
    if child.returncode is None:
        child.kill()
        child.communicate()


def _run_results(work: Path) -> list[dict]:
    """The node results of the last dbt command (empty when dbt stopped before writing them)."""
    results = work / "target" / "run_results.json"
    return json.loads(results.read_text()).get("results", []) if results.exists() else []


def _failed_nodes(results: list[dict]) -> list[str]:
    return [
        f"{r['unique_id']}: {r['status']} {(r.get('message') or '').strip()}".strip()
        for r in results
        if r.get("status") in ("error", "fail")
    ]


def run_dbt(command: str, warehouse: Path, as_of: date, extra: list[str] | None = None,
            quiet: bool = True, build_mode: str | None = None,
            memory_limit: str | None = None,
            child: subprocess.Popen | None = None) -> DbtBuildResult:
    """Run one dbt command (build, run, test, seed); raise DbtBuildFailed naming what failed.

    `build_mode`: the mode of the build.runs row prepare_build opened for this command (None:
    the macros read build.runs themselves); `memory_limit`: that build's DuckDB memory limit
    (None: the project's default, 3GB, macros/memory_limit.sql); `child`: a child from
    `start_dbt_child` to run it in (None: a new one)."""
    args = dbt_args(command, warehouse, extra)
    if quiet:
        args = ["--quiet", "--no-use-colors", *args]
    env = {k: v for k, v in os.environ.items() if k != "KINERJA_BUILD_MODE"}
    env.update(dbt_env(warehouse, as_of, build_mode, memory_limit),
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    # dbt.log at info level: node starts, results and errors. Debug level adds every SQL
    # statement (22,000 lines a night) and costs ~1.5 s of a 20 s night build in dbt's logging;
    # the SQL of each node is in target/run either way. DBT_LOG_LEVEL_FILE=debug brings it back.
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    work = dbt_work_dir(warehouse)
    (work / "target" / "run_results.json").unlink(missing_ok=True)
    if child is None:
        child = start_dbt_child()
    stdout, stderr = child.communicate(json.dumps({"args": args, "env": env}) + "\n")
    returncode, output = child.returncode, stdout + stderr
    results = _run_results(work)
    failures = _failed_nodes(results)
    if returncode != 0:
        detail = "; ".join(failures[:5]) or output.strip()[-2000:]
        raise DbtBuildFailed(
            f"dbt {command} failed ({len(failures)} node(s)): {detail} (logs: {work / 'logs'})"
        )
    return DbtBuildResult(nodes=len(results), failures=failures)
