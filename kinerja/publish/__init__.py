"""Publication of one night: dashboard, IKU recap (CSV, XLSX), data-quality docs — atomically.

    publish(warehouse, publish_dir, as_of, check_report, mask_nip=True) -> list[Path]

Layout of publish_dir (docs/PUBLICATION.md):
    index.html, assets/, data/tree.js, data/unit/<unit>.js   the offline dashboard
    recap/iku_recap.csv, recap/iku_recap.xlsx                 the nightly IKU recap
    data-docs/index.html ...                                  Great Expectations data docs
    MANIFEST.json                                             as-of, verdict, counts (written last)
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from kinerja.publish import atomic, dashboard, datadocs, recap
from kinerja.publish.source import connect


def publish(warehouse, publish_dir, as_of: date | None, check_report=None,
            mask_nip: bool = True) -> list[Path]:
    """Write the whole publication into a temp sibling and swap it in; returns the main files.

    Any exception (or a kill) before the swap leaves the previous publication as it was.
    """
    live = Path(publish_dir)
    with atomic.staging_dir(live) as tmp:
        with connect(warehouse) as con:
            recap.write_recap(con, tmp / "recap", as_of, mask_nip)
            docs = datadocs.copy_data_docs(check_report, tmp / "data-docs", mask_nip)
            dashboard.write_dashboard(con, tmp, as_of, check_report, mask_nip,
                                      data_docs="data-docs/index.html")
        atomic.write_manifest(tmp, {
            "as_of": as_of.isoformat() if as_of else None,
            "verdict": getattr(check_report, "verdict", None) or "unknown",
            "nip_masked": mask_nip,
            "data_docs": "copied" if docs else "placeholder",
        })
        atomic.swap_in(tmp, live)
    return [live / "index.html", live / "recap" / "iku_recap.csv", live / "recap" / "iku_recap.xlsx",
            live / "data-docs" / "index.html"]
