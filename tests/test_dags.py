"""The `kinerja_nightly` DAG as Airflow parses it: imports, schedule, tasks, pool, retries, as-of rule.

Parsing needs no metadata database; AIRFLOW_HOME is pointed at a temporary directory before Airflow
is first imported so the test never writes ~/airflow.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest

from kinerja.paths import DAGS_DIR, DBT_PROJECT_DIR

DAG_ID = "kinerja_nightly"
POOL = "kinerja_warehouse"

# The DAG's helper package lives beside it (Airflow puts the DAG folder on sys.path the same way).
if str(DAGS_DIR) not in sys.path:
    sys.path.insert(0, str(DAGS_DIR))


@pytest.fixture(scope="module")
def dagbag():
    if "airflow" not in sys.modules:  # Airflow reads its configuration once, at first import
        home = Path(tempfile.mkdtemp(prefix="kinerja-test-airflow-"))
        os.environ["AIRFLOW_HOME"] = str(home)
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        # keyed by the project's fingerprint, so sharing it across test sessions is safe
        os.environ.setdefault("KINERJA_MANIFEST_CACHE",
                              str(Path(tempfile.gettempdir()) / "kinerja-test-dbt-manifest"))
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def nightly(dagbag):
    return dagbag.dags[DAG_ID]


def test_dags_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {DAG_ID}


def test_schedule_is_01_00_jakarta_without_catchup(nightly):
    from airflow.sdk import CronDataIntervalTimetable

    assert isinstance(nightly.timetable, CronDataIntervalTimetable)
    assert nightly.timetable.expression == "0 1 * * *"
    assert str(nightly.timetable.timezone.name) == "Asia/Jakarta"
    assert nightly.catchup is False
    assert nightly.max_active_runs == 1


def _core_timetable(nightly):
    from airflow.serialization.encoders import coerce_to_core_timetable

    return coerce_to_core_timetable(nightly.timetable)


def test_night_of_24_nov_builds_as_of_23_nov(nightly):
    """A run triggered for 24 Nov 01:00 WIB (dag.test, UI) covers 23 Nov and builds as of it."""
    import pendulum

    from kinerja_orchestration.settings import as_of_for_run

    night = pendulum.datetime(2026, 11, 24, 1, 0, tz="Asia/Jakarta")
    interval = _core_timetable(nightly).infer_manual_data_interval(run_after=night)
    assert interval.end == night
    assert interval.start == night.subtract(days=1)
    assert as_of_for_run(interval.end, None) == date(2026, 11, 23)
    # 01:00 WIB is 18:00 UTC of the previous day.
    assert interval.end.in_timezone("UTC") == pendulum.datetime(2026, 11, 23, 18, 0, tz="UTC")
    # Triggered at 00:30 WIB, the night of the 24th has not come yet: the last complete day is the 22nd.
    early = _core_timetable(nightly).infer_manual_data_interval(run_after=night.subtract(minutes=30))
    assert as_of_for_run(early.end, None) == date(2026, 11, 22)


def test_scheduled_and_backfilled_runs_build_as_of_their_logical_day(nightly):
    """Scheduled/backfill runs have logical date = interval start: its Jakarta day is the as-of date."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    from kinerja_orchestration.settings import as_of_for_run

    timetable = _core_timetable(nightly)
    earliest = pendulum.datetime(2026, 11, 1, 0, 0, tz="Asia/Jakarta")
    info = timetable.next_dagrun_info(last_automated_data_interval=None,
                                      restriction=TimeRestriction(earliest, None, catchup=True))
    seen = []
    for _ in range(3):
        seen.append((info.logical_date.in_timezone("Asia/Jakarta").date(),
                     as_of_for_run(info.data_interval.end, None)))
        info = timetable.next_dagrun_info(last_automated_data_interval=info.data_interval,
                                          restriction=TimeRestriction(earliest, None, catchup=True))
    assert seen == [(date(2026, 11, d), date(2026, 11, d)) for d in (1, 2, 3)]
    assert info.run_after == pendulum.datetime(2026, 11, 5, 1, 0, tz="Asia/Jakarta")


def test_as_of_without_data_interval_uses_run_after():
    import pendulum

    from kinerja_orchestration.settings import as_of_for_run

    # Triggered by hand at 15:00 WIB on 23 Nov (08:00 UTC): the last complete night is the 22nd.
    assert as_of_for_run(None, pendulum.datetime(2026, 11, 23, 8, 0, tz="UTC")) == date(2026, 11, 22)
    with pytest.raises(ValueError):
        as_of_for_run(None, None)


def test_tasks_and_order(nightly):
    ids = set(nightly.task_ids)
    assert {"batch_config", "ingest", "prepare_build", "finish_build", "check", "publish"} <= ids
    dbt_ids = {t for t in ids if t.startswith("dbt.")}
    # One build task per model and seed of the project, from the manifest.
    manifest = _manifest()
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed") and node["package_name"] == "kinerja":
            assert f"dbt.{node['name']}_{node['resource_type']}_build" in dbt_ids, node["name"]
    assert "dbt.nko_model_build" in dbt_ids

    ingest = nightly.get_task("ingest")
    check = nightly.get_task("check")
    publish = nightly.get_task("publish")
    assert "batch_config" in ingest.upstream_task_ids
    for task_id in dbt_ids:
        task = nightly.get_task(task_id)
        # every dbt task comes after ingest and the build's plan, and check after every dbt
        # task and the build's record
        assert {"ingest", "prepare_build"} <= task.get_flat_relative_ids(upstream=True), task_id
        assert task_id in nightly.get_task("finish_build").get_flat_relative_ids(upstream=True)
        assert task_id in check.get_flat_relative_ids(upstream=True), task_id
    assert "finish_build" in check.upstream_task_ids
    assert "check" in publish.upstream_task_ids
    # model dependencies survive: the marts build after the staging views they read
    assert "dbt.stg_contract_events_model_build" in nightly.get_task(
        "dbt.contract_lines_model_build").get_flat_relative_ids(upstream=True)


def _manifest() -> dict:
    from kinerja_orchestration.dbt_manifest import ensure_manifest

    cache = Path(os.environ.get("KINERJA_MANIFEST_CACHE") or tempfile.mkdtemp())
    return json.loads(ensure_manifest(DBT_PROJECT_DIR, cache).read_text())


def test_every_warehouse_task_is_in_the_one_slot_pool(nightly):
    for task in nightly.tasks:
        if task.task_id == "batch_config":
            assert task.pool == "default_pool"  # reads Variables only, never the warehouse
        else:
            assert task.pool == POOL, task.task_id


def test_every_task_retries_twice_with_exponential_backoff(nightly):
    for task in nightly.tasks:
        assert task.retries == 2, task.task_id
        assert task.retry_exponential_backoff > 1, task.task_id


def test_dbt_tasks_get_as_of_and_warehouse_at_run_time_and_skip_unit_tests(nightly):
    dbt_tasks = [t for t in nightly.tasks if t.task_id.startswith("dbt.")]
    assert dbt_tasks
    for task in dbt_tasks:
        assert "test_type:unit" in task.exclude.split(), task.task_id
        assert "batch_config" in task.vars["as_of"] and "{{" in task.vars["as_of"]
        assert "batch_config" in task.env["KINERJA_WAREHOUSE"]
        assert task.install_deps is False
    builds = [t for t in dbt_tasks if t.task_id.endswith("_build")]
    assert builds and all(type(t).__name__ == "DbtBuildLocalOperator" for t in builds)


def test_wrong_data_fails_without_retry(nightly, tmp_path):
    """BatchFailed (here: the landing directory is missing) becomes AirflowFailException."""
    from airflow.sdk.exceptions import AirflowFailException

    cfg = {"as_of": "2026-11-23", "landing": str(tmp_path / "missing"),
           "warehouse": str(tmp_path / "wh.duckdb"), "publish": str(tmp_path / "publish")}
    with pytest.raises(AirflowFailException, match="landing directory"):
        nightly.get_task("ingest").python_callable(cfg)


def test_paths_come_from_variables_then_environment_then_airflow_home(tmp_path):
    from kinerja_orchestration.settings import resolve_paths

    env = {"AIRFLOW_HOME": str(tmp_path / "home"), "KINERJA_WAREHOUSE": str(tmp_path / "env.duckdb")}
    variables = {"kinerja_landing": str(tmp_path / "var-landing")}
    paths = resolve_paths(variables.get, env)
    assert paths == {
        "landing": str(tmp_path / "var-landing"),
        "warehouse": str(tmp_path / "env.duckdb"),
        "publish": str(tmp_path / "home" / "kinerja" / "publish"),
    }
    both = resolve_paths({"kinerja_warehouse": str(tmp_path / "var.duckdb")}.get, env)
    assert both["warehouse"] == str(tmp_path / "var.duckdb")  # the Variable wins over the environment


def test_manifest_is_regenerated_only_when_the_project_changes(tmp_path):
    from kinerja_orchestration.dbt_manifest import project_fingerprint

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = project_fingerprint(project)
    (project / "target").mkdir()
    (project / "target" / "run_results.json").write_text("{}")
    assert project_fingerprint(project) == before  # build outputs do not count
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_fingerprint(project) != before


def test_dbt_tasks_hold_the_writer_lock_and_release_it(nightly, tmp_path):
    """A dbt task meets a `kinerja run` holding the warehouse: WarehouseBusy (retried), not DuckDB's
    error; after the task the lock is free again for the next writer."""
    import subprocess
    import types

    from kinerja.lock import WarehouseBusy, writer_lock

    task = nightly.get_task("dbt.stg_units_model_build")
    hold, release = task._pre_execute_hook, task._post_execute_hook
    assert hold is not None and release is not None
    assert release in (task.on_failure_callback or []) or release == task.on_failure_callback
    warehouse = tmp_path / "wh.duckdb"
    context = {"task": types.SimpleNamespace(env={"KINERJA_WAREHOUSE": str(warehouse)})}

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from kinerja.lock import "
         "writer_lock\nwith writer_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
         str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy):
            hold(context)
    finally:
        holder.kill()
        holder.wait()
    hold(context)  # free now: the task takes it...
    release(context, None)  # ...and gives it back
    holder = subprocess.run(  # so another process can take it
        [sys.executable, "-c", "import sys; from pathlib import Path; from kinerja.lock import "
         "writer_lock\nwith writer_lock(Path(sys.argv[1])): print('ok')", str(warehouse)],
        capture_output=True, text=True)
    assert holder.stdout.strip() == "ok", holder.stderr


def test_manifest_cache_keeps_only_recent_versions(tmp_path):
    import time

    from kinerja_orchestration.dbt_manifest import KEEP_VERSIONS, _prune

    for i in range(KEEP_VERSIONS + 3):
        (tmp_path / f"v{i}").mkdir()
        (tmp_path / f"v{i}" / "manifest.json").write_text("{}")
        os.utime(tmp_path / f"v{i}" / "manifest.json", (time.time() + i, time.time() + i))
    newest = tmp_path / f"v{KEEP_VERSIONS + 2}"
    _prune(tmp_path, keep=newest)
    assert sorted(d.name for d in tmp_path.iterdir()) == sorted(
        f"v{i}" for i in range(3, KEEP_VERSIONS + 3))
