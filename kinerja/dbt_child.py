"""The dbt child process of `kinerja.dbt_build.run_dbt`: `python -m kinerja.dbt_child <dbt args>`.

dbt's own command line, with a shorter exit. After dbt returns, this closes DuckDB itself (the
checkpoint that makes the build durable in the warehouse file, which dbt-duckdb otherwise leaves
to an atexit hook), flushes the logs and ends the process with `os._exit`: the interpreter's
teardown (freeing every object of dbt's manifest and graph) took ~0.8 s of each build and
writes nothing.
"""
from __future__ import annotations

import logging
import os
import sys
import traceback


def exit_code(result) -> int:
    """dbt's own exit codes: 0 success, 1 a node failed or errored, 2 dbt itself failed."""
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def main(argv: list[str]) -> None:
    from dbt.cli.main import dbtRunner

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
