"""Property: which landing paths are read, refused, ignored or reported, and in which order.

Each example builds a random landing tree: nested folders with odd names (spaces, unicode,
dots, dashes), Parquet files, other files, symbolic links to files and folders (inside and
outside the landing zone) and folders that are not feeds. Every Parquet file holds the same
report id with its own value, so the stored value shows which file was read first.

- every regular `.parquet` file inside a feed folder gets one `ingested` ledger row;
- every symlink inside a feed folder gets one `rejected` row (`symlink_refused`), and its target
  is never read (its value is never stored, even when the target is a valid file inside the zone);
- non-Parquet files in feed folders are counted as ignored, every file under a non-feed folder
  as unknown_feed; neither is in the ledger;
- the accepted row comes from the first file in relative-path order; all later ones conflict.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.ingest import ingest_landing
from tests.ingestion_helpers import assert_conservation
from tests.landing_factory import report, to_table, unit, write_feed, write_table

name_part = st.text(alphabet="ab Zé_-.🙂0", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and not s.startswith("."))
folder = st.lists(name_part, max_size=2)
entry = st.tuples(
    st.sampled_from(["realisations", "realisations", "units", "not_a_feed"]),
    folder, name_part,
    st.sampled_from(["parquet", "parquet", "parquet", "txt", "link_file", "link_outside",
                     "link_folder"]))


def _relative(top: str, parts: list[str], stem: str, suffix: str) -> str:
    return "/".join([top, *parts, stem + suffix])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry, min_size=1, max_size=8))
def test_landing_tree_is_read_refused_ignored_and_ordered(entries):
    with tempfile.TemporaryDirectory() as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "wh.duckdb"
        outside = Path(tmp) / "outside.parquet"
        write_feed(Path(tmp) / "elsewhere", "realisations", [report("RP-1", value=-1.0)])
        os.replace(Path(tmp) / "elsewhere" / "realisations" / "realisations.parquet", outside)
        landing.mkdir()

        parquet, links, ignored, unknown = {}, set(), set(), set()
        for top, parts, stem, kind in entries:
            suffix = ".txt" if kind == "txt" else ".parquet" if kind != "link_folder" else ""
            rel = _relative(top, parts, stem, suffix)
            path = landing / rel
            if any(rel == p or rel.startswith(p + "/") or p.startswith(rel + "/")
                   for p in [*parquet, *links, *ignored, *unknown]):
                continue  # keep paths distinct and never nested under another entry
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "parquet" and top == "not_a_feed":
                write_table(landing, top, to_table("realisations", [report("RP-9")]),
                            name=rel.split("/", 1)[1])
                unknown.add(rel)
            elif kind == "parquet":
                value = float(len(parquet) + 1)
                row = (report("RP-1", value=value) if top == "realisations"
                       else unit("U-1", name=f"v{value}"))
                write_feed(landing, top, [row], name=rel.split("/", 1)[1])
                parquet[rel] = (top, value)
            elif kind == "txt":
                path.write_text("not a landing file")
                (unknown if top == "not_a_feed" else ignored).add(rel)
            elif top == "not_a_feed":
                continue  # links outside the feed folders are not part of the contract
            else:
                target = {"link_file": next(iter(sorted(parquet)), None),
                          "link_outside": None, "link_folder": None}[kind]
                if kind == "link_folder":
                    os.symlink(landing / top if (landing / top).exists() else tmp, path)
                else:
                    os.symlink(landing / target if target else outside, path)
                links.add(rel)

        counts = ingest_landing(landing, warehouse, progress=lambda _m: None)

        assert_conservation(warehouse)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            ledger = {f: s for f, s in con.execute(
                "select file, status from ingest.ledger").fetchall()}
            refusals = {f: r for f, r in con.execute(
                "select file, reason from ingest.quarantine where row_index is null").fetchall()}
            stored = {
                "realisations": con.execute("select value, source_file from raw.realisations")
                .fetchall(),
                "units": con.execute("select name, source_file from raw.units").fetchall(),
            }
        assert ledger == {**{f: "ingested" for f in parquet}, **{f: "rejected" for f in links}}
        assert set(refusals) == links
        assert all(r.startswith("symlink_refused: ") for r in refusals.values()), refusals
        assert counts["files_ignored"] == len(ignored)
        assert counts["files_unknown_feed"] == len(unknown)
        for feed in ("realisations", "units"):
            files = sorted(f for f, (fd, _v) in parquet.items() if fd == feed)
            if not files:
                assert stored[feed] == []
                continue
            first = files[0]
            value = parquet[first][1]
            want = (value, first) if feed == "realisations" else (f"v{value}", first)
            assert stored[feed] == [want]  # the first file by relative path, never a link target
