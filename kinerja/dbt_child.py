"""The dbt child process of `kinerja.dbt_build.run_dbt`: `python -m kinerja.dbt_child <dbt args>`.

dbt's own command line, with a shorter exit. After dbt returns, this closes DuckDB itself (the
checkpoint that makes the build durable in the warehouse file, which dbt-duckdb otherwise leaves
to an atexit hook), flushes the logs and ends the process with `os._exit`: the interpreter's
teardown (freeing every object of dbt's manifest and graph) took ~0.8 s of each build and
writes nothing.

kinerja.dbt_build starts it as `python -m kinerja.dbt_child --wait-for-command`
(`start_dbt_child`): it imports dbt first and then reads its command and environment as one JSON
line on stdin. The batch starts it before ingesting, so dbt's import (~1.3 s) is done by the time
the build begins. Given dbt's arguments instead, it runs them at once.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import traceback


def exit_code(result) -> int:
    """dbt's own exit codes: 0 success, 1 a node failed or errored, 2 dbt itself failed."""
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


WAIT = "--wait-for-command"
NO_COMMAND = 3  # a started child whose command never came (the batch stopped before its build)


def _wait_for_command() -> list[str]:
    """dbt's arguments from the JSON line {"args": [...], "env": {...}} on stdin; the environment
    becomes the command's."""
    line = sys.stdin.readline()
    if not line:
        os._exit(NO_COMMAND)
    order = json.loads(line)
    os.environ.clear()
    os.environ.update(order["env"])
    return order["args"]


def main(argv: list[str]) -> None:
    from dbt.cli.main import dbtRunner

    if argv == [WAIT]:
        argv = _wait_for_command()
    code = 2
    try:
        result = dbtRunner().invoke(argv)
        if result.exception is not None:
            print(f"dbt failed: {result.exception}", file=sys.stderr)
        code = exit_code(result)
    except BaseException:  # noqa: BLE001 - reported, then the exit below with code 2
        traceback.print_exc()
    finally:
        # close the warehouse before leaving: without it os._exit would leave the build in
        # DuckDB's write-ahead log for the next process to replay
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
