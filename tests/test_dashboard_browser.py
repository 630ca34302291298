"""The dashboard in a real headless Chromium, opened from disk (file://), no server.

Expands the cascading tree down to an Eselon III unit, opens its head's KK and checks that the NKO
and every ICI shown equal the warehouse's values, for the default period and after switching
period; saves test-artifacts/dashboard.png.
"""
from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kinerja.publish import publish
from kinerja.publish.source import PERIODS, latest_period
from tests.test_publish import real_wh  # noqa: F401  (fixture: the tiny warehouse when buildable)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
AS_OF = date(2026, 12, 31)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser_context():
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("/usr/bin/chromium is missing on CI; `make browser` installs it")
        pytest.skip("/usr/bin/chromium is not installed (run `make browser`); browser test skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=ARGS, headless=True,
            viewport={"width": 1440, "height": 900})
        try:
            yield ctx
        finally:
            ctx.close()


def id_number(v: float) -> str:
    """The dashboard's Indonesian number format: 1.234,56."""
    text = f"{abs(v):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return ("−" if v < 0 else "") + text


def parse_id(text: str) -> float:
    return float(text.replace("−", "-").replace(".", "").replace(",", "."))


def q(wh, sql, params=None):
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def check_dashboard(ctx, wh: Path, out: Path, screenshot: Path | None):
    publish(wh, out, AS_OF, None)
    # an Eselon III unit whose head KK is scored in the default (latest) period, with its path
    with duckdb.connect(str(wh), read_only=True) as con:
        period = latest_period(con)  # the period the dashboard opens with
    unit, head = q(wh, """
        select n.unit_id, n.contract_id from marts.nko n join staging.stg_units u using (unit_id)
        where u.unit_level = 3 and n.is_unit_head and n.period = ? and n.nko is not null
        order by n.unit_id limit 1""", [period])[0]
    path = [unit]
    while True:
        parent = q(wh, "select parent_unit_id from staging.stg_units where unit_id = ?", [path[0]])
        if not parent or parent[0][0] is None:
            break
        path.insert(0, parent[0][0])

    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((out / "index.html").as_uri())
    page.wait_for_selector(f'.node[data-unit="{path[0]}"]')
    assert page.locator("#asof").inner_text() == AS_OF.isoformat()
    assert page.locator("#dq").get_attribute("href") == "data-docs/index.html"
    # expand the tree level by level with the toggles (the root is open at start)
    for uid in path[1:-1]:
        node = page.locator(f'.node[data-unit="{uid}"]')
        if node.locator(".tog").inner_text() == "▸":
            node.locator(".tog").click()
    page.locator(f'.node[data-unit="{unit}"] .nm').click()
    assert page.locator('.node[data-unit="%s"]' % unit).get_attribute("data-level") == "3"

    for chosen in (period, "S1"):
        if chosen != period:
            page.click(f'#periods button[data-period="{chosen}"]')
        page.wait_for_selector(f'tr[data-kk="{head}"]')
        (nko,) = q(wh, "select nko from marts.nko where contract_id = ? and period = ?",
                   [head, chosen])[0]
        shown = page.locator("[data-testid=unit-nko]")
        assert shown.inner_text() == (id_number(nko) if nko is not None else "–")
        page.click(f'tr[data-kk="{head}"]')
        kk_nko = page.locator("[data-testid=kk-nko]")
        assert kk_nko.inner_text() == (id_number(nko) if nko is not None else "–")
        if nko is not None:
            assert abs(float(kk_nko.get_attribute("data-value")) - nko) < 1e-6
        icis = q(wh, """select iku_code, ici, colour from marts.iku_achievement
                        where contract_id = ? and period = ? order by iku_code""", [head, chosen])
        assert icis
        for iku, ici, colour in icis:
            pill = page.locator(f'#kk-detail [data-testid=ici][data-iku="{iku}"]')
            assert pill.inner_text() == (id_number(ici) if ici is not None else "–"), iku
            assert f"c-{colour or 'none'}" in pill.get_attribute("class")
            if ici is not None:
                assert abs(parse_id(pill.inner_text()) - ici) <= 0.005 + 1e-9
        # a trajectory chart per IKU line
        assert page.locator("#kk-detail svg.chart").count() == len(icis)
    assert page.locator("#periods button").count() == len(PERIODS)
    # expand an IKU line: the per-period table appears
    page.locator("#kk-detail tr[data-line]").first.click()
    page.wait_for_selector("#kk-detail tr.more .periodtab")
    assert not errors, errors
    if screenshot:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()


def test_dashboard_synthetic_warehouse(browser_context, tmp_path):
    from tests.test_publish_fixture import build

    wh = build(tmp_path / "warehouse.duckdb")
    check_dashboard(browser_context, wh, tmp_path / "pub", ARTIFACTS / "dashboard.png")


def test_staff_on_demand_and_cascading_navigation(browser_context, tmp_path):
    from tests.test_publish_fixture import build

    wh = build(tmp_path / "warehouse.duckdb")
    publish(wh, tmp_path / "pub", AS_OF, None)
    page = browser_context.new_page()
    page.goto((tmp_path / "pub" / "index.html").as_uri())
    page.wait_for_selector('.node[data-unit="KEMENKEU"]')
    # search finds an Eselon IV unit without expanding the tree
    page.fill("#filter", "Seksi 1.2.1.2")
    page.click('.search-hit[data-unit="U4-1212"]')
    page.wait_for_selector('tr[data-kk="KK-U4-1212-H"]')
    staff = [r[0] for r in q(wh, "select distinct contract_id from marts.nko where unit_id = 'U4-1212' "
                                 "and not is_unit_head order by 1")]
    assert staff and page.locator("tr[data-kk]").count() == 1  # staff hidden until asked
    page.click('button[data-staff="U4-1212"]')
    assert [page.locator("tr[data-kk]").nth(i).get_attribute("data-kk")
            for i in range(1, 1 + len(staff))] == staff
    # a staff KK's IKU-1 is carried down from the head's IKU-1: follow the link upwards
    page.click(f'tr[data-kk="{staff[0]}"]')
    (parent_kk, parent_unit), = q(wh, """select parent_contract_id, parent_unit_id
        from marts.cascading_edges where child_contract_id = ? and child_iku_code = 'IKU-1'""",
                                  [staff[0]])
    page.click(f'#kk-detail tr[data-iku="IKU-1"] a[data-gokk="{parent_kk}"]')
    page.wait_for_selector(f'#kk-detail[data-kk-detail="{parent_kk}"]')
    assert page.locator(".node.sel").get_attribute("data-unit") == parent_unit
    # the parent's line lists its children (cascading downwards) after expanding it
    page.click('#kk-detail tr[data-iku="IKU-1"]')
    children = {r[0] for r in q(wh, """select child_contract_id from marts.cascading_edges
        where parent_contract_id = ? and parent_iku_code = 'IKU-1'""", [parent_kk])}
    links = page.locator("#kk-detail tr.more a[data-gokk]")
    assert {links.nth(i).get_attribute("data-gokk") for i in range(links.count())} == children
    page.close()


def test_dashboard_tiny_warehouse(browser_context, request, tmp_path):
    wh = request.getfixturevalue("real_wh")
    check_dashboard(browser_context, wh, tmp_path / "pub", ARTIFACTS / "dashboard-tiny.png")
