"""Hostile and broken landing files against the WHOLE batch (`kinerja run`: ingest, dbt, GE checks,
publication), as a real process: it completes (exit 0), every row is accepted, counted as a
duplicate or quarantined with its reason, nothing outside the landing directory is read, no value
from a file becomes SQL, and the published files carry no NIP in clear.

The ingestion-level tests (tests/test_ingestion*.py) check each kind of damage in detail; here the
same kinds go through dbt and the checks too:

- `test_hostile_landing_zone_whole_batch`: the tiny landing zone plus one file of every hostile
  kind (truncated, not Parquet, empty, wrong types, `lines` of the wrong shape, huge strings, NaN
  and infinities, dates out of range, odd file names incl. quotes/SQL/newline/non-UTF-8 bytes,
  symlinks to a file and a folder outside, a FIFO, an unknown feed folder, a stray text file).
- `test_random_damage_whole_batch`: hypothesis property (5 random + 2 fixed examples), reusing the corruption strategy of
  tests/test_ingestion_property.py (bytes, columns, values): `kinerja run` completes and the
  ledger's conservation holds for every file. Few examples: each one builds dbt and runs GE.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, example, given, settings

from tests.ingestion_helpers import assert_conservation, ledger
from tests.landing_factory import (line, report, signed_event, to_table, unit, write_bytes,
                                   write_feed)
from tests.test_ingestion_property import (COPY_NAME, FILE_NAMES, REASON_PREFIXES, _write,
                                           damaged_landing)

pytestmark = pytest.mark.slow

KINERJA = str(Path(sys.executable).with_name("kinerja"))
AS_OF = "2026-12-31"
NIP = re.compile(rb"(?<![0-9])[0-9]{18}(?![0-9])")


def kinerja_run(landing: Path, warehouse: Path, publish: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KINERJA_FAULT_AT"}
    return subprocess.run([KINERJA, "run", "--landing", str(landing), "--warehouse", str(warehouse),
                           "--as-of", AS_OF, "--publish", str(publish)],
                          capture_output=True, text=True, errors="backslashreplace", env=env,
                          timeout=1800)


def copy_landing(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*.parquet")):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def assert_no_clear_nip(warehouse: Path, publish: Path) -> int:
    """No NIP of the warehouse appears in any published file; returns how many files were read."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        nips = {n.encode() for (n,) in con.execute(
            "select holder_nip from raw.contract_events union select supervisor_nip "
            "from raw.contract_events union select reporter_nip from raw.realisations").fetchall()
            if n}
    assert nips
    files = 0
    for path in publish.rglob("*"):
        if path.is_file():
            files += 1
            data = path.read_bytes()
            if path.suffix == ".xlsx":
                import zipfile
                with zipfile.ZipFile(path) as book:
                    data = b"".join(book.read(m) for m in book.namelist())
            leaked = set(NIP.findall(data)) & nips
            assert not leaked, (path, sorted(leaked)[:3])
    return files


# --------------------------------------------------------------------------- fixed hostile zone

def _hostile_files(landing: Path, outside: Path) -> dict[str, str | None]:
    """Write the hostile entries; {ledger file: expected reason prefix or None (rows judged)}."""
    expected: dict[str, str | None] = {}
    good = to_table("realisations", [report("HX-1", "KK-X", "IKU-01", "Q1", 1.0)])
    sink = pa.BufferOutputStream()
    pq.write_table(good, sink)
    good_bytes = sink.getvalue().to_pybytes()

    write_bytes(landing, "contract_events", "trunc.parquet", good_bytes[: len(good_bytes) // 2])
    expected["contract_events/trunc.parquet"] = "unreadable_parquet"
    write_bytes(landing, "realisations", "not parquet.parquet", b"id,value\nRP,1\n" * 100)
    expected["realisations/not parquet.parquet"] = "not_parquet"
    write_bytes(landing, "realisations", "empty.parquet", b"")
    expected["realisations/empty.parquet"] = "not_parquet"

    # wrong types: a whole column (file rejected) and castable strings that do not cast (rows)
    write_feed(landing, "units", [unit("HX-U1", None, [1])], name="wrong_type.parquet",
               types={"level": pa.list_(pa.int32())})
    expected["units/wrong_type.parquet"] = "wrong_column_type"
    write_feed(landing, "units", [unit("HX-U2", "ROOT-X", "two"), unit("HX-U3", "ROOT-X", 1)],
               name="level_as_text.parquet", types={"level": pa.string()})
    expected["units/level_as_text.parquet"] = None

    # `lines` of the wrong shape: not a list, a list of ints, a field of the wrong type, nulls
    ev = signed_event("HX-E1", "HX-K1", lines=[line("IKU-01")])
    write_feed(landing, "contract_events", [dict(ev, lines="[{iku_code: IKU-01}]")],
               name="lines_text.parquet", types={"lines": pa.string()})
    expected["contract_events/lines_text.parquet"] = "wrong_column_type"
    table = to_table("contract_events", [ev])
    table = table.set_column(table.schema.get_field_index("lines"), "lines",
                             pa.array([[1, 2, 3]], pa.list_(pa.int64())))
    pq.write_table(table, landing / "contract_events" / "lines_ints.parquet")
    expected["contract_events/lines_ints.parquet"] = "wrong_column_type"
    write_feed(landing, "contract_events",
               [signed_event("HX-E2", "HX-K2", lines=[line("IKU-01", weight="heavy")]),
                signed_event("HX-E3", "HX-K3", lines=[None, line("IKU-02", weight="100")]),
                signed_event("HX-E4", "HX-K4", lines=None)],
               name="lines_odd.parquet", line_types={"weight": pa.string()})
    expected["contract_events/lines_odd.parquet"] = None

    # huge strings (10 MB in a known column, 2 MB in an unknown one), NaN and infinities
    write_feed(landing, "realisations",
               [report("HX-R1", "K" * 10_000_000), report("HX-R2", note="n" * 2_000_000),
                report("HX-R3", value=math.nan), report("HX-R4", value=math.inf),
                report("HX-R5", value=-math.inf), report("HX-R6", value=1e308)],
               name="huge_and_nan.parquet")
    expected["realisations/huge_and_nan.parquet"] = None
    write_feed(landing, "contract_events",
               [signed_event("HX-E5", "HX-K5", lines=[line("IKU-01", target_q1=math.inf,
                                                           weight=math.nan)])],
               name="inf_targets.parquet")
    expected["contract_events/inf_targets.parquet"] = None

    # dates out of range: raw day / microsecond counts beyond any calendar
    table = to_table("units", [unit("HX-U4", None, 0), unit("HX-U5", None, 0), unit("HX-U6", None, 0)])
    days = pa.array([-(2**31), 2**31 - 1, 3_000_000], pa.int32()).cast(pa.date32())
    table = table.set_column(table.schema.get_field_index("valid_from"), "valid_from", days)
    pq.write_table(table, landing / "units" / "dates_out_of_range.parquet")
    expected["units/dates_out_of_range.parquet"] = None
    table = to_table("realisations", [report("HX-R7"), report("HX-R8"), report("HX-R9")])
    typ = table.schema.field("reported_at").type
    micros = pa.array([-(2**63) + 1, 2**63 - 1, 10**18], pa.int64()).cast(typ)
    table = table.set_column(table.schema.get_field_index("reported_at"), "reported_at", micros)
    pq.write_table(table, landing / "realisations" / "timestamps_out_of_range.parquet")
    expected["realisations/timestamps_out_of_range.parquet"] = None
    write_feed(landing, "contract_events",
               [signed_event("HX-E6", "HX-K6", year=1999, effective_date=date(1, 1, 1),
                             lines=[line("IKU-01")])],
               name="year_1999.parquet")
    expected["contract_events/year_1999.parquet"] = None

    # odd file names: SQL, quotes, shell, newline, leading dash, non-UTF-8 bytes
    odd = ["it's'; drop table raw.units; --.parquet", "$(touch pwned) `id`.parquet",
           "new\nline.parquet", "-rf.parquet", "ünï cödé ☃.parquet",
           os.fsdecode(b"bad \xff\xfe bytes.parquet")]
    for i, name in enumerate(odd):
        sink = pa.BufferOutputStream()
        pq.write_table(to_table("realisations", [report(f"HX-N{i}", "KK-N", "IKU-01", "Q2", 5.0)]),
                       sink)
        write_bytes(landing, "realisations", name, sink.getvalue().to_pybytes())
        rel = "realisations/" + os.path.normpath(name)
        expected[rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")] = None

    # refused: symlinks to a file and a folder outside the landing, a FIFO
    secret = outside / "secret.parquet"
    pq.write_table(to_table("realisations", [report("SECRET-1", "KK-SECRET")]), secret)
    os.symlink(secret, landing / "realisations" / "link.parquet")
    expected["realisations/link.parquet"] = "symlink_refused"
    os.symlink(outside, landing / "units" / "linked_dir")
    expected["units/linked_dir"] = "symlink_refused"
    os.mkfifo(landing / "realisations" / "fifo.parquet")
    expected["realisations/fifo.parquet"] = "not_regular_file"
    assert secret.exists()

    # not landing files: an unknown feed folder and a stray text file (listed, never read)
    write_bytes(landing, "payments", "p.parquet", good_bytes)
    (landing / "realisations" / "README.txt").write_text("not data")
    return expected


def test_hostile_landing_zone_whole_batch(tiny_landing, tmp_path):
    landing, outside = tmp_path / "landing", tmp_path / "outside"
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "pub"
    outside.mkdir()
    copy_landing(tiny_landing, landing)
    expected = _hostile_files(landing, outside)

    proc = kinerja_run(landing, wh, pub)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "batch as of 2026-12-31 completed" in proc.stdout
    assert (pub / "MANIFEST.json").is_file()

    assert_conservation(wh)
    entries = {e["file"]: e for e in ledger(wh)}
    tiny = {p.relative_to(tiny_landing).as_posix() for p in tiny_landing.rglob("*.parquet")}
    assert set(entries) == tiny | set(expected), sorted(set(entries) ^ (tiny | set(expected)))
    with duckdb.connect(str(wh), read_only=True) as con:
        reasons = dict(con.execute("select file, reason from ingest.quarantine "
                                   "where row_index is null").fetchall())
        row_reasons = [r for (r,) in
                       con.execute("select reason from ingest.quarantine").fetchall()]
        secret_rows = con.execute(
            "select count(*) from raw.realisations where report_id like 'SECRET%' or "
            "contract_id = 'KK-SECRET'").fetchone()[0]
        secret_q = con.execute("select count(*) from ingest.quarantine "
                               "where raw like '%SECRET%'").fetchone()[0]
        units = con.execute("select count(*) from raw.units").fetchone()[0]
        huge = con.execute("select length(contract_id) from raw.realisations "
                           "where report_id = 'HX-R1'").fetchone()
    for rel, prefix in expected.items():
        entry = entries[rel]
        if prefix is None:
            assert entry["status"] == "ingested", entry
        else:
            assert entry["status"] == "rejected" and reasons[rel].startswith(prefix), \
                (rel, entry, reasons.get(rel))
    for reason in row_reasons:
        assert reason.split(":", 1)[0] in REASON_PREFIXES, reason
    assert secret_rows == 0 and secret_q == 0, "a file outside the landing directory was read"
    assert units > 0, "raw.units survived the SQL-looking file name"
    assert huge == (10_000_000,), "the 10 MB string is stored whole"
    # every row of the row-level hostile files is accounted for, and the 10 MB id was kept whole
    assert entries["realisations/huge_and_nan.parquet"]["rows_read"] == 6
    # the int32 / int64 maxima arrive in DuckDB as infinities: quarantined; far but finite dates
    # (5.8 million years BC, year 10183) are dates, accepted and judged by the models
    assert entries["units/dates_out_of_range.parquet"]["rows_quarantined"] >= 1
    assert entries["realisations/timestamps_out_of_range.parquet"]["rows_quarantined"] >= 2
    assert entries["contract_events/lines_odd.parquet"]["rows_quarantined"] == 3
    assert entries["contract_events/inf_targets.parquet"]["rows_quarantined"] == 1
    assert entries["contract_events/year_1999.parquet"]["rows_quarantined"] == 1
    # refusals and unread files are logged
    assert "payments/p.parquet" in proc.stderr and "realisations/README.txt" in proc.stderr
    assert "symlink_refused" in proc.stderr and "not_regular_file" in proc.stderr
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert assert_no_clear_nip(wh, pub) > 10


# --------------------------------------------------------------------------- random damage

EXAMPLES: list[dict] = []


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(plan=damaged_landing())
# two fixed examples so that every run damages all three feeds (random ones may leave files whole)
@example(plan={"contract_events": ("line_value", (0, 0, "weight", math.nan)),
               "realisations": ("truncate", 0.5), "units": ("extreme", ("valid_from", 1, 1)),
               "copy": "realisations"})
@example(plan={"contract_events": ("bytes", [(0.5, 0), (0.7, 255), (0.9, 7)]),
               "realisations": ("retype", "value"), "units": ("drop_columns", ["name"]),
               "copy": "contract_events"})
def test_random_damage_whole_batch(tiny_landing, plan):
    """The damaged files land beside the tiny landing zone, so the marts and checks have data."""
    assume(any(plan[feed][0] != "none" for feed in FILE_NAMES))  # each example costs a dbt build
    with tempfile.TemporaryDirectory() as tmp:
        landing, wh, pub = Path(tmp) / "landing", Path(tmp) / "wh.duckdb", Path(tmp) / "pub"
        copy_landing(tiny_landing, landing)
        written = _write(landing, plan)

        proc = kinerja_run(landing, wh, pub)
        assert proc.returncode == 0, (plan, proc.stderr[-4000:])
        assert (pub / "MANIFEST.json").is_file()

        assert_conservation(wh)
        entries = {e["file"]: e for e in ledger(wh)}
        for rel, n_rows in written.items():
            entry = entries[rel]  # every damaged file has its ledger row
            assert entry["rows_read"] in (n_rows, 0) or entry["status"] == "rejected", entry
            assert entry["rows_read"] == (entry["rows_accepted"] + entry["rows_duplicate"]
                                          + entry["rows_quarantined"]), entry
        if plan.get("copy"):
            assert entries[f"{plan['copy']}/{COPY_NAME}"]["rows_accepted"] == 0
        EXAMPLES.append({f: (e["status"], e["rows_read"], e["rows_accepted"],
                             e["rows_duplicate"], e["rows_quarantined"])
                         for f, e in entries.items() if f in written})
        print(f"\nexample {len(EXAMPLES)}: {[plan[f][0] for f in FILE_NAMES]} -> "
              f"{EXAMPLES[-1]}")
