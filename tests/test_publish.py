"""Publication: recap CSV/XLSX numbers, NIP masking everywhere, atomic replacement, recap CLI.

Runs against a hand-built warehouse with the public tables (tests/test_publish_fixture.py), and
the same checks against the real `tiny` warehouse (ingest + dbt build) where it can be built.
"""
from __future__ import annotations

import csv
import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinerja.publish import LAST, atomic, publish
from kinerja.publish.masking import mask_nip, mask_text, nip_sql
from tests.test_publish_fixture import build, keep_kk_rows

AS_OF = date(2026, 12, 31)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def synthetic_wh(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("pubwh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def real_wh(request):
    """The `tiny` warehouse of conftest, when the generator and the marts exist in this checkout."""
    try:
        import kinerja.generate  # noqa: F401
    except ImportError:
        pytest.skip("kinerja.generate is not in this checkout yet; tiny warehouse unavailable")
    wh = request.getfixturevalue("tiny_warehouse")
    with duckdb.connect(str(wh), read_only=True) as con:
        have = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    missing = {"nko", "iku_achievement", "contract_lines", "cascading_edges", "audit_findings"} - have
    if missing:
        pytest.skip(f"tiny warehouse has no marts {sorted(missing)} yet")
    return wh


@pytest.fixture(params=["synthetic", pytest.param("tiny", marks=pytest.mark.slow)])
def warehouse(request):
    return request.getfixturevalue("synthetic_wh" if request.param == "synthetic" else "real_wh")


def q(wh, sql, params=None):
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def close(a, b, tol=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


def _num(text):
    return None if text in ("", None) else float(text)


def recap_rows(out: Path) -> list[dict]:
    """Every row of every unit's recap CSV (recap/<year>/<unit>.csv, listed in recap/index.csv)."""
    rows = []
    with open(out / "recap" / "index.csv", newline="", encoding="utf-8") as f:
        index = list(csv.DictReader(f))
    for entry in index:
        with open(out / "recap" / entry["csv"], newline="", encoding="utf-8") as f:
            part = list(csv.DictReader(f))
        assert len(part) == int(entry["rows"]) and {r["unit_id"] for r in part} == {entry["unit_id"]}
        rows += part
    return rows


# ------------------------------------------------------------------ recap content

def test_csv_rows_equal_marts(warehouse, tmp_path):
    out = tmp_path / "pub"
    publish(warehouse, out, AS_OF, None)
    rows = recap_rows(out)
    assert len(rows) == q(warehouse, "select count(*) from marts.iku_achievement")[0][0] > 0
    keys = {(r["contract_id"], r["iku_code"], r["period"]) for r in rows}
    assert len(keys) == len(rows), "one row per (KK, IKU, period)"
    sample = random.Random(5).sample(rows, min(60, len(rows)))
    for r in sample:
        (t, real, ici, colour, unit_id), = q(warehouse, """
            select target, realisation, ici, colour, unit_id from marts.iku_achievement
            where contract_id = ? and iku_code = ? and period = ?""",
            [r["contract_id"], r["iku_code"], r["period"]])
        assert close(_num(r["target"]), t) and close(_num(r["realisation"]), real)
        assert close(_num(r["ici"]), ici) and (r["colour"] or None) == colour
        assert r["unit_id"] == unit_id
        nko = q(warehouse, "select nko, grade from marts.nko where contract_id = ? and period = ?",
                [r["contract_id"], r["period"]])
        if nko:
            assert close(_num(r["kk_nko"]), nko[0][0]) and (r["kk_grade"] or None) == nko[0][1]


def test_xlsx_per_unit_equal_marts(warehouse, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "pub"
    publish(warehouse, out, AS_OF, None)
    with open(out / "recap" / "index.csv", newline="", encoding="utf-8") as f:
        index = list(csv.DictReader(f))
    total, by_key = 0, {}
    for entry in index:
        wb = load_workbook(out / "recap" / entry["xlsx"], read_only=True)
        assert [ws.title for ws in wb.worksheets] == [f"Rekap IKU {entry['year']}"]
        it = wb.worksheets[0].iter_rows(values_only=True)
        header = next(it)
        for row in it:
            rec = dict(zip(header, tuple(row) + (None,) * (len(header) - len(row))))
            assert rec["unit_id"] == entry["unit_id"] and str(rec["year"]) == entry["year"]
            by_key[(rec["contract_id"], rec["iku_code"], rec["period"])] = rec
            total += 1
        wb.close()
    assert total == q(warehouse, "select count(*) from marts.iku_achievement")[0][0]
    marts = q(warehouse, """
        select a.contract_id, a.iku_code, a.period, a.target, a.realisation, a.ici, a.colour, n.nko
        from marts.iku_achievement a left join marts.nko n using (contract_id, period)
        using sample 80 rows (reservoir, 3)""")
    for cid, iku, period, t, real, ici, colour, nko in marts:
        rec = by_key[(cid, iku, period)]
        assert close(rec["target"], t) and close(rec["realisation"], real) and close(rec["ici"], ici)
        assert rec["colour"] == colour and close(rec["kk_nko"], nko)


def test_xlsx_splits_at_row_limit_and_escapes_text(synthetic_wh, tmp_path, monkeypatch):
    import shutil

    from openpyxl import load_workbook

    from kinerja.publish import recap

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(synthetic_wh, wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("update staging.stg_units set unit_name = 'Seksi <A> & \"B\" \x01' "
                    "where unit_id = 'U4-1111'")
    monkeypatch.setattr(recap, "XLSX_MAX_DATA_ROWS", 20)
    publish(wh, tmp_path / "pub", AS_OF, None)
    book = tmp_path / "pub" / "recap" / "2026" / "U4-1111.xlsx"
    wb = load_workbook(book)  # full parse: valid XML
    n = q(wh, "select count(*) from marts.iku_achievement where unit_id = 'U4-1111'")[0][0]
    assert n > 40
    assert [ws.title for ws in wb.worksheets] == ["Rekap IKU 2026"] + [
        f"Rekap IKU 2026 ({i})" for i in range(2, -(-n // 20) + 1)]
    assert sum(ws.max_row - 1 for ws in wb.worksheets) == n
    assert all(ws.max_row - 1 <= 20 for ws in wb.worksheets)
    names = {c.value for ws in wb.worksheets for c in ws["D"][1:]}
    assert names == {'Seksi <A> & "B" '}  # escaped in XML, control character dropped
    with open(book.with_suffix(".csv"), newline="", encoding="utf-8") as f:  # CSV quoting
        assert {r["unit_name"] for r in csv.DictReader(f)} == {'Seksi <A> & "B" \x01'}


def test_same_warehouse_publishes_identical_files(synthetic_wh, tmp_path):
    # a rebuilt night must publish the same bytes (only the generation time and manifest differ)
    publish(synthetic_wh, tmp_path / "a", AS_OF, None)
    publish(synthetic_wh, tmp_path / "b", AS_OF, None)
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    differ = sorted(k for k in a if a[k] != b.get(k))
    assert set(a) == set(b) and set(differ) <= {"MANIFEST.json", "data/tree.js"}, differ
    assert len([k for k in a if k.startswith("data/unit/")]) == 31


# ------------------------------------------------------------------ masking

def _published_texts(root: Path):
    """(name, text) of every published file; zip containers (XLSX) are opened member by member."""
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    yield f"{path}!{member}", z.read(member).decode("utf-8", "replace")
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def _all_nips(wh) -> set[str]:
    return {r[0] for r in q(wh, """
        select holder_nip from marts.iku_achievement where holder_nip is not null
        union select holder_nip from marts.responsibility where holder_nip is not null""")}


def _fake_report(tmp_path: Path, nip: str):
    docs = tmp_path / "gedocs"
    (docs / "validations").mkdir(parents=True)
    (docs / "index.html").write_text(f"<html><body>unexpected: {nip}</body></html>")
    (docs / "validations" / "v.json").write_text(f'{{"partial_unexpected_list": ["{nip}"]}}')
    return SimpleNamespace(verdict="warn", warnings=[f"sample holder_nip={nip}"], blocking_failures=[], suites=[],
                           docs_dir=docs)


def test_no_nip_in_any_published_file(warehouse, tmp_path):
    nips = _all_nips(warehouse)
    assert nips and all(len(n) == 18 for n in nips)
    out = tmp_path / "pub"
    publish(warehouse, out, AS_OF, _fake_report(tmp_path, sorted(nips)[0]))
    leaks, seen_masked = [], False
    masked = {mask_nip(n) for n in nips}
    for name, text in _published_texts(out):
        leaks += [(name, n) for n in nips if n in text]
        seen_masked |= any(m in text for m in masked)
    assert not leaks, leaks[:5]
    assert seen_masked, "masked NIPs must still be published (holder column)"
    # GE's own index is kept as ge-index.html behind the offline summary index.html
    assert sorted(nips)[0] not in (out / "data-docs" / "ge-index.html").read_text()
    assert "unexpected: " + mask_nip(sorted(nips)[0]) in (out / "data-docs" / "ge-index.html").read_text()


def test_unmasked_publication_shows_nips(synthetic_wh, tmp_path):
    # the leak check above can fail: with masking off the same scan finds the NIPs
    out = tmp_path / "pub"
    publish(synthetic_wh, out, AS_OF, None, mask_nip=False)
    texts = "".join(t for _, t in _published_texts(out))
    assert all(n in texts for n in list(_all_nips(synthetic_wh))[:20])


def test_mask_rule():
    assert mask_nip("198501012010011001") == "1985************01"
    assert mask_nip(None) is None and mask_nip("12345") == "*****"
    assert mask_text("nip 198501012010011001, id 1234567890123456789") == \
        "nip 1985************01, id 1234567890123456789"  # 19 digits is not a NIP


@pytest.fixture(scope="module")
def mask_con():
    con = duckdb.connect()
    yield con
    con.close()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30), st.from_regex(r"\A[0-9]{18}\Z")),
                min_size=1, max_size=20))
def test_sql_and_python_masks_agree(mask_con, values):
    got = mask_con.execute(f"select [{nip_sql('v')} for v in ?::varchar[]]", [values]).fetchone()[0]
    assert got == [mask_nip(v) for v in values]


# ------------------------------------------------------------------ atomic replacement

def test_failing_publish_keeps_previous_publication(synthetic_wh, tmp_path, monkeypatch):
    from kinerja.publish import units

    out = tmp_path / "pub"
    publish(synthetic_wh, out, AS_OF, None)
    before = snapshot(out)

    real = units.write_unit_files

    def half_then_fail(*args):
        real(*args)  # the new night is half written when the step dies
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(units, "write_unit_files", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        publish(synthetic_wh, out, date(2026, 11, 30), None)
    assert snapshot(out) == before
    assert not list(tmp_path.glob(".pub.*")), "the failed temp dir is removed"


def test_killed_publish_keeps_previous_and_next_run_cleans(synthetic_wh, tmp_path):
    out = tmp_path / "pub"
    publish(synthetic_wh, out, AS_OF, None)
    before = snapshot(out)
    marker = tmp_path / "halfway"
    script = textwrap.dedent(f"""
        import time
        from datetime import date
        from pathlib import Path
        from kinerja.publish import units, publish
        real = units.write_unit_files
        def slow(*args):
            real(*args)
            Path({str(marker)!r}).write_text("x")
            time.sleep(120)
        units.write_unit_files = slow
        publish({str(synthetic_wh)!r}, {str(out)!r}, date(2026, 11, 30), None)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.time() + 90
        while not marker.exists():
            assert proc.poll() is None, "publisher ended before reaching the kill point"
            assert time.time() < deadline
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stale = list(tmp_path.glob(".pub.tmp-*"))
    assert stale, "the killed run left its half-written temp dir"
    assert snapshot(out) == before
    publish(synthetic_wh, out, date(2026, 11, 30), None)
    assert not list(tmp_path.glob(".pub.*")), "next run removed the stale temp dir"
    assert '"as_of": "2026-11-30"' in (out / "MANIFEST.json").read_text()


def test_fallback_swap_and_recovery(synthetic_wh, tmp_path, monkeypatch):
    out = tmp_path / "pub"
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # a platform without renameat2
    publish(synthetic_wh, out, AS_OF, None)
    publish(synthetic_wh, out, AS_OF, None)
    before = snapshot(out)
    assert not list(tmp_path.glob(".pub.*"))
    # a crash between the two renames of the fallback: the live dir is aside as .old-*
    os.rename(out, tmp_path / ".pub.old-1-dead")
    atomic.clean_stale(out)
    assert snapshot(out) == before


def test_exchange_swaps_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a"), (b / "x").write_text("b")
    if not atomic._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) unsupported here; fallback covered above")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# ------------------------------------------------------------------ kinerja recap

def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "kinerja", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_recap_cli_unit_and_period(synthetic_wh):
    res = _run_cli("recap", "--warehouse", str(synthetic_wh), "--unit", "U3-111", "--period", "s1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("IKU recap S1 — unit U3-111 Subdirektorat 1.1.1 (Eselon III)")
    rows = [ln for ln in lines[4:] if ln.strip()]
    expected = q(synthetic_wh, """
        select a.iku_code, a.ici, n.nko, a.holder_nip from marts.iku_achievement a
        join marts.nko n using (contract_id, period)
        where a.unit_id = 'U3-111' and a.period = 'S1' order by a.contract_id, a.iku_code""")
    assert len(rows) == len(expected)
    header = lines[2]
    ici_end = header.index(" ICI ") + 4  # numbers are right-aligned under their heading
    for row, (iku, ici, nko, nip) in zip(rows, expected):
        assert iku in row and mask_nip(nip) in row and nip not in row
        assert row[:ici_end].split()[-1] == (f"{ici:,.2f}" if ici is not None else "-")
        assert f"{nko:,.2f}" in row


def test_recap_cli_default_period_is_latest_with_data(synthetic_wh):
    res = _run_cli("recap", "--warehouse", str(synthetic_wh))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("IKU recap Y — all units")
    n = q(synthetic_wh, "select count(*) from marts.iku_achievement where period = 'Y'")[0][0]
    assert f"{n} IKU rows" in res.stdout


def test_recap_cli_errors(synthetic_wh, tmp_path):
    res = _run_cli("recap", "--warehouse", str(synthetic_wh), "--period", "Q5")
    assert res.returncode == 1 and "unknown period 'Q5'" in res.stderr
    res = _run_cli("recap", "--warehouse", str(synthetic_wh), "--unit", "NOPE")
    assert res.returncode == 1 and "unknown unit 'NOPE'" in res.stderr
    res = _run_cli("recap", "--warehouse", str(tmp_path / "none.duckdb"))
    assert res.returncode == 1 and "does not exist" in res.stderr


def test_recap_cli_while_a_batch_writes(synthetic_wh, tmp_path):
    import shutil

    wh = tmp_path / "busy.duckdb"
    shutil.copyfile(synthetic_wh, wh)
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, pathlib, time
        con = duckdb.connect({str(wh)!r})
        pathlib.Path({str(ready)!r}).write_text("x")
        time.sleep(60)
    """)])
    try:
        deadline = time.time() + 30
        while not ready.exists():
            assert time.time() < deadline and holder.poll() is None
            time.sleep(0.1)
        res = _run_cli("recap", "--warehouse", str(wh))
        assert res.returncode == 1
        assert "is being written by a batch" in res.stderr and "Traceback" not in res.stderr
    finally:
        holder.kill()
        holder.wait()


# ------------------------------------------------------------------ incremental publication

def _night(wh: Path, build_id: int, mode: str = "incremental", status: str = "done",
           dirty=(), sql=()) -> None:
    """What a build leaves in the warehouse: its mart changes, build.runs and dirty KKs."""
    with duckdb.connect(str(wh)) as con:
        con.execute("""
            create schema if not exists build;
            create table if not exists build.runs(build_id integer, as_of date, mode varchar,
                reason varchar, started_at timestamp, finished_at timestamp, status varchar);
            create table if not exists build.dirty_contracts(build_id integer, contract_id varchar,
                year integer)""")
        for stmt in sql:
            con.execute(stmt)
        keep_kk_rows(con)
        con.execute("insert into build.runs values (?, date '2026-12-31', ?, 'test', now(), now(), ?)",
                    [build_id, mode, status])
        for c in dirty:
            con.execute("insert into build.dirty_contracts values (?, ?, 2026)", [build_id, c])


def _manifest(out: Path) -> dict:
    import json

    return json.loads((out / "MANIFEST.json").read_text())


def comparable(root: Path) -> dict[str, str]:
    """snapshot() without the one thing that differs between two publications of one warehouse:
    tree.js's generation time."""
    import re

    snap = snapshot(root)
    snap["data/tree.js"] = re.sub(r'"generated_at":"[^"]*"', "",
                                  (root / "data" / "tree.js").read_text())
    return snap


def _inodes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_ino for p in root.rglob("*") if p.is_file()}


CHANGES = [  # a realisation corrected, a KK moved to a unit the feed does not know, a unit emptied
    "update marts.iku_achievement set realisation = realisation + 1, ici = 99.5 "
    "where contract_id = 'KK-U4-1111-S1' and period = 'Q2'",
    "update marts.nko set nko = 42.25, grade = 'buruk' where contract_id = 'KK-U4-1111-S1' and period = 'Q2'",
    *[f"update marts.{t} set unit_id = 'U4-NEW' where contract_id = 'KK-U4-1112-S2'"
      for t in ("iku_achievement", "nko", "contract_lines")],
    "update marts.cascading_edges set child_unit_id = 'U4-NEW' where child_contract_id = 'KK-U4-1112-S2'",
    *[f"delete from marts.{t} where contract_id like 'KK-U4-2222-%'"
      for t in ("iku_achievement", "nko", "contract_lines", "audit_findings")],
    "delete from marts.cascading_edges where child_contract_id like 'KK-U4-2222-%' "
    "or parent_contract_id like 'KK-U4-2222-%'",
]
DIRTY = ["KK-U4-1111-S1", "KK-U4-1112-S2", "KK-U4-1112-H", "KK-U4-2222-H", "KK-U4-2222-S1",
         "KK-U4-2222-S2", "KK-U3-222-H"]


def test_incremental_publication_equals_full(synthetic_wh, tmp_path):
    import shutil

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(synthetic_wh, wh)
    out, full = tmp_path / "pub", tmp_path / "full"
    publish(wh, out, AS_OF, None)
    assert LAST["mode"] == "full" and _manifest(out)["build_id"] is None
    _night(wh, 1, mode="full")
    publish(wh, out, AS_OF, None)  # the first night with build.runs: full, records build 1
    assert (LAST["mode"], _manifest(out)["build_id"]) == ("full", 1)
    before = _inodes(out)
    _night(wh, 2, dirty=DIRTY, sql=CHANGES)
    _night(wh, 3, dirty=[])  # a night without changes: nothing more to rewrite
    publish(wh, out, AS_OF, None)
    assert (LAST["mode"], LAST["units"], _manifest(out)["build_id"]) == ("incremental", 5, 3), LAST
    publish(wh, full, AS_OF, None, incremental_ok=False)
    assert LAST["mode"] == "full"
    a, b = comparable(out), comparable(full)
    assert a == b, sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    # untouched units are the previous night's files (hard links), changed ones are new files
    after = _inodes(out)
    assert after["recap/2026/U4-2112.csv"] == before["recap/2026/U4-2112.csv"]
    assert after["data/unit/U4-2112.js"] == before["data/unit/U4-2112.js"]
    for rel in ("recap/2026/U4-1111.csv", "recap/2026/U4-1111.xlsx", "data/unit/U4-1111.js",
                "recap/2026/U4-1112.csv", "data/unit/U3-222.js"):
        assert after[rel] != before[rel], rel
    assert "recap/2026/U4-NEW.csv" in after and "data/unit/U4-NEW.js" in after
    assert not any("U4-2222" in k for k in after)  # the emptied unit's files are gone
    with open(out / "recap" / "2026" / "U4-1111.csv", newline="", encoding="utf-8") as f:
        assert {r["kk_nko"] for r in csv.DictReader(f) if r["contract_id"] == "KK-U4-1111-S1"
                and r["period"] == "Q2"} == {"42.25"}


@pytest.mark.parametrize("change", ["full_build", "masking", "tree", "previous_build_unknown"])
def test_incremental_only_when_allowed(synthetic_wh, tmp_path, change):
    import json
    import shutil

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(synthetic_wh, wh)
    out = tmp_path / "pub"
    _night(wh, 1, mode="full")
    publish(wh, out, AS_OF, None)
    mask = True
    if change == "full_build":
        _night(wh, 2, dirty=DIRTY[:1], sql=CHANGES[:2])
        _night(wh, 3, mode="full", status="failed")  # even a failed full build may touch anything
    elif change == "masking":
        _night(wh, 2, dirty=DIRTY[:1], sql=CHANGES[:2])
        mask = False
    elif change == "tree":
        _night(wh, 2, sql=["update staging.stg_units set unit_name = 'Seksi baru' "
                           "where unit_id = 'U4-2112'"])
    else:
        manifest = _manifest(out)
        manifest["build_id"] = 7
        (out / "MANIFEST.json").write_text(json.dumps(manifest))
    publish(wh, out, AS_OF, None, mask_nip=mask)
    assert LAST["mode"] == "full", LAST["reason"]
    publish(wh, tmp_path / "ref", AS_OF, None, mask_nip=mask, incremental_ok=False)
    assert comparable(out) == comparable(tmp_path / "ref")


def test_failing_incremental_publish_keeps_previous_publication(synthetic_wh, tmp_path,
                                                                monkeypatch):
    import shutil

    from kinerja.publish import units

    wh = tmp_path / "w.duckdb"
    shutil.copyfile(synthetic_wh, wh)
    out = tmp_path / "pub"
    _night(wh, 1, mode="full")
    publish(wh, out, AS_OF, None)
    before = snapshot(out)
    _night(wh, 2, dirty=DIRTY, sql=CHANGES)
    real = units.write_unit_files

    def half_then_fail(*args):
        real(*args)  # the changed units are rewritten in the temp dir, then the step dies
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(units, "write_unit_files", half_then_fail)
    with pytest.raises(OSError, match="simulated"):
        publish(wh, out, AS_OF, None)
    assert snapshot(out) == before  # no hard-linked file was written in place
    assert not list(tmp_path.glob(".pub.*"))
    monkeypatch.undo()
    publish(wh, out, AS_OF, None)
    assert LAST["mode"] == "incremental"


def test_unit_rows_span_record_batches():
    import pyarrow as pa

    from kinerja.publish.units import _Strings

    rows = _Strings(pa.chunked_array([["a", "bc"], ["d"], [], ["éf", "g"]]))
    assert b"".join(rows.span(1, 4)) == "bcdéf".encode()
    assert b"".join(rows.span(0, 5)) == "abcdéfg".encode() and rows.span(2, 2) == []


# ------------------------------------------------------------------ per-KK fragments

@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=8))
def test_crc_of_concatenation_and_deflate_segments(parts):
    import zlib

    from kinerja.publish import fragments

    whole = b"".join(parts)
    segments = [fragments.deflate([p[: len(p) // 2], p[len(p) // 2:]]) for p in parts]
    assert fragments.combined(segments) == (zlib.crc32(whole), len(whole))
    crc = 0
    for p in parts:  # the Python form agrees too, whichever crc32_combine is in use
        crc = fragments.crc32_combine_py(crc, zlib.crc32(p), len(p))
    assert crc == zlib.crc32(whole)
    # independently compressed, sync-flushed segments concatenate into one deflate stream
    stream = b"".join(s.data for s in segments) + fragments.FINAL_BLOCK
    d = zlib.decompressobj(-15)
    assert d.decompress(stream) == whole and d.eof and not d.unused_data


def test_fragment_index_points_at_each_kks_pieces(synthetic_wh, tmp_path):
    """recap/fragments.parquet: every KK's CSV slice holds exactly its rows, its XLSX segment
    inflates to its `<row>`s, its JSON slice is its object and its findings slice its findings."""
    import json
    import zlib

    import pyarrow.parquet as pq

    out = tmp_path / "pub"
    publish(synthetic_wh, out, AS_OF, None)
    index = pq.read_table(out / "recap" / "fragments.parquet").to_pylist()
    expected = q(synthetic_wh, "select distinct year, unit_id, contract_id from marts.iku_achievement "
                               "union select distinct year, unit_id, contract_id from marts.nko")
    assert sorted((r["year"], r["unit_id"], r["contract_id"]) for r in index) == sorted(expected)
    rows_of = dict(((y, c), n) for y, c, n in q(
        synthetic_wh, "select year, contract_id, count(*) from marts.iku_achievement group by all"))
    findings_of = dict(q(synthetic_wh, "select contract_id, count(*) from marts.audit_findings "
                                       "group by all"))
    files: dict = {}

    def read(path):
        return files.setdefault(path, path.read_bytes())

    seen_js = 0
    for r in index:
        year, unit, cid = r["year"], r["unit_id"], r["contract_id"]
        n = rows_of.get((year, cid), 0)
        if n:
            text = read(out / "recap" / str(year) / f"{unit}.csv")[
                r["csv_off"]:r["csv_off"] + r["csv_len"]].decode()
            lines = list(csv.reader(text.splitlines()))
            assert len(lines) == n and {row[5] for row in lines} == {cid}
            seg = read(out / "recap" / str(year) / f"{unit}.xlsx")[
                r["xml_off"]:r["xml_off"] + r["xml_len"]]
            xml = zlib.decompressobj(-15).decompress(seg)
            assert zlib.crc32(xml) == r["xml_crc"] and len(xml) == r["xml_raw"]
            assert xml.count(b"<row>") == n and xml.count(f">{cid}<".encode()) == n
        if r["js_off"] is not None:
            seen_js += 1
            js = read(out / "data" / "unit" / f"{unit}.js")
            kk = json.loads(js[r["js_off"]:r["js_off"] + r["js_len"]])
            assert kk["id"] == cid
            found = js[r["jsf_off"]:r["jsf_off"] + r["jsf_len"]]
            found = json.loads(b"[" + found + b"]") if found else []
            assert len(found) == findings_of.get(cid, 0) and {f["kk"] for f in found} <= {cid}
    assert seen_js == q(synthetic_wh, "select count(distinct contract_id) from marts.nko "
                                      "where year = (select max(year) from marts.nko)")[0][0]
