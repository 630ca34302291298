"""A process killed (SIGKILL) in the middle of a file leaves no trace of that file; the rerun
ingests it completely. The kill is real: a child process dies while its transaction is open."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from tests.ingestion_helpers import ingest, ledger, quarantine, raw_ids
from tests.landing_factory import report, write_feed

CHILD = textwrap.dedent("""
    import os, signal, sys
    import ingestion.store as store
    from ingestion.ingest import ingest_landing

    real = store._quarantine_rows

    def die_in_file_b(con, feed, rel, landing, ingested_at):
        real(con, feed, rel, landing, ingested_at)
        if rel.endswith("b.parquet"):  # raw and quarantine rows written, ledger row not yet
            os.kill(os.getpid(), signal.SIGKILL)

    store._quarantine_rows = die_in_file_b
    ingest_landing(sys.argv[1], sys.argv[2], progress=print)
""")


def test_kill_mid_file_leaves_no_trace_and_rerun_completes(tmp_path):
    landing, wh = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_feed(landing, "realisations", [report("RP-1"), report("RP-2")], name="a.parquet")
    write_feed(landing, "realisations", [report("RP-3"), report("RP-4", quarter="Q7")],
               name="b.parquet")
    write_feed(landing, "realisations", [report("RP-5")], name="c.parquet")

    child = subprocess.run([sys.executable, "-c", CHILD, str(landing), str(wh)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "a.parquet: accepted 2" in child.stdout and "b.parquet" not in child.stdout

    assert [e["file"] for e in ledger(wh)] == ["realisations/a.parquet"]
    assert raw_ids(wh, "realisations") == ["RP-1", "RP-2"]
    assert quarantine(wh) == []

    counts = ingest(landing, wh)
    assert (counts["files_skipped"], counts["files_new"]) == (1, 2)
    assert raw_ids(wh, "realisations") == ["RP-1", "RP-2", "RP-3", "RP-5"]
    assert [(q[0], q[1]) for q in quarantine(wh)] == [("realisations/b.parquet", 1)]
    assert [(e["file"], e["rows_accepted"], e["rows_quarantined"]) for e in ledger(wh)] == [
        ("realisations/a.parquet", 2, 0), ("realisations/b.parquet", 1, 1),
        ("realisations/c.parquet", 1, 0)]
