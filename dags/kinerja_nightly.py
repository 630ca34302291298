"""`kinerja_nightly`: the nightly batch of WAREHOUSE.md as an Airflow 3 DAG.

    batch_config -> ingest -> prepare_build -> dbt (one cosmos task per seed/model: `dbt build`
    of it and its data tests) -> finish_build -> check (Great Expectations) -> publish

prepare_build chooses a full or an incremental build (docs/INCREMENTAL.md) and records it in the
warehouse, where every dbt task reads it; finish_build marks it done.

Schedule: every night at 01:00 Asia/Jakarta. The run of the night of 24 Nov (01:00 WIB) has the
data interval [23 Nov 01:00, 24 Nov 01:00) WIB and builds as of 23 Nov (see
`kinerja_orchestration.settings.as_of_for_run`); its logical date is 23 Nov 01:00 WIB, so a backfill from
2026-11-01T00:00+07:00 to 2026-11-03T23:59+07:00 rebuilds as of 1, 2 and 3 Nov. The raw store keeps every event ever
accepted and `--as-of` only filters, so a rerun or backfill of a night reproduces it.

One writer: every task that opens the warehouse runs in the 1-slot pool `kinerja_warehouse`
(create it: `airflow pools set kinerja_warehouse 1 "one writer per warehouse file"`), and every
such task also holds the warehouse's file lock (kinerja/lock.py), as `kinerja run` does: the step
functions take it themselves, the dbt tasks in a pre_execute hook. See docs/ORCHESTRATION.md.
"""
from __future__ import annotations

import json
import pickle
import sys
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pendulum

# Airflow puts the DAG bundle on sys.path; `python dags/kinerja_nightly.py` and plain DagBags may not.
_DAGS_DIR = str(Path(__file__).resolve().parent)
if _DAGS_DIR not in sys.path:
    sys.path.insert(0, _DAGS_DIR)

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task  # noqa: E402
from cosmos import (  # noqa: E402
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)

from kinerja.paths import DBT_PROJECT_DIR  # noqa: E402
from kinerja_orchestration.dbt_manifest import ensure_manifest  # noqa: E402
from kinerja_orchestration.settings import POOL, TIMEZONE, airflow_home  # noqa: E402

DAG_ID = "kinerja_nightly"
SCHEDULE = CronDataIntervalTimetable("0 1 * * *", timezone=TIMEZONE)

# Transient failures (warehouse busy, a worker lost, a full disk being cleaned) are retried with
# 1 min, 2 min... between tries; wrong data fails at once (AirflowFailException, see `_fail_fast`).
DEFAULT_ARGS = {
    "owner": "kinerja",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
}

# dbt tasks read these from the batch_config and prepare_build tasks, so every task of a run (and
# each of its retries) uses the as-of date, warehouse and memory limit resolved once per run.
_CONFIG = "ti.xcom_pull(task_ids='batch_config')"
_PLAN = "ti.xcom_pull(task_ids='prepare_build')"


def _manifest_cache() -> Path:
    import os

    return Path(os.environ.get("KINERJA_MANIFEST_CACHE") or airflow_home() / "kinerja" / "dbt-manifest")


def _batch_config(cfg: dict):
    from kinerja.batch import BatchConfig

    return BatchConfig.create(cfg["landing"], cfg["warehouse"], cfg["as_of"], cfg["publish"])


def _fail_fast(exc: Exception):
    """BatchFailed means the data (or the landing directory) is wrong: retrying cannot help."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(str(exc))


# The writer lock a dbt task holds while dbt runs (one task at a time per process).
_DBT_LOCK = ExitStack()


def _hold_warehouse(context) -> None:
    """Before a dbt task: take the warehouse's writer lock like the kinerja step functions do.

    The pool already serialises the DAG's writers; the lock also keeps a `kinerja run` started by
    hand and this DAG apart, with a clear WarehouseBusy error (retried) instead of DuckDB's.
    """
    from kinerja.lock import writer_lock

    _DBT_LOCK.enter_context(writer_lock(Path(context["task"].env["KINERJA_WAREHOUSE"])))


def _release_warehouse(context, result=None) -> None:
    """After a dbt task (success, failure or retry): close dbt-duckdb's handle, drop the lock.

    dbt-duckdb keeps its DuckDB connection open between dbt invocations of one process
    (`keep_open` defaults to true). A worker that runs the next task in the same process (dag.test,
    a reused executor process) could then not open the file read-only for the checks.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        DuckDBConnectionManager.close_all_connections()  # drops the environment: DuckDB closes
    finally:
        _DBT_LOCK.close()


def _check_report_path(cfg: dict, run_id: str) -> Path:
    # The GE report goes from check to publish through a file beside the warehouse (same volume,
    # same code version) rather than XCom, whose deserialiser only admits allow-listed classes.
    warehouse = Path(cfg["warehouse"])
    safe_run_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return warehouse.parent / f".{warehouse.name}.airflow" / f"check-report-{safe_run_id}.pickle"


@dag(
    dag_id=DAG_ID,
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,  # past nights are rebuilt on purpose, with `airflow backfill create`
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=6),
    params={"as_of": Param(None, type=["null", "string"], format="date",
                           description="override the as-of date (YYYY-MM-DD); empty: the night's date")},
    tags=["kinerja"],
    doc_md=__doc__,
)
def kinerja_nightly():
    @task
    def batch_config(params=None, data_interval_end=None, dag_run=None) -> dict:
        """Resolve the as-of date and the paths once per run (Variables, then environment)."""
        from airflow.sdk import Variable

        from kinerja_orchestration.settings import as_of_for_run, resolve_paths

        paths = resolve_paths(lambda name: Variable.get(name, default=None))
        override = (params or {}).get("as_of")
        as_of = override or as_of_for_run(data_interval_end, dag_run.run_after).isoformat()
        print(f"batch as of {as_of}: " + ", ".join(f"{k}={v}" for k, v in paths.items()))
        return {"as_of": as_of, **paths}

    @task(pool=POOL)
    def ingest(cfg: dict) -> dict:
        from kinerja.batch import BatchFailed, ingest_step

        try:
            result = ingest_step(_batch_config(cfg), progress=print)
        except BatchFailed as exc:
            raise _fail_fast(exc) from exc
        return json.loads(json.dumps(result, default=str))  # XCom takes plain JSON

    @task(pool=POOL)
    def prepare_build(cfg: dict) -> dict:
        """Full or incremental (kinerja/build_state.py): the dbt tasks read the choice from the
        warehouse's build.runs row this opens."""
        from kinerja.batch import prepare_build_step

        plan = prepare_build_step(_batch_config(cfg), progress=print)
        return {"build_id": plan.build_id, "mode": plan.mode, "reason": plan.reason,
                "memory_limit": plan.memory_limit}

    @task(pool=POOL)
    def finish_build(cfg: dict, plan: dict) -> dict:
        from datetime import date

        from kinerja.batch import finish_build_step
        from kinerja.build_state import BuildPlan

        return finish_build_step(_batch_config(cfg), BuildPlan(
            plan["build_id"], plan["mode"], plan["reason"], date.fromisoformat(cfg["as_of"])))

    @task(pool=POOL)
    def check(cfg: dict, run_id=None) -> dict:
        from kinerja.batch import BatchFailed, check_step

        try:
            report = check_step(_batch_config(cfg), progress=print)
        except BatchFailed as exc:
            raise _fail_fast(exc) from exc
        path = _check_report_path(cfg, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(report))
        return {"warnings": len(report.warnings), "report": str(path)}

    @task(pool=POOL)
    def publish(cfg: dict, checked: dict) -> list[str]:
        from kinerja.batch import BatchFailed, publish_step

        report_path = Path(checked["report"])
        report = pickle.loads(report_path.read_bytes())
        try:
            published = publish_step(_batch_config(cfg), report, progress=print)
        except BatchFailed as exc:
            raise _fail_fast(exc) from exc
        report_path.unlink(missing_ok=True)
        return [str(p) for p in published]

    cfg = batch_config()
    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=ensure_manifest(DBT_PROJECT_DIR, _manifest_cache()),
            install_dbt_deps=False,  # no packages: never touch the network
        ),
        profile_config=ProfileConfig(
            profile_name="kinerja", target_name="warehouse",
            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
        ),
        # dbt runs inside the worker process (dbtRunner): no dbt executable or virtualenv to find.
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # One task per model (and seed) running `dbt build` of it and its data tests: a failing
            # model or test turns that model's task red, with half the tasks of AFTER_EACH.
            test_behavior=TestBehavior.BUILD,
            # A test on two models (relationships) waits for both in its own task instead of
            # running inside the first one's build against a stale second model.
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,  # no DAG consumes them; duckdb files are not lineage targets
        ),
        operator_args={
            "pool": POOL,
            "install_deps": False,
            "emit_datasets": False,
            # The nightly build leaves dbt unit tests to the test suite (kinerja.dbt_build).
            "exclude": "test_type:unit",
            "vars": {"as_of": "{{ " + _CONFIG + "['as_of'] }}"},
            # The profile reads the warehouse path and the build's DuckDB memory limit (which
            # prepare_build chose) from the environment (dbt_project/profiles.yml).
            "env": {"KINERJA_WAREHOUSE": "{{ " + _CONFIG + "['warehouse'] }}",
                    "KINERJA_DBT_MEMORY_LIMIT": "{{ " + _PLAN + "['memory_limit'] }}"},
            "append_env": True,
            "pre_execute": _hold_warehouse,
            "post_execute": _release_warehouse,
            "on_failure_callback": _release_warehouse,
            "on_retry_callback": _release_warehouse,
        },
    )
    plan = prepare_build(cfg)
    finished = finish_build(cfg, plan)
    checked = check(cfg)
    ingest(cfg) >> plan >> dbt >> finished >> checked
    publish(cfg, checked)


kinerja_nightly()

if __name__ == "__main__":
    # `python dags/kinerja_nightly.py` parses the DAG (and writes the dbt manifest cache) once.
    print(f"{DAG_ID}: parsed")
