"""Run the nightly checks by hand on a built warehouse and print the verdict.

    python -m expectations WAREHOUSE [--as-of YYYY-MM-DD] [--docs-dir DIR]

Exit status 1 when a blocking check fails, as in the batch.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from .checkpoint import run_checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__.split("\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--as-of", type=date.fromisoformat,
                        default=datetime.now(timezone.utc).date())
    parser.add_argument("--docs-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    report = run_checks(args.warehouse, args.as_of, docs_dir=args.docs_dir)
    print(f"verdict: {report.verdict} ({report.seconds} s; {report.timings})")
    for suite in report.suites:
        state = "ok" if suite.success else "FAILED " + ", ".join(suite.failed)
        print(f"  {suite.name:<26} {'blocking' if suite.blocking else 'warning':<8} {state}")
    for line in report.blocking_failures:
        print(f"BLOCKING {line}")
    for line in report.warnings:
        print(f"WARNING  {line}")
    if report.docs_dir:
        print(f"data docs: {report.docs_dir / 'index.html'}")
    return 1 if report.blocking_failures else 0


if __name__ == "__main__":
    sys.exit(main())
