"""Write one landing file's outcome into the warehouse: accepted rows to `raw.<feed>`, the rest to
`ingest.quarantine`, and its `ingest.ledger` row, all in one transaction (a kill mid-file leaves
no trace; the rerun ingests the file completely).

Duplicates: a row whose id (event_id, report_id, or (unit_id, valid_from) for units) is already
accepted, in the raw store or earlier in the same file, is a `duplicate` when its content hash is
the same and a `conflicting_duplicate` (quarantined) when it differs. The first accepted
occurrence wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from ingestion.reader import LandingTable
from ingestion.rules import staging_sql
from ingestion.schema import FEED_COLUMNS, FEED_RECORD_ID, RAW_BOOKKEEPING


@dataclass(frozen=True)
class FileOutcome:
    feed: str
    file: str
    sha256: str
    rows_read: int
    rows_accepted: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    status: str = "ingested"
    reason: str | None = None  # whole-file reason when rejected


def _key_label(feed: str) -> str:
    keys = FEED_RECORD_ID[feed]
    if feed == "units":
        return "'unit ' || s.unit_id || ' valid_from ' || s.valid_from"
    return f"'{keys[0]} ' || s.{keys[0]}"


def _classify_sql(feed: str) -> str:
    keys = FEED_RECORD_ID[feed]
    key_list = ", ".join(keys)
    join_f = " and ".join(f"f.{k} = s.{k}" for k in keys)
    join_e = " and ".join(f"e.{k} = s.{k}" for k in keys)
    join_r = " and ".join(f"r.{k} = f.{k}" for k in keys)
    label = _key_label(feed)
    return f"""
create or replace temp table classified as
with firsts as (
    select {key_list},
        arg_min(content_hash, row_index) as first_hash,
        min(row_index) as first_row
    from staged
    where reject_reason is null
    group by {key_list}
),

existing as (
    select {', '.join(f'r.{k}' for k in keys)},
        arg_min(r.content_hash, r.ingested_at) as stored_hash,
        arg_min(r.source_file, r.ingested_at) as stored_file,
        arg_min(r.source_row, r.ingested_at) as stored_row
    from raw.{feed} as r
    semi join firsts as f on {join_r}
    group by {', '.join(f'r.{k}' for k in keys)}
)

select
    s.row_index,
    case
        when s.reject_reason is not null then 'quarantined'
        when e.stored_hash is not null and s.content_hash = e.stored_hash then 'duplicate'
        when e.stored_hash is not null then 'conflict'
        when s.row_index = f.first_row then 'accepted'
        when s.content_hash = f.first_hash then 'duplicate'
        else 'conflict'
    end as status,
    case
        when s.reject_reason is not null then s.reject_reason
        when e.stored_hash is not null and s.content_hash <> e.stored_hash then
            'conflicting_duplicate: ' || {label}
            || ' already accepted with different content (from ' || e.stored_file
            || ' row ' || e.stored_row || ')'
        when e.stored_hash is null and s.row_index <> f.first_row
            and s.content_hash <> f.first_hash then
            'conflicting_duplicate: ' || {label}
            || ' already accepted with different content (row ' || f.first_row
            || ' of this file)'
    end as reason
from staged as s
left join firsts as f on {join_f}
left join existing as e on {join_e}
"""


def write_file(con: duckdb.DuckDBPyConnection, feed: str, rel: str, landing: LandingTable,
               ingested_at: datetime) -> FileOutcome:
    """Validate and store one readable file inside the caller's transaction."""
    con.register("src", landing.shaped)
    try:
        con.execute("create or replace temp table staged as " + staging_sql(
            feed, landing.families, landing.line_families, landing.has_extra))
    finally:
        con.unregister("src")
    con.execute(_classify_sql(feed))
    columns = [c for c, _t, _r in FEED_COLUMNS[feed]]
    bookkeeping = [c for c, _t in RAW_BOOKKEEPING]
    con.execute(
        f"insert into raw.{feed} ({', '.join(columns + bookkeeping)}) "
        f"select {', '.join('s.' + c for c in columns)}, s.extra, s.content_hash, ?, "
        "s.row_index, ? "
        "from staged as s join classified as c using (row_index) "
        "where c.status = 'accepted' order by s.row_index",
        [rel, ingested_at])
    _quarantine_rows(con, feed, rel, landing, ingested_at)
    counts = dict(con.execute(
        "select status, count(*) from classified group by status").fetchall())
    outcome = FileOutcome(
        feed, rel, landing.sha256, landing.rows_read,
        rows_accepted=counts.get("accepted", 0),
        rows_duplicate=counts.get("duplicate", 0),
        rows_quarantined=counts.get("quarantined", 0) + counts.get("conflict", 0))
    con.execute("drop table classified; drop table staged")
    return outcome


def _quarantine_rows(con, feed: str, rel: str, landing: LandingTable, ingested_at) -> None:
    rejected = con.sql(
        "select c.row_index, s.record_id, c.reason from classified as c "
        "join staged as s using (row_index) "
        "where c.status in ('quarantined', 'conflict') order by c.row_index").to_arrow_table()
    if rejected.num_rows == 0:
        return
    rows = landing.original.take(rejected.column("row_index"))
    raw = pa.StructArray.from_arrays(
        [col.combine_chunks() for col in rows.columns], names=rows.column_names) \
        if rows.num_columns else pa.nulls(rows.num_rows)
    bad = rejected.append_column("raw_row", raw)
    con.register("rejected_rows", bad)
    try:
        con.execute(
            "insert into ingest.quarantine "
            "select ?, ?, row_index, record_id, reason, cast(to_json(raw_row) as varchar), ? "
            "from rejected_rows order by row_index",
            [feed, rel, ingested_at])
    finally:
        con.unregister("rejected_rows")


def write_rejected_file(con, feed: str, rel: str, sha256: str, rows_read: int, reason: str,
                        ingested_at: datetime) -> FileOutcome:
    con.execute("insert into ingest.quarantine values (?, ?, null, null, ?, null, ?)",
                [feed, rel, reason, ingested_at])
    outcome = FileOutcome(feed, rel, sha256, rows_read, rows_quarantined=rows_read,
                          status="rejected", reason=reason)
    write_ledger(con, outcome, ingested_at)
    return outcome


def write_ledger(con, outcome: FileOutcome, ingested_at: datetime) -> None:
    con.execute(
        "insert into ingest.ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [outcome.feed, outcome.file, outcome.sha256, outcome.rows_read, outcome.rows_accepted,
         outcome.rows_duplicate, outcome.rows_quarantined, outcome.status, ingested_at])
