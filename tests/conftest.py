"""Shared fixtures: landing zones and built warehouses, built once per test session."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from kinerja.paths import EXAMPLES_DIR

EXAMPLE_LANDING = EXAMPLES_DIR / "komplemen-worked-examples" / "landing"
EXAMPLE_AS_OF = date(2026, 12, 31)
TINY_YEAR = 2026
TINY_AS_OF = date(2026, 12, 31)


def build_warehouse(landing: Path, warehouse: Path, as_of: date) -> Path:
    """Ingest a landing zone and dbt-build it (no GE, no publication)."""
    from kinerja.batch import BatchConfig, build_step, ingest_step

    cfg = BatchConfig.create(landing, warehouse, as_of)
    ingest_step(cfg, progress=lambda _m: None)
    build_step(cfg, progress=lambda _m: None)
    return warehouse


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory) -> Path:
    """The komplemen worked examples of ../shared/examples, built as of 2026-12-31."""
    wh = tmp_path_factory.mktemp("example") / "warehouse.duckdb"
    return build_warehouse(EXAMPLE_LANDING, wh, EXAMPLE_AS_OF)


@pytest.fixture(scope="session")
def tiny_landing(tmp_path_factory) -> Path:
    from kinerja.generate import generate_landing

    out = tmp_path_factory.mktemp("tiny") / "landing"
    generate_landing("tiny", TINY_YEAR, 7, out)
    return out


@pytest.fixture(scope="session")
def tiny_warehouse(tiny_landing, tmp_path_factory) -> Path:
    wh = tmp_path_factory.mktemp("tiny_wh") / "warehouse.duckdb"
    return build_warehouse(tiny_landing, wh, TINY_AS_OF)
