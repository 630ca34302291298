"""Run the nightly checks by hand on a built warehouse and print the verdict.

    python -m expectations WAREHOUSE [--as-of YYYY-MM-DD] [--docs-dir DIR] [--changed-only]

Every rule reads its whole tables, unless --changed-only (what the nightly batch does): then the
rules that can read only the rows changed since the last recorded check (expectations/scope.py).

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
    parser.add_argument("--changed-only", action="store_true",
                        help="as the nightly batch: scope what can be to the rows changed since "
                             "the last recorded check")
    args = parser.parse_args(argv)
    report = run_checks(args.warehouse, args.as_of, docs_dir=args.docs_dir,
                        changed_only=args.changed_only)
    print(f"verdict: {report.verdict} ({report.seconds} s; {report.timings})")
    print(f"computed over: {report.scope.get('scope')} ({report.scope.get('reason')})")
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
