"""One measured step in a fresh process: `python -m kinerja.bench.step STEP JSON-ARGS`.

Prints one JSON line last: the step's own seconds, its result figures and the maximum RSS of this
process (VmHWM) and of its largest waited-for child (dbt, getrusage), in KiB, and the CPU seconds
(user + system) of this process and its children.
"""
from __future__ import annotations

import json
import os
import pickle
import resource
import sys
import time
from datetime import date
from pathlib import Path

FLOOR_SQL = Path(__file__).with_name("floor.sql")


def _config(args: dict):
    from kinerja.batch import BatchConfig

    return BatchConfig.create(args["landing"], args["warehouse"], args["as_of"],
                              args.get("publish"))


def _quiet(_message: str) -> None:
    pass


def floor(warehouse: Path, out: Path, as_of: date) -> dict:
    """The raw-SQL floor: one DuckDB script from the raw tables to iku_achievement."""
    import duckdb

    out.unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        # DuckDB's default memory limit (80% of RAM): one statement holds every intermediate
        # result, and under 8 GB it ran out of memory at ministry scale (docs/BENCHMARKS.md)
        if os.environ.get("KINERJA_FLOOR_MEMORY_LIMIT"):
            con.execute(f"set memory_limit = '{os.environ['KINERJA_FLOOR_MEMORY_LIMIT']}'")
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        sql = FLOOR_SQL.read_text().replace("{{as_of}}", as_of.isoformat())
        con.execute(sql)
        rows = con.execute("select count(*) from iku_achievement").fetchone()[0]
    finally:
        con.close()
    return {"rows": rows}


def _own_peak_kib() -> int:
    """This process's peak RSS since its exec (VmHWM). Not getrusage's ru_maxrss: Linux carries
    the forking process's high-water mark over into an exec'd child's, so every step would report
    at least what the bench process itself once held (measured: a child of a parent that had held
    1.5 GB reports 1.5 GB; its VmHWM is 9 MB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_step(step: str, args: dict) -> dict:
    from kinerja import batch

    if step == "floor":
        return floor(Path(args["warehouse"]), Path(args["out"]), date.fromisoformat(args["as_of"]))
    if step == "compare_floor":
        from kinerja.bench.run import compare_floor

        return compare_floor(Path(args["warehouse"]), Path(args["floor"]))
    cfg = _config(args)
    if step == "batch":
        summary = batch.run_batch(cfg, progress=_quiet)
        return {"steps": summary.steps}
    if step == "ingest":
        return batch.ingest_step(cfg, _quiet)
    if step == "build":
        return batch.build_step(cfg, _quiet)
    if step == "check":
        report = batch.check_step(cfg, _quiet)
        Path(args["report"]).write_bytes(pickle.dumps(report))
        return {"warnings": len(report.warnings), "timings": report.timings}
    if step == "publish":
        report = pickle.loads(Path(args["report"]).read_bytes())
        return {"files": len(batch.publish_step(cfg, report, _quiet))}
    raise SystemExit(f"unknown step {step!r}")


def main(argv: list[str]) -> int:
    step, args = argv[0], json.loads(argv[1])
    started = time.perf_counter()
    result = run_step(step, args)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "step": step,
        "seconds": round(seconds, 3),
        "result": result,
        "maxrss_self_kib": _own_peak_kib(),
        "maxrss_children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "cpu_s": round(sum(u.ru_utime + u.ru_stime for u in (
            resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))), 2),
    }, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
