"""Benchmark the ingest step: `python -m ingestion.benchmark LANDING [--warehouse FILE]`.

Ingests a landing zone into a fresh warehouse (a temporary one unless given), then ingests it a
second time (everything skipped), and prints wall-clock seconds and rows per second for both.
Speed is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ingestion.ingest import ingest_landing


def _timed(landing: Path, warehouse: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    counts = ingest_landing(landing, warehouse)
    return counts, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = args.warehouse or Path(tmp) / "bench.duckdb"
        if warehouse.exists():
            raise SystemExit(f"{warehouse} exists; the benchmark needs a fresh warehouse file")
        first, first_s = _timed(args.landing, warehouse)
        second, second_s = _timed(args.landing, warehouse)
    print(f"first ingest : {first_s:7.2f} s  {first['rows_read'] / first_s:>10,.0f} rows/s  "
          + ", ".join(f"{k}={v}" for k, v in first.items()))
    print(f"rerun (skip) : {second_s:7.2f} s  files_skipped={second['files_skipped']}")


if __name__ == "__main__":
    main()
