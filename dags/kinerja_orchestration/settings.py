"""Run-time settings of the nightly DAG: the batch's as-of date and the three paths.

Everything here is resolved inside a task (never while the DAG file is parsed), so changing a
Variable takes effect on the next run without redeploying, and the scheduler never touches the
warehouse's disk.
"""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping

import pendulum

# The ministry works on Western Indonesia Time; the nightly run is at 01:00 WIB (18:00 UTC).
TIMEZONE = pendulum.timezone("Asia/Jakarta")
POOL = "kinerja_warehouse"  # 1 slot: DuckDB allows one writer per file

# name -> (Airflow Variable, environment variable, default relative to AIRFLOW_HOME)
PATHS = {
    "landing": ("kinerja_landing", "KINERJA_LANDING", "kinerja/landing"),
    "warehouse": ("kinerja_warehouse", "KINERJA_WAREHOUSE", "kinerja/warehouse.duckdb"),
    "publish": ("kinerja_publish", "KINERJA_PUBLISH", "kinerja/publish"),
}


def airflow_home(environ: Mapping[str, str] = os.environ) -> Path:
    """The same default Airflow itself uses when AIRFLOW_HOME is unset."""
    return Path(environ.get("AIRFLOW_HOME") or "~/airflow").expanduser()


def resolve_paths(get_variable: Callable[[str], str | None],
                  environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Variable first (set by an admin in the UI or a secrets backend), then the worker's environment,
    then a default under AIRFLOW_HOME. Returns absolute paths as strings (they travel through XCom)."""
    home = airflow_home(environ)
    resolved = {}
    for name, (variable, env_name, default) in PATHS.items():
        value = get_variable(variable) or environ.get(env_name) or str(home / default)
        resolved[name] = str(Path(value).expanduser().resolve())
    return resolved


def as_of_for_run(data_interval_end: datetime | None, run_after: datetime | None) -> date:
    """The as-of date (WAREHOUSE.md `--as-of`) a run builds: the Jakarta day before the run's night.

    The DAG uses a data-interval timetable: the run that starts on 24 Nov at 01:00 WIB has the data
    interval [23 Nov 01:00 WIB, 24 Nov 01:00 WIB) and builds as of 23 Nov, the day the interval
    covers. Its logical date (= the interval's start) is 23 Nov, so a backfill `--from-date
    2026-11-01` starts with as-of 2026-11-01. A manual run without a data interval uses the time it
    was triggered for: the last night before it.
    """
    reference = data_interval_end or run_after
    if reference is None:
        raise ValueError("the run has neither a data interval nor a run_after time")
    return (pendulum.instance(reference).in_timezone(TIMEZONE) - timedelta(days=1)).date()
