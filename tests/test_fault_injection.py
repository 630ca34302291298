"""Crash safety of the whole batch: a real `kinerja run` killed with SIGKILL at every step, then
rerun, ends with exactly what an uninterrupted run produces; the previous publication stays intact
while a later batch is killed.

Two tests on copies of the `tiny` landing zone (seed 7), each compared with one uninterrupted
baseline run (a fresh warehouse and publication):

- `test_kill_at_each_step_then_rerun`: a chain of killed runs on one warehouse, each starting from
  the wreckage of the previous one: inside a file's ingest transaction (test hook), inside dbt
  (SIGKILL to the batch process only: the dbt child must die with it, PR_SET_PDEATHSIG), during
  the Great Expectations checks (SIGKILL to the process group), with the new publication complete
  but not swapped in, and right after the swap (test hooks in kinerja/publish/atomic.py). The
  publication of an earlier completed run stays byte-identical until a new one is complete.
- `test_timed_kills_then_rerun`: kills of the process group a given delay after each step's
  progress line, on a fresh warehouse, until a final run completes.

The hook `KINERJA_FAULT_AT=<point>[@<n>]` (kinerja.batch.fault_point) does nothing unless set.
Compared: every public table (ingest.ledger and ingest.quarantine minus ingested_at, every
marts.* table) plus raw.* minus ingested_at, and every published file, byte for byte after the
normalisation documented in docs/RELIABILITY.md (run timestamps, GE run ids, xlsx zip times, doubles
to 12 significant digits).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

KINERJA = str(Path(sys.executable).with_name("kinerja"))
AS_OF = "2026-12-31"
# Files of the realisations feed held back from the first run of the chain; they are the last
# files of their feed, so every feed is ingested in the same file order as in the baseline.
LATE_FILES = ("realisations/re_90_late_and_corrections.parquet",
              "realisations/re_98_missing_value_column.parquet",
              "realisations/re_99_bad_rows.parquet")
# what a completed run leaves beside the warehouse `wh.duckdb` (no .wal, no temp dirs)
LEFT_BESIDE = [".wh.duckdb.checks", ".wh.duckdb.dbt", "pub", "wh.duckdb", "wh.duckdb.lock"]
RESULTS: dict[str, list] = {}  # figures of this session, printed at the end (docs/RELIABILITY.md)


# --------------------------------------------------------------------------- a batch process

class Batch:
    """One real `kinerja run` in its own process group; its output lines are collected."""

    def __init__(self, landing: Path, warehouse: Path, publish: Path | None, fault: str | None = None,
                 extra_args: tuple[str, ...] = ()):
        env = {k: v for k, v in os.environ.items() if k != "KINERJA_FAULT_AT"}
        if fault:
            env["KINERJA_FAULT_AT"] = fault
        args = [KINERJA, "run", "--landing", str(landing), "--warehouse", str(warehouse),
                "--as-of", AS_OF, *extra_args]
        if publish is not None:
            args += ["--publish", str(publish)]
        self.lines: list[str] = []
        self.seen_at: dict[str, float] = {}  # first time (monotonic) each line was read
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, start_new_session=True,
                                     errors="backslashreplace")
        self._readers = [threading.Thread(target=self._read, args=(s,), daemon=True)
                         for s in (self.proc.stdout, self.proc.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.seen_at.setdefault(line.rstrip("\n"), time.monotonic())
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_line(self, text: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, f"batch ended before {text!r}:\n{self.output[-3000:]}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout}s"
            time.sleep(0.02)

    def kill_group(self) -> None:
        """SIGKILL the whole group; return once no member lives (a dying dbt child still holds
        DuckDB's file lock for a moment after the batch process is gone)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.finish()
        deadline = time.monotonic() + 30
        while group_members(self.proc.pid):
            assert time.monotonic() < deadline, f"group {self.proc.pid} survived SIGKILL"
            time.sleep(0.02)

    def finish(self, timeout: float = 1200) -> int:
        rc = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        return rc


def run_batch(landing, warehouse, publish, fault=None, extra_args=()) -> Batch:
    batch = Batch(landing, warehouse, publish, fault, extra_args)
    batch.finish()
    return batch


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and state != "Z":
            found.append((int(entry), cmd))
    return found


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and alive(int(entry)):
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """Some thread of `pid` still runs. A killed multi-threaded process (dbt with DuckDB's threads)
    shows its main thread as a zombie while the other threads still exit holding its files and
    DuckDB's lock, so every thread is looked at."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            state = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            return True
    return False


def processes_using(path: Path) -> list[str]:
    """Command lines of live processes whose command line or environment names `path`."""
    needle = str(path).encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            blob = Path(f"/proc/{entry}/cmdline").read_bytes() + Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in blob and alive(int(entry)):
            found.append(Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


# --------------------------------------------------------------------------- what is compared

def _norm_value(value):
    if isinstance(value, float):
        return f"{value:.12g}"  # parallel aggregation may change the last bits (RELIABILITY.md)
    if isinstance(value, (list, tuple)):
        return tuple(_norm_value(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _norm_value(v)) for k, v in value.items())
    return value


def public_tables(warehouse: Path) -> dict[str, list]:
    """Every public table (and the raw store) without `ingested_at`, rows in a canonical order."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('ingest', 'marts', 'raw') order by all").fetchall()
        for schema, table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table]).fetchall() if c != "ingested_at"]
            select = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
            rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted((_norm_value(r) for r in rows), key=repr)
    assert {"ingest.ledger", "ingest.quarantine", "marts.nko", "marts.iku_achievement"} <= set(out)
    return out


_STAMP = re.compile(rb"\d{8}T\d{6}\.\d{6}Z|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
                    rb"([+-]\d{2}:?\d{2}|Z| UTC)?")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RUN_SORT = re.compile(rb"'_run_time_sort': [0-9.]+")
_LONG_FLOAT = re.compile(rb"-?\d+\.\d{10,}(?:[eE][+-]?\d+)?")


def _round_floats(data: bytes) -> bytes:
    return _LONG_FLOAT.sub(lambda m: f"{float(m.group()):.12g}".encode(), data)


_JS_CALL = re.compile(rb"(?s)^(window\.KINERJA\.\w+\((?:\"(?:[^\"\\\\]|\\\\.)*\", )?)(\{.*\})(\);\s*)$")


def _canonical_js(data: bytes) -> bytes:
    """`window.KINERJA.f([id, ]{json});` with the JSON's object keys sorted."""
    match = _JS_CALL.match(data)
    assert match, data[:200]
    body = json.dumps(json.loads(match.group(2)), sort_keys=True, ensure_ascii=False)
    return match.group(1) + body.encode() + match.group(3)


def published(root: Path) -> dict[str, bytes]:
    """Every published file, normalised only where a run legitimately differs (RELIABILITY.md)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        if rel.endswith(".xlsx"):  # zip member times differ; members compared by content
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                data = repr([(m.filename, book.read(m)) for m in book.infolist()]).encode()
        if rel == "MANIFEST.json":  # `bytes` sums the data docs, whose timestamps vary in width;
            manifest = json.loads(data)  # build_id counts the warehouse's builds (its history)
            manifest.pop("bytes")
            manifest.pop("build_id", None)
            data = json.dumps(manifest, sort_keys=True).encode()
        if rel.startswith("data/") and rel.endswith(".js"):  # key order of JSON objects varies
            data = _canonical_js(data)
        if rel == "data/tree.js" or rel.startswith("data-docs/"):
            data = _RUN_SORT.sub(b"<run>", _UUID.sub(b"<uuid>", _STAMP.sub(b"<time>", data)))
            rel = _STAMP.sub(b"<time>", rel.encode()).decode()
        out[rel] = _round_floats(data)
    assert "MANIFEST.json" in out and "recap/2026/KEMENKEU.csv" in out
    return out


def raw_tree(root: Path) -> dict[str, bytes]:
    """A publication byte for byte (no normalisation): what must not change at all."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same(got: dict, want: dict, what: str) -> None:
    assert sorted(got) == sorted(want), f"{what}: different names"
    differing = [k for k in want if got[k] != want[k]]
    assert not differing, f"{what} differ: {differing[:10]}"


def stale_siblings(publish: Path) -> list[Path]:
    return sorted(publish.parent.glob(f".{publish.name}.*"))


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def baseline(tiny_landing, tmp_path_factory):
    """One uninterrupted run: its public tables and its publication (normalised)."""
    root = tmp_path_factory.mktemp("baseline")
    batch = run_batch(tiny_landing, root / "wh.duckdb", root / "pub")
    assert batch.proc.returncode == 0, batch.output[-3000:]
    def at(text: str) -> float:
        return min(t for line, t in batch.seen_at.items() if text in line)

    # how long each step took, so the timed kills land at a fraction of it whatever the load
    seconds = {"dbt": at("running data-quality checks") - at("building models"),
               "checks": at("publishing to") - at("running data-quality checks"),
               "publish": at("completed") - at("publishing to")}
    return {"tables": public_tables(root / "wh.duckdb"), "published": published(root / "pub"),
            "seconds": seconds}


def _copy_landing(src: Path, dst: Path, skip=()) -> None:
    for path in sorted(src.rglob("*.parquet")):
        rel = path.relative_to(src).as_posix()
        if rel not in skip:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / rel)


HOLDERS: list[str] = []  # who held DuckDB's lock when the test read the warehouse after a kill


def _ledger_files(warehouse: Path) -> list[str]:
    deadline = time.monotonic() + 20
    while True:
        try:
            with duckdb.connect(str(warehouse), read_only=True) as con:
                return [f for (f,) in
                        con.execute("select file from ingest.ledger order by file").fetchall()]
        except duckdb.IOException as exc:
            pid = re.search(r"PID (\d+)", str(exc))
            try:
                info = Path(f"/proc/{pid.group(1)}/stat").read_text()[:80] if pid else "?"
            except OSError as gone:
                info = f"gone ({gone.strerror})"
            HOLDERS.append(f"{pid.group(1) if pid else '?'}: {info}")
            assert time.monotonic() < deadline, f"warehouse still locked: {HOLDERS[-3:]}"
            time.sleep(0.2)


# --------------------------------------------------------------------------- tests

def test_kill_at_each_step_then_rerun(tiny_landing, baseline, tmp_path):
    landing, wh, pub = tmp_path / "landing", tmp_path / "wh.duckdb", tmp_path / "pub"
    lock = wh.with_name(wh.name + ".lock")
    kills = []

    # 0. a completed night without the late files: the publication that must survive the kills
    _copy_landing(tiny_landing, landing, skip=LATE_FILES)
    first = run_batch(landing, wh, pub)
    assert first.proc.returncode == 0, first.output[-3000:]
    previous = raw_tree(pub)
    assert published(pub)["recap/2026/KEMENKEU.csv"] != baseline["published"]["recap/2026/KEMENKEU.csv"]
    for rel in LATE_FILES:
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tiny_landing / rel, landing / rel)
    before = set(_ledger_files(wh))

    # 1. inside the transaction of the 2nd new file (its rows and ledger row written, no commit)
    batch = run_batch(landing, wh, pub, fault="ingest@2")
    assert batch.proc.returncode == -signal.SIGKILL, batch.output[-3000:]
    assert set(_ledger_files(wh)) - before == {LATE_FILES[0]}, "only the committed file stays"
    assert raw_tree(pub) == previous
    kills.append("ingest: inside the 2nd new file's transaction")

    # 2. inside dbt: SIGKILL to the batch process only; the dbt child must die with it
    batch = Batch(landing, wh, pub)
    batch.wait_line("building models")
    deadline = time.monotonic() + 300
    dbt = []
    while not dbt or not wh.with_name(wh.name + ".wal").exists():
        assert batch.proc.poll() is None, batch.output[-3000:]
        assert time.monotonic() < deadline, "dbt never started writing the warehouse"
        dbt = [pid for pid, cmd in children(batch.proc.pid) if "dbt" in cmd]
        time.sleep(0.05)
    time.sleep(3)
    assert batch.proc.poll() is None and all(alive(p) for p in dbt), "dbt ended too early"
    os.kill(batch.proc.pid, signal.SIGKILL)
    assert batch.finish() == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while any(alive(p) for p in dbt):
        assert time.monotonic() < deadline, f"dbt child {dbt} outlived the killed batch"
        time.sleep(0.05)
    assert lock.exists() and raw_tree(pub) == previous
    wal_left = wh.with_name(wh.name + ".wal").exists()
    kills.append(f"dbt: batch process only, dbt child {dbt} died with it, WAL left: {wal_left}")

    # 3. during the Great Expectations checks: SIGKILL to the process group
    batch = Batch(landing, wh, pub)
    batch.wait_line("running data-quality checks")
    # a third of the baseline's check time: the checks (GE imported during dbt) can take < 3 s
    into = baseline["seconds"]["checks"] / 3
    time.sleep(into)
    assert batch.proc.poll() is None, batch.output[-3000:]
    batch.kill_group()
    assert batch.proc.returncode == -signal.SIGKILL
    assert raw_tree(pub) == previous
    kills.append(f"checks: process group, {into:.1f} s into the checks")

    # 4. publication complete and fsynced in its temp dir, not yet swapped in
    batch = run_batch(landing, wh, pub, fault="publish:swap")
    assert batch.proc.returncode == -signal.SIGKILL, batch.output[-3000:]
    assert raw_tree(pub) == previous, "the previous publication stays until the swap"
    assert [p.name.split("-")[0] for p in stale_siblings(pub)] == [".pub.tmp"]
    kills.append("publish: complete temp dir, before the swap")

    # 5. right after the swap, before the previous night is deleted
    batch = run_batch(landing, wh, pub, fault="publish:swapped")
    assert batch.proc.returncode == -signal.SIGKILL, batch.output[-3000:]
    assert_same(published(pub), baseline["published"], "publication after the swap")
    leftovers = stale_siblings(pub)
    assert leftovers and any(raw_tree(p) == previous for p in leftovers), "old night set aside"
    kills.append("publish: after the swap, previous night not yet deleted")

    # 6. the rerun completes and equals the uninterrupted run; nothing is left behind
    batch = run_batch(landing, wh, pub)
    assert batch.proc.returncode == 0, batch.output[-3000:]
    assert_same(public_tables(wh), baseline["tables"], "public tables")
    assert_same(published(pub), baseline["published"], "published files")
    assert stale_siblings(pub) == [], "the rerun removed the killed runs' temp dirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(LEFT_BESIDE + ["landing"]), \
        "no WAL, temp file or folder left beside the warehouse"
    assert processes_using(wh) == [], "no process of the killed runs is left"
    RESULTS["chain"] = kills
    print("\n".join(f"chain kill: {k}" for k in kills))


# (step's progress line, step, fraction of the baseline's time of that step to wait after the
# line) for each killed run of the timed test
TIMED_KILLS = [
    ("contract_events/ce_01_signed_DJPB.parquet: accepted", None, 0.0),
    ("building models", "dbt", 0.1),
    ("building models", "dbt", 0.6),
    ("running data-quality checks", "checks", 0.2),
    ("running data-quality checks", "checks", 0.7),
    ("publishing to", "publish", 0.2),
    ("publishing to", "publish", 0.7),
]


def test_timed_kills_then_rerun(tiny_landing, baseline, tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    outcomes = []
    for line, step, fraction in TIMED_KILLS:
        delay = round(fraction * baseline["seconds"][step], 2) if step else 0.0
        before = raw_tree(pub) if (pub / "MANIFEST.json").exists() else None
        batch = Batch(tiny_landing, wh, pub)
        batch.wait_line(line)
        time.sleep(delay)
        last = batch.lines[-1] if batch.lines else ""
        batch.kill_group()
        rc = batch.proc.returncode
        assert rc in (-signal.SIGKILL, 0), batch.output[-3000:]
        files = len(_ledger_files(wh)) if wh.exists() else 0
        outcomes.append((step or "ingest", fraction, delay, f"{files} files in the ledger",
                         "completed before the kill" if rc == 0 else f"killed after: {last[:60]}"))
        # a publication, once there, is always a complete one: the old one or the new one
        if before is not None:
            now = raw_tree(pub)
            assert now == before or published(pub) == baseline["published"], (line, delay)
    final = run_batch(tiny_landing, wh, pub)
    assert final.proc.returncode == 0, final.output[-3000:]
    assert_same(public_tables(wh), baseline["tables"], "public tables")
    assert_same(published(pub), baseline["published"], "published files")
    assert stale_siblings(pub) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(LEFT_BESIDE)
    assert processes_using(wh) == []
    RESULTS["timed"] = outcomes
    print(f"\nbaseline step seconds: {baseline['seconds']}; lock holders seen: {HOLDERS}")
    print("\n".join(f"timed kill: {o}" for o in outcomes))
