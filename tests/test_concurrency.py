"""One writer per warehouse: a second batch refuses at once with one clear line, the first one
completes; a killed holder never leaves a lock that blocks the next run; the DAG serialises its
warehouse tasks (1-slot pool, one active run).

All processes are real `kinerja run` processes (or a child holding the lock), no mocks.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from kinerja.lock import lock_path, writer_lock
from kinerja.paths import DAGS_DIR, REPO_ROOT
from tests.test_fault_injection import AS_OF, KINERJA, Batch

BUSY = "another batch is writing"


def second_run(landing: Path, warehouse: Path | str, publish: Path, cwd: Path | None = None):
    env = {k: v for k, v in os.environ.items() if k != "KINERJA_FAULT_AT"}
    started = time.monotonic()
    proc = subprocess.run([KINERJA, "run", "--landing", str(landing), "--warehouse", str(warehouse),
                           "--as-of", AS_OF, "--publish", str(publish)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    return proc, time.monotonic() - started


def assert_refused(proc, elapsed: float, text: str = BUSY) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and text in lines[0], proc.stderr[-2000:]
    assert lines[0].startswith("kinerja run: ")
    assert proc.stdout == ""
    assert elapsed < 60, f"refusal took {elapsed:.1f}s: it must not wait for the lock"


@pytest.mark.slow
def test_second_batch_refuses_at_once_and_first_completes(tiny_landing, tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    first = Batch(tiny_landing, wh, pub)
    refusals = []
    try:
        # while the first ingests, builds (dbt child) and checks, every second attempt refuses
        for phase in ("units/un_02_eselon_3_4.parquet: accepted", "building models",
                      "running data-quality checks"):
            first.wait_line(phase)
            assert lock_path(wh).read_text().strip() == str(first.proc.pid)
            proc, elapsed = second_run(tiny_landing, wh, tmp_path / "pub2")
            assert first.proc.poll() is None, "first batch ended before the second was refused"
            assert_refused(proc, elapsed)
            refusals.append((phase, round(elapsed, 1)))
        # the same warehouse under another spelling: relative, through a symlinked folder
        alias = tmp_path / "alias"
        alias.symlink_to(tmp_path, target_is_directory=True)
        proc, elapsed = second_run(tiny_landing, "alias/wh.duckdb", tmp_path / "pub3", cwd=tmp_path)
        if first.proc.poll() is None:
            assert_refused(proc, elapsed)
            refusals.append(("symlinked path", round(elapsed, 1)))
        assert first.finish() == 0, first.output[-3000:]
    finally:
        if first.proc.poll() is None:
            first.kill_group()
    assert "batch as of 2026-12-31 completed" in first.output
    assert (pub / "MANIFEST.json").is_file()
    assert not (tmp_path / "pub2").exists() and not (tmp_path / "pub3").exists()
    print(f"\nrefusals (phase, seconds): {refusals}")


def test_duckdb_writer_without_the_lock_gets_one_line(tmp_path):
    """A process holding the DuckDB file without our lock (a DAG dbt task, a shell): one line."""
    wh, landing = tmp_path / "wh.duckdb", tmp_path / "landing"
    landing.mkdir()
    with duckdb.connect(str(wh)):
        proc, elapsed = second_run(landing, wh, tmp_path / "pub")
    assert_refused(proc, elapsed, text="another process has")
    assert "Conflicting lock" in proc.stderr and not (tmp_path / "pub").exists()


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from kinerja.lock import writer_lock
    with writer_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(600)
""")


def test_lock_of_a_killed_batch_does_not_block(tmp_path):
    """flock dies with its holder: after SIGKILL the stale lock file is no obstacle."""
    wh = tmp_path / "wh.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(wh)], stdout=subprocess.PIPE,
                              text=True, cwd=REPO_ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc, elapsed = second_run(tmp_path / "no-landing", wh, tmp_path / "pub")
        assert_refused(proc, elapsed)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert lock_path(wh).exists() and lock_path(wh).read_text().strip() == str(holder.pid)
    # the next batch gets past the lock at once (and stops at the missing landing directory)
    proc, _elapsed = second_run(tmp_path / "no-landing", wh, tmp_path / "pub")
    assert proc.returncode == 1 and "landing directory" in proc.stderr and BUSY not in proc.stderr
    with writer_lock(wh):
        assert lock_path(wh).read_text().strip() == str(os.getpid())


DAG_PROBE = textwrap.dedent("""
    import json, os, sys, tempfile
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="kinerja-test-airflow-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("KINERJA_MANIFEST_CACHE",
                          os.path.join(tempfile.gettempdir(), "kinerja-test-dbt-manifest"))
    sys.path.insert(0, sys.argv[1])
    from airflow.dag_processing.dagbag import DagBag
    from kinerja_orchestration.settings import POOL
    dag = DagBag(dag_folder=sys.argv[1]).dags["kinerja_nightly"]
    print(json.dumps({"pool": POOL, "max_active_runs": dag.max_active_runs,
                      "tasks": {t.task_id: [t.pool, t.pool_slots] for t in dag.tasks}}))
""")


@pytest.mark.slow
def test_dag_serialises_warehouse_tasks():
    """Every task but batch_config takes the one slot of `kinerja_warehouse`, one run at a time,
    and the documented pool has exactly 1 slot (the DAG cannot create it; the docs do)."""
    out = subprocess.run([sys.executable, "-c", DAG_PROBE, str(DAGS_DIR)], capture_output=True,
                         text=True, cwd=REPO_ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["max_active_runs"] == 1
    for task_id, (pool, slots) in probe["tasks"].items():
        if task_id != "batch_config":
            assert (pool, slots) == (probe["pool"], 1), task_id
    assert sum(task_id.startswith("dbt.") for task_id in probe["tasks"]) > 10
    command = f'pools set {probe["pool"]} 1 '
    for doc in (REPO_ROOT / "docs" / "ORCHESTRATION.md", DAGS_DIR / "kinerja_nightly.py"):
        text = doc.read_text()
        assert command in text and "pools set" not in text.replace(command, ""), doc
