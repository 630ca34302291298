"""`kinerja`: the command line of WAREHOUSE.md (generate, run, recap, demo)."""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinerja", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic landing zone")
    gen.add_argument("--scale", choices=("tiny", "small", "ministry"), default="tiny")
    gen.add_argument("--year", type=int, default=datetime.now(timezone.utc).year)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", type=Path, required=True)

    run = sub.add_parser("run", help="one nightly batch: ingest, build, check, publish")
    run.add_argument("--landing", type=Path, required=True)
    run.add_argument("--warehouse", type=Path, required=True)
    run.add_argument("--as-of", type=_iso_date, default=None,
                     help="knowledge date YYYY-MM-DD (default: today, UTC)")
    run.add_argument("--publish", type=Path, default=None, help="directory for the published files")
    run.add_argument("--unmasked-nip", action="store_true",
                     help="publish NIPs in clear (default: masked)")

    recap = sub.add_parser("recap", help="print the IKU recap")
    recap.add_argument("--warehouse", type=Path, required=True)
    recap.add_argument("--unit", default=None)
    recap.add_argument("--period", default=None)

    demo = sub.add_parser("demo", help="generate a small landing zone and run the whole batch")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    demo.add_argument("--scale", choices=("tiny", "small"), default="small")
    return parser


def _cmd_generate(args) -> int:
    from kinerja.generate import generate_landing

    stats = generate_landing(args.scale, args.year, args.seed, args.out)
    print(f"wrote {args.scale} landing zone for {args.year} (seed {args.seed}) to {args.out}: "
          + ", ".join(f"{k} {v}" for k, v in stats.items()))
    return 0


def _print_summary(summary) -> None:
    print(f"batch as of {summary.as_of} completed")
    for step, figures in summary.steps.items():
        print(f"  {step:8s} " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    if summary.published:
        print("  published:")
        for path in summary.published:
            print(f"    {path}")


def _cmd_run(args) -> int:
    from kinerja.batch import BatchConfig, run_batch

    cfg = BatchConfig.create(args.landing, args.warehouse, args.as_of, args.publish,
                             mask_nip=not args.unmasked_nip)
    _print_summary(run_batch(cfg))
    return 0


def _cmd_recap(args) -> int:
    from kinerja.publish.recap import print_recap

    print_recap(args.warehouse, unit=args.unit, period=args.period)
    return 0


def _cmd_demo(args) -> int:
    from kinerja.batch import BatchConfig, run_batch
    from kinerja.generate import generate_landing

    year = datetime.now(timezone.utc).year
    out = args.out.resolve()
    landing = out / "landing"
    if not landing.exists():
        print(f"generating a {args.scale} landing zone for {year} in {landing}", file=sys.stderr)
        generate_landing(args.scale, year, 1, landing)
    cfg = BatchConfig.create(landing, out / "warehouse.duckdb", None, out / "publish")
    summary = run_batch(cfg)
    _print_summary(summary)
    print(f"\nwarehouse: {cfg.warehouse}\npublished: {cfg.publish_dir}")
    print(f"try: kinerja recap --warehouse {cfg.warehouse} --period S1")
    return 0


COMMANDS = {"generate": _cmd_generate, "run": _cmd_run, "recap": _cmd_recap, "demo": _cmd_demo}


def main(argv: list[str] | None = None) -> int:
    from kinerja.batch import BatchFailed
    from kinerja.lock import WarehouseBusy

    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (BatchFailed, WarehouseBusy) as exc:
        print(f"kinerja {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a DuckDB error (unreadable or locked file): one line, no traceback
        if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise
        print(f"kinerja {args.command}: the warehouse cannot be used: "
              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kinerja {args.command}: interrupted; rerun the same command to complete it",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
