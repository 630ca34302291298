"""The real `kinerja_nightly` DAG end to end with `dag.test()` on the tiny landing zone.

One subprocess (so this test process never configures Airflow) with a temporary AIRFLOW_HOME and
SQLite metadata DB: migrate, create the 1-slot pool, then three nightly runs on one warehouse:

1. the night of 1 Jan 2027 01:00 WIB (as of 2026-12-31): marts filled, files published;
2. the same night again: every public table identical (rerun is idempotent);
3. the night of 16 Jul 2026 (as of 2026-07-15), a backfill after later nights: the marts equal a
   `kinerja run --as-of 2026-07-15` build of the same landing zone, and differ from run 1.

The paths reach the DAG as Airflow Variables (AIRFLOW_VAR_* environment variables).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from kinerja.paths import DAGS_DIR, REPO_ROOT

pytestmark = pytest.mark.slow

NIGHT = "2027-01-01T01:00:00+07:00"  # builds as of 2026-12-31
EARLIER_NIGHT = "2026-07-16T01:00:00+07:00"  # builds as of 2026-07-15
EARLIER_AS_OF = "2026-07-15"
RUNNER_TIMEOUT = 2400

RUNNER = r"""
import json, os, shutil, sys, time
from pathlib import Path
import pendulum
from airflow.utils import db
from airflow.models.pool import Pool

db.initdb()
Pool.create_or_update_pool("kinerja_warehouse", 1, "one writer per warehouse file",
                           include_deferred=False)
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
assert not bag.import_errors, bag.import_errors
dag = bag.dags["kinerja_nightly"]
# dag.test() waits out retry delays; a failure here should fail the test now, not in 3 minutes.
# (The retry settings themselves are checked in tests/test_dags.py.)
for task in dag.tasks:
    task.retries = 0
warehouse = os.environ["AIRFLOW_VAR_KINERJA_WAREHOUSE"]
publish = os.environ["AIRFLOW_VAR_KINERJA_PUBLISH"]
runs = []
for spec in sys.argv[1:]:
    logical_date, snapshot = spec.split("=")
    started = time.perf_counter()
    dr = dag.test(logical_date=pendulum.parse(logical_date))
    tis = dr.get_task_instances()
    shutil.copyfile(warehouse, snapshot)
    runs.append({
        "logical_date": logical_date,
        "state": str(dr.state),
        "seconds": round(time.perf_counter() - started, 1),
        "tasks": len(tis),
        "not_success": sorted(f"{ti.task_id}={ti.state}" for ti in tis if str(ti.state) != "success"),
        "published": sorted(str(p.relative_to(publish)) for p in Path(publish).rglob("*")
                            if p.is_file()),
    })
print("RESULT " + json.dumps(runs), flush=True)
"""


def _airflow_env(root: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KINERJA_"))}
    env.update({
        "AIRFLOW_HOME": str(root / "airflow-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
        "AIRFLOW_VAR_KINERJA_LANDING": str(landing),
        "AIRFLOW_VAR_KINERJA_WAREHOUSE": str(root / "warehouse" / "warehouse.duckdb"),
        "AIRFLOW_VAR_KINERJA_PUBLISH": str(root / "publish"),
        # no usage pings: each one waits for a network timeout on an offline machine
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_NO_ANALYTICS": "true",
        "DO_NOT_TRACK": "true",
        # keyed by the dbt project's fingerprint, so sharing it across test sessions is safe
        "KINERJA_MANIFEST_CACHE": str(Path(tempfile.gettempdir()) / "kinerja-test-dbt-manifest"),
    })
    return env


@pytest.fixture(scope="module")
def nightly_runs(tiny_landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("dag_run")
    (root / "warehouse").mkdir()
    snapshots = {name: root / f"{name}.duckdb" for name in ("night", "rerun", "earlier")}
    cli_warehouse = root / "cli" / "warehouse.duckdb"
    cli_warehouse.parent.mkdir()
    # The reference build runs beside the DAG (its own warehouse file, so no writer conflict).
    cli = subprocess.Popen(
        [sys.executable, "-m", "kinerja", "run", "--landing", str(tiny_landing),
         "--warehouse", str(cli_warehouse), "--as-of", EARLIER_AS_OF],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    log = root / "runner.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER,
             f"{NIGHT}={snapshots['night']}", f"{NIGHT}={snapshots['rerun']}",
             f"{EARLIER_NIGHT}={snapshots['earlier']}"],
            env=_airflow_env(root, tiny_landing), cwd=root, stdout=out, stderr=subprocess.STDOUT,
            text=True, timeout=RUNNER_TIMEOUT,
        )
    cli_out, _ = cli.communicate(timeout=RUNNER_TIMEOUT)
    # pytest keeps only the last few temp dirs and other sessions rotate them: keep the log findable
    kept = REPO_ROOT / "test-artifacts" / "dag_run" / "runner.log"  # git-ignored
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log, kept)
    text = log.read_text()
    result = [line for line in text.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and result, f"runner failed ({done.returncode}); log {log}:\n{text[-4000:]}"
    assert cli.returncode == 0, cli_out[-3000:]
    runs = dict(zip(("night", "rerun", "earlier"), json.loads(result[-1][len("RESULT "):])))
    print("dag.test seconds:", {name: run["seconds"] for name, run in runs.items()})
    return {"runs": runs, "snapshots": snapshots, "cli": cli_warehouse, "log": log}


def _public_tables(warehouse: Path, schemas=("marts", "ingest")) -> dict[str, list[tuple]]:
    """Every table of the public schemas, rows sorted, without the wall-clock `ingested_at`."""
    tables = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({', '.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas)).fetchall()
        for schema, name in names:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, name]).fetchall() if c != "ingested_at"]
            rows = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in columns)} '
                               f'from "{schema}"."{name}"').fetchall()
            tables[f"{schema}.{name}"] = sorted(rows, key=repr)
    return tables


def _differences(expected: list[tuple], actual: list[tuple]) -> list[str]:
    """Rows must match exactly, except doubles, which may differ in the last bits.

    DuckDB aggregates (avg/sum of doubles) add in an order that depends on its thread scheduling,
    so two builds of the same data can differ by an ulp (seen: ICI 92.47333333333331 vs ...34).
    Every other column (keys, colours, grades, counts, texts) must be identical.
    """
    def split(rows):
        grouped: dict[tuple, list[tuple]] = {}
        for row in rows:
            key = tuple(v for v in row if not isinstance(v, float))
            grouped.setdefault(key, []).append(tuple(v for v in row if isinstance(v, float)))
        return grouped

    want, got = split(expected), split(actual)
    problems = [f"missing {key}" for key in want.keys() - got.keys()]
    problems += [f"unexpected {key}" for key in got.keys() - want.keys()]
    for key in want.keys() & got.keys():
        a, b = sorted(want[key]), sorted(got[key])
        if len(a) != len(b) or not all(
                math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(x) and math.isnan(y))
                for ra, rb in zip(a, b) for x, y in zip(ra, rb)):
            problems.append(f"{key}: {a[:3]} != {b[:3]}")
    return problems


MARTS = {"marts.contract_lines", "marts.responsibility", "marts.iku_achievement", "marts.nko",
         "marts.komplemen_targets", "marts.cascading_edges", "marts.audit_findings"}


def _assert_success(run: dict) -> None:
    assert run["state"] == "success" and not run["not_success"], (
        f"run for {run['logical_date']} {run['state']}: {run['not_success']} "
        "(log: test-artifacts/dag_run/runner.log)")


def test_night_run_fills_the_marts_and_publishes(nightly_runs):
    run = nightly_runs["runs"]["night"]
    _assert_success(run)
    assert run["tasks"] > 30  # batch_config, ingest, one dbt task per model/seed, check, publish
    tables = _public_tables(nightly_runs["snapshots"]["night"])
    assert MARTS <= set(tables)
    for name in ("marts.contract_lines", "marts.iku_achievement", "marts.nko", "marts.responsibility",
                 "ingest.ledger"):
        assert tables[name], f"{name} is empty"
    published = set(run["published"])
    assert "index.html" in published, published
    assert "data-docs/index.html" in published, published
    assert any(p.startswith("recap/") and p.endswith(".csv") for p in published), published
    assert any(p.endswith(".xlsx") for p in published), published


def test_rerunning_a_night_leaves_every_public_table_identical(nightly_runs):
    _assert_success(nightly_runs["runs"]["rerun"])
    first = _public_tables(nightly_runs["snapshots"]["night"])
    again = _public_tables(nightly_runs["snapshots"]["rerun"])
    assert set(first) == set(again)
    for name in first:
        problems = _differences(first[name], again[name])
        assert not problems, f"{name} changed on rerun: {problems[:5]}"


def test_backfilled_earlier_night_reproduces_its_as_of_state(nightly_runs):
    _assert_success(nightly_runs["runs"]["earlier"])
    backfilled = _public_tables(nightly_runs["snapshots"]["earlier"], schemas=("marts",))
    reference = _public_tables(nightly_runs["cli"], schemas=("marts",))
    assert set(backfilled) == set(reference)
    for name in reference:
        problems = _differences(reference[name], backfilled[name])
        assert not problems, f"{name} differs from kinerja run --as-of {EARLIER_AS_OF}: {problems[:5]}"
    # and the as-of date mattered: mid-year the year-end state was not known yet
    latest = _public_tables(nightly_runs["snapshots"]["night"], schemas=("marts",))
    assert backfilled["marts.iku_achievement"] != latest["marts.iku_achievement"]
