"""Suite `raw_store` (blocking): the append-only event store is what the ledger says it is.

Ids are the store's identity: a repeated event_id or report_id would be folded twice. And every
accepted row must be in the store and every quarantined row in the quarantine, so the ledger's
conservation law carries through to the tables.
"""
from __future__ import annotations

from ..rules import Rule, Suite, duplicate_keys, rows_where

LEDGER = "ingest.ledger"
QUARANTINE = "ingest.quarantine"


def _accounted(feed: str) -> Rule:
    raw = f"raw.{feed}"
    return Rule(
        name=f"{feed}_unaccounted",
        description=f"|rows in {raw} - sum of rows_accepted of {feed} in the ledger|",
        why="EVENTS.md: accepted rows are stored once each and never deleted; a difference means "
            "rows were lost or stored twice (e.g. a file ingested again)",
        tables=(raw, LEDGER),
        value_sql=f"select abs((select count(*) from {raw}) - (select coalesce(sum(rows_accepted), 0) "
                  f"from {LEDGER} where feed = '{feed}'))",
    )


SUITE = Suite(
    name="raw_store",
    blocking=True,
    purpose="raw ids are unique and every accepted / quarantined row is in its table",
    rules=(
        rows_where("raw.contract_events", "null_event_ids", "event_id is null",
                   "raw.contract_events rows without event_id",
                   "the event id is the producer's identity of an event", ("source_file", "source_row")),
        duplicate_keys("raw.contract_events", ("event_id",),
                       "EVENTS.md: event_id is globally unique and the first occurrence wins; a "
                       "repeated id would be folded twice", name="duplicate_event_ids"),
        rows_where("raw.realisations", "null_report_ids", "report_id is null",
                   "raw.realisations rows without report_id",
                   "the report id is the producer's identity of a report", ("source_file", "source_row")),
        Rule(name="realisations_not_distinct",
             description="rows in raw.realisations - distinct report_id",
             why="every realisation in raw must be accounted for by exactly one report id; a "
                 "repeated report would be counted twice when the latest report is chosen",
             tables=("raw.realisations",), per_row=True,
             value_sql="select count(*) - count(distinct report_id) from raw.realisations",
             sample_sql="select report_id, count(*) as copies from raw.realisations "
                        "group by report_id having count(*) > 1 limit 3"),
        duplicate_keys("raw.units", ("unit_id", "valid_from"),
                       "a unit version is keyed by (unit_id, valid_from); two versions with the "
                       "same start make the organisation tree ambiguous",
                       name="duplicate_unit_versions"),
        _accounted("contract_events"),
        _accounted("realisations"),
        _accounted("units"),
        Rule(name="quarantine_rows_unaccounted",
             description="|quarantine rows with a row_index - rows_quarantined of ingested files|",
             why="EVENTS.md: a quarantined row is kept with its reason, never silently dropped",
             tables=(QUARANTINE, LEDGER),
             value_sql=f"select abs((select count(*) from {QUARANTINE} where row_index is not null)"
                       f" - (select coalesce(sum(rows_quarantined), 0) from {LEDGER} "
                       f"where status = 'ingested'))"),
        Rule(name="rejected_files_unaccounted",
             description="|whole-file quarantine rows - rejected files in the ledger|",
             why="EVENTS.md: a file rejected whole gets exactly one quarantine row (row_index null) "
                 "with its reason",
             tables=(QUARANTINE, LEDGER),
             value_sql=f"select abs((select count(*) from {QUARANTINE} where row_index is null)"
                       f" - (select count(*) from {LEDGER} where status = 'rejected'))"),
    ),
)
