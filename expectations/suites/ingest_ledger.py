"""Suite `ingest_ledger` (blocking): the ingestion's bookkeeping adds up.

The ledger is how an operator proves that no landing row was lost: if its counts do not add up,
nothing derived from the night can be trusted.
"""
from __future__ import annotations

from ingestion.schema import FEEDS

from ..domain import LEDGER_STATUSES
from ..rules import Suite, outside_set, rows_where

T = "ingest.ledger"
SHOW = ("feed", "file", "status", "rows_read", "rows_accepted", "rows_duplicate", "rows_quarantined")

SUITE = Suite(
    name="ingest_ledger",
    blocking=True,
    purpose="every landing file's rows are accounted for in ingest.ledger",
    rules=(
        rows_where(T, "conservation_breaks",
                   "rows_read is distinct from rows_accepted + rows_duplicate + rows_quarantined",
                   "ledger files where rows_read != rows_accepted + rows_duplicate + rows_quarantined",
                   "EVENTS.md: for every file, rows read = accepted + duplicates + quarantined; a "
                   "gap means rows were silently dropped or counted twice", SHOW),
        outside_set(T, "status", LEDGER_STATUSES,
                    "WAREHOUSE.md: a file is either ingested or rejected; anything else means the "
                    "ingestion stopped half-way"),
        outside_set(T, "feed", FEEDS, "a ledger row must name one of the three landing feeds"),
        rows_where(T, "null_keys", "(file is null or sha256 is null or ingested_at is null)",
                   "ledger rows without file, sha256 or ingested_at",
                   "the file path and hash are how a re-delivered file is recognised", SHOW),
        rows_where(T, "negative_counts",
                   "least(rows_read, rows_accepted, rows_duplicate, rows_quarantined) < 0",
                   "ledger rows with a negative row count", "a count cannot be negative", SHOW),
        rows_where(T, "rejected_with_accepted_rows", "status = 'rejected' and rows_accepted > 0",
                   "rejected files that still accepted rows",
                   "EVENTS.md: a file rejected whole has rows_quarantined = rows_read; nothing of it "
                   "may reach the raw store", SHOW),
    ),
)
