"""The dbt child process (`kinerja.dbt_child`): dbt's exit codes, and a warehouse left
checkpointed although the process ends with os._exit."""
from __future__ import annotations

import subprocess
import sys
from datetime import date

import duckdb
import pytest
from dbt.cli.main import dbtRunnerResult

from kinerja.dbt_build import DbtBuildFailed, run_dbt
from kinerja.dbt_child import exit_code

AS_OF = date(2026, 12, 31)


def test_exit_codes_are_dbts():
    assert exit_code(dbtRunnerResult(success=True)) == 0
    assert exit_code(dbtRunnerResult(success=False)) == 1  # a node failed or errored
    assert exit_code(dbtRunnerResult(success=False, exception=RuntimeError("x"))) == 2


def test_a_dbt_that_cannot_start_exits_2_and_says_why(tmp_path):
    done = subprocess.run([sys.executable, "-m", "kinerja.dbt_child", "run", "--project-dir",
                           str(tmp_path / "missing")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "does not exist" in done.stderr


def test_seeds_are_checkpointed_into_the_file_before_the_child_exits(tmp_path):
    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    run_dbt("seed", wh, AS_OF)
    # os._exit skips dbt-duckdb's atexit close: the child closes DuckDB itself, so nothing is
    # left in the write-ahead log for the next process to replay
    assert not (tmp_path / "wh.duckdb.wal").exists()
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select count(*) from reference.perspective_weights").fetchone()[0] >= 0


@pytest.mark.slow
def test_a_model_that_fails_names_itself(tmp_path):
    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()  # no raw store: the staging model cannot read its source
    with pytest.raises(DbtBuildFailed) as failed:
        run_dbt("run", wh, AS_OF, extra=["--select", "stg_units"])
    assert "model.kinerja.stg_units: error" in str(failed.value)


def test_the_memory_limit_is_set_per_command_and_keeps_the_partial_parse(tmp_path):
    """A full build and the night after it get different memory limits (build_state.
    dbt_memory_limit); the on-run-start hook sets each, and the second command reuses the first's
    parse (a limit in profiles.yml settings made dbt parse the whole project again)."""
    from kinerja.dbt_build import dbt_work_dir

    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    log = dbt_work_dir(wh) / "logs" / "dbt.log"
    run_dbt("seed", wh, AS_OF, memory_limit="1234MB")
    first = log.read_text()
    assert "DuckDB memory_limit 1234MB (1.1 GiB)" in first
    run_dbt("seed", wh, AS_OF, memory_limit="2GB")
    second = log.read_text()[len(first):]
    assert "DuckDB memory_limit 2GB (1.8 GiB)" in second
    assert "Unable to do partial parsing" not in second


def test_a_started_child_runs_the_command_it_is_given_later(tmp_path):
    from kinerja.dbt_build import start_dbt_child, stop_dbt_child

    wh = tmp_path / "wh.duckdb"
    duckdb.connect(str(wh)).close()
    child = start_dbt_child()
    result = run_dbt("seed", wh, AS_OF, child=child)
    # three seeds and the on-run-start hook (macros/memory_limit.sql)
    assert child.returncode == 0 and result.nodes == 4 and not result.failures
    stop_dbt_child(child)  # a no-op once it ran
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("select count(*) from reference.audit_rules").fetchone()[0] > 0


def test_a_started_child_without_a_command_ends(tmp_path):
    from kinerja.dbt_build import start_dbt_child, stop_dbt_child
    from kinerja.dbt_child import NO_COMMAND

    child = start_dbt_child()
    stop_dbt_child(child)
    assert child.returncode == -9
    child = start_dbt_child()
    child.stdin.close()  # the batch went away before its build: the child leaves by itself
    assert child.wait(timeout=60) == NO_COMMAND
