"""Publication of one night: dashboard, IKU recap (CSV, XLSX), data-quality docs — atomically.

    publish(warehouse, publish_dir, as_of, check_report, mask_nip=True) -> list[Path]

Layout of publish_dir (docs/PUBLICATION.md):
    index.html, assets/, data/tree.js, data/unit/<unit>.js   the offline dashboard (latest year)
    recap/<year>/<unit>.csv, .xlsx                            the IKU recap per unit and year
    recap/index.csv, recap/kk_index.csv                       which unit files exist, KK -> unit
    recap/fragments.parquet                                   where each KK's pieces lie in them
    data-docs/index.html ...                                  Great Expectations data docs
    MANIFEST.json                                             as-of, verdict, build, counts (last)

A night rewrites only the units whose KKs changed when the warehouse says which did
(`incremental.py`); the result is byte-identical to a full publication of the same warehouse.
"""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from kinerja.publish import atomic, dashboard, datadocs, fragments, incremental, recap, units
from kinerja.publish.source import (KK_ROWS, connect, create_units_view, require_marts,
                                    tree_fingerprint)

LAST = {}  # what the last publish() in this process did (mode, reason, units): for the batch log


class _Clock:
    def __init__(self):
        self.laps, self.t = {}, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.t = round(now - self.t, 2), now


def publish(warehouse, publish_dir, as_of: date | None, check_report=None,
            mask_nip: bool = True, incremental_ok: bool = True) -> list[Path]:
    """Write the whole publication into a temp sibling and swap it in; returns the main files.

    Any exception (or a kill) before the swap leaves the previous publication as it was.
    `incremental_ok=False` forces a full publication.
    """
    live = Path(publish_dir)
    clock = _Clock()
    with atomic.staging_dir(live) as tmp:
        with connect(warehouse) as con:
            dashboard.register_functions(con)  # before any query: DuckDB refuses it later
            require_marts(con, "iku_achievement", "nko", KK_ROWS)
            create_units_view(con, as_of)
            year = dashboard.dashboard_year(con)
            dashboard._setup(con, year)
            con.execute(f"""
                create or replace temp table pub_kk as
                select year, contract_id, unit_id, is_unit_head, achievement_rows
                from {KK_ROWS}
            """)
            state = {"format": incremental.FORMAT, "nip_masked": mask_nip,
                     "dashboard_year": year, "tree": tree_fingerprint(con)}
            previous = atomic.read_manifest(live) if incremental_ok else None
            plan = incremental.decide(con, live, previous, state)
            clock.lap("plan")
            prev = live if plan.mode == "incremental" else None
            if prev is not None:
                incremental.link_previous(live, tmp)
                batches = units.plan_work(con, live / fragments.INDEX)
                units.remove_files(con, tmp, year)
            else:
                batches = units.plan_work(con)
            clock.lap("link")
            units.write_unit_files(con, tmp, mask_nip, year, batches, prev)
            clock.lap("units")
            n_units = con.execute("select count(*) from pub_work").fetchall()[0][0]
            top = con.execute(  # the recap of the dashboard's top unit, for the batch summary
                "select k.unit_id from (select distinct unit_id from pub_kk where year = ?) k "
                "left join pub_units u using (unit_id) order by u.unit_level nulls last, k.unit_id "
                "limit 1", [year]).fetchall()
            top = top[0] if top else None
            recap.write_indexes(con, tmp / "recap")
            dashboard.write_dashboard(con, tmp, as_of, check_report, mask_nip,
                                      data_docs="data-docs/index.html", year=year)
        clock.lap("global")
        docs = datadocs.copy_data_docs(check_report, tmp / "data-docs", mask_nip)
        clock.lap("data_docs")
        atomic.write_manifest(tmp, {
            "as_of": as_of.isoformat() if as_of else None,
            "verdict": getattr(check_report, "verdict", None) or "unknown",
            "nip_masked": mask_nip,
            "data_docs": "copied" if docs else "placeholder",
            **state,
            "build_id": plan.build_id,
        })  # how the night was made (full/incremental) is not in it: the same warehouse gives
        # the same bytes whichever way; it is in LAST for the batch log
        atomic.swap_in(tmp, live)
        clock.lap("fsync_swap")
        LAST.clear()
        LAST.update(mode=plan.mode, reason=plan.reason, units=n_units, seconds=clock.laps)
    main = [live / "index.html", live / "recap" / "index.csv", live / "recap" / "kk_index.csv"]
    if top:
        main += [p for p in (live / "recap" / recap.recap_file(year, top[0], ext)
                             for ext in ("csv", "xlsx")) if p.is_file()]
    return main + [live / "data-docs" / "index.html"]
