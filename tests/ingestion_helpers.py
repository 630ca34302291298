"""Shared helpers of the ingestion tests: run an ingest, read back the ledger, quarantine and raw
store, and check the ledger's conservation rule against what was actually stored."""
from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.ingest import ingest_landing
from ingestion.schema import FEEDS

LEDGER_COLUMNS = ("feed", "file", "sha256", "rows_read", "rows_accepted", "rows_duplicate",
                  "rows_quarantined", "status")


def ingest(landing: Path, warehouse: Path, messages: list[str] | None = None) -> dict:
    say = messages.append if messages is not None else None
    counts = ingest_landing(landing, warehouse, progress=say)
    assert_conservation(warehouse)
    return counts


def rows(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def ledger(warehouse: Path) -> list[dict]:
    got = rows(warehouse, f"select {', '.join(LEDGER_COLUMNS)} from ingest.ledger "
                          "order by ingested_at, file")
    return [dict(zip(LEDGER_COLUMNS, r)) for r in got]


def quarantine(warehouse: Path) -> list[tuple]:
    """(file, row_index, record_id, reason) in file and row order."""
    return rows(warehouse, "select file, row_index, record_id, reason from ingest.quarantine "
                           "order by file, row_index nulls first")


def reasons(warehouse: Path) -> list[str]:
    return [r[3] for r in quarantine(warehouse)]


def raw_ids(warehouse: Path, feed: str) -> list:
    key = {"contract_events": "event_id", "realisations": "report_id",
           "units": "unit_id || '@' || valid_from"}[feed]
    return [r[0] for r in rows(warehouse, f"select {key} from raw.{feed} "
                                          "order by source_file, source_row")]


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every ingest-owned table in full, in a deterministic order."""
    tables = ["ingest.ledger", "ingest.quarantine"] + [f"raw.{f}" for f in FEEDS]
    out = {}
    for table in tables:
        out[table] = rows(warehouse, f"select * from {table} order by all")
    return out


def assert_conservation(warehouse: Path) -> None:
    """Every ledger row: read = accepted + duplicate + quarantined, and the stores agree."""
    for entry in ledger(warehouse):
        assert entry["rows_read"] == (entry["rows_accepted"] + entry["rows_duplicate"]
                                      + entry["rows_quarantined"]), entry
    stored = rows(warehouse, """
        with raw_counts as (
            select source_file as file, count(*) as n from raw.contract_events group by all
            union all select source_file, count(*) from raw.realisations group by all
            union all select source_file, count(*) from raw.units group by all
        ),
        quarantine_counts as (
            select file, count(*) as n, count(row_index) as row_rows
            from ingest.quarantine group by all
        ),
        per_file as (
            select file, status, sum(rows_accepted) as accepted, sum(rows_quarantined) as quarantined
            from ingest.ledger group by all
        )
        select p.file, p.status, p.accepted, coalesce(r.n, 0), p.quarantined,
            coalesce(q.n, 0), coalesce(q.row_rows, 0)
        from per_file as p
        left join raw_counts as r using (file)
        left join quarantine_counts as q using (file)
    """)
    for file, status, accepted, raw_n, quarantined, q_rows, q_row_rows in stored:
        assert accepted == raw_n, (file, accepted, raw_n)
        if status == "rejected":
            assert q_rows == 1 and q_row_rows == 0, (file, q_rows)
        else:
            assert quarantined == q_rows == q_row_rows, (file, quarantined, q_rows)
