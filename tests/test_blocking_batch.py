"""A blocking data check stops the whole batch: `kinerja run` exits non-zero with the reason,
nothing is published and the last good publication stays byte for byte. The night's data docs
open in a real headless Chromium and name every suite with its result."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from expectations.suites import ALL_SUITES
from tests.test_dashboard_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.slow


def kinerja_run(landing: Path, warehouse: Path, publish: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("kinerja")), "run", "--landing", str(landing),
         "--warehouse", str(warehouse), "--as-of", "2026-12-31", "--publish", str(publish)],
        capture_output=True, text=True, timeout=1800)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def published(tiny_landing, tmp_path_factory):
    root = tmp_path_factory.mktemp("blocking")
    warehouse, publish = root / "warehouse.duckdb", root / "publish"
    first = kinerja_run(tiny_landing, warehouse, publish)
    assert first.returncode == 0, first.stderr[-2000:]
    return tiny_landing, warehouse, publish


def test_blocking_failure_publishes_nothing_and_keeps_the_last_publication(published):
    landing, warehouse, publish = published
    before = snapshot(publish)
    assert "index.html" in before and "data-docs/index.html" in before
    # a conservation break in the ledger: ingestion never rewrites old ledger rows, so the rebuild
    # of the marts cannot mend it and the checkpoint must block
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update ingest.ledger set rows_read = rows_read + 1 "
                    "where file = (select min(file) from ingest.ledger where status = 'ingested')")
    second = kinerja_run(landing, warehouse, publish)
    assert second.returncode != 0
    last_line = second.stderr.strip().splitlines()[-1]
    assert last_line.startswith("kinerja run: blocking data check failed"), second.stderr[-2000:]
    assert "conservation" in last_line or "rows_read" in last_line, last_line
    assert snapshot(publish) == before


def test_data_docs_open_in_a_browser_and_name_every_suite(published):
    _landing, _warehouse, publish = published
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is missing on CI; `make browser` installs it")
        pytest.skip("/usr/bin/chromium is not installed (run `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM),
                                                    args=ARGS, headless=True)
        try:
            page = ctx.new_page()
            page.goto((publish / "data-docs" / "index.html").as_uri())
            page.wait_for_load_state("load")
            text = page.inner_text("body")
        finally:
            ctx.close()
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in text.splitlines() if "\t" in line}
    for suite in ALL_SUITES:
        assert suite.name in rows, f"suite {suite.name} not named in the data docs: {text}"
        severity, result = rows[suite.name]
        assert severity == ("blocking" if suite.blocking else "warning")
        assert result in ("Success", "Failed")
    # every blocking suite passed on this night (it was published)
    assert all(rows[s.name][1] == "Success" for s in ALL_SUITES if s.blocking)
