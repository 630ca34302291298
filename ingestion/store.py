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
from ingestion.rules import content_hash_sql, staging_sql
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
        return "'unit ' || r.unit_id || ' valid_from ' || r.valid_from"
    return f"'{keys[0]} ' || r.{keys[0]}"


def _on(a: str, b: str, keys) -> str:
    return " and ".join(f"{a}.{k} = {b}.{k}" for k in keys)


def _suspects_sql(feed: str) -> str:
    """The ids of this file's valid rows that are not new: repeated within the file or already
    stored. Only the key columns of the raw table are read, so a file of new ids costs one
    aggregate and one join over the keys, and nothing else of the stored rows is decoded."""
    keys = FEED_RECORD_ID[feed]
    key_list = ", ".join(keys)
    return f"""
create or replace temp table suspect_keys as
with valid as (
    select {key_list} from staged where reject_reason is null
)

select {key_list} from valid group by {key_list} having count(*) > 1
union
select {key_list} from valid as v
semi join raw.{feed} as r on {_on('v', 'r', keys)}
"""


DUP_ROWS_EMPTY = ("create or replace temp table dup_rows "
                  "(row_index bigint, status varchar, reason varchar)")


def _duplicates_sql(feed: str) -> str:
    """The valid rows whose id is a suspect (`_suspects_sql`), each with its status and reason.

    Only those few rows are ranked, and only the stored rows with a suspect id are hashed again.
    """
    keys = FEED_RECORD_ID[feed]
    key_list = ", ".join(keys)
    label = _key_label(feed)
    partition = ", ".join(f"v.{k}" for k in keys)
    return f"""
create or replace temp table dup_rows as
with stored_rows as (
    select r.*
    from raw.{feed} as r
    semi join suspect_keys as k on {_on('r', 'k', keys)}
),

stored as (
    -- the stored side is hashed again here, not read from raw.content_hash: both sides of the
    -- comparison then come from the same DuckDB version
    select {key_list},
        arg_min({content_hash_sql(feed)}, ingested_at) as stored_hash,
        arg_min(source_file, ingested_at) as stored_file,
        arg_min(source_row, ingested_at) as stored_row
    from stored_rows
    group by {key_list}
),

ranked as (
    select v.row_index, {', '.join('v.' + k for k in keys)}, v.content_hash,
        row_number() over by_id as seq,
        first_value(v.content_hash) over by_id as first_hash,
        min(v.row_index) over (partition by {partition}) as first_row
    from staged as v
    semi join suspect_keys as k on {_on('v', 'k', keys)}
    where v.reject_reason is null
    window by_id as (partition by {partition} order by v.row_index)
)

select
    r.row_index,
    case
        when s.stored_hash is not null and r.content_hash = s.stored_hash then 'duplicate'
        when s.stored_hash is not null then 'conflict'
        when r.seq = 1 then 'accepted'
        when r.content_hash = r.first_hash then 'duplicate'
        else 'conflict'
    end as status,
    case
        when s.stored_hash is not null and r.content_hash <> s.stored_hash then
            'conflicting_duplicate: ' || {label}
            || ' already accepted with different content (from ' || s.stored_file
            || ' row ' || s.stored_row || ')'
        when s.stored_hash is null and r.seq > 1 and r.content_hash <> r.first_hash then
            'conflicting_duplicate: ' || {label}
            || ' already accepted with different content (row ' || r.first_row
            || ' of this file)'
    end as reason
from ranked as r
left join stored as s on {_on('s', 'r', keys)}
"""


def _unregister(con, name: str) -> None:
    # in a transaction DuckDB has aborted this raises; the caller's rollback then removes the view
    try:
        con.unregister(name)
    except duckdb.Error:
        pass


STAGE_BATCH_ROWS = 4096  # a contract_events file of 8,000 events still spans both cores


def stage(con: duckdb.DuckDBPyConnection, feed: str, landing: LandingTable) -> pa.Table:
    """The row rules of one parsed file (`ingestion.rules`) as an Arrow table.

    Reads no warehouse table, so the batch runs it for the next file, on a cursor of its own,
    while the current file is being stored. `extra` travels as text (the JSON it holds is kept
    as is when it is stored).

    Both tables are cut in batches of STAGE_BATCH_ROWS: DuckDB scans an Arrow table one batch
    per thread, so a file read as one chunk would be validated, hashed and stored on one core."""
    shaped = landing.shaped
    con.register("src", pa.Table.from_batches(shaped.to_batches(max_chunksize=STAGE_BATCH_ROWS),
                                              shaped.schema))
    try:
        sql = staging_sql(feed, landing.families, landing.line_families, landing.has_extra)
        return con.sql(f"select * replace (cast(extra as varchar) as extra) from ({sql})"
                       ).to_arrow_table(batch_size=STAGE_BATCH_ROWS)
    finally:
        _unregister(con, "src")


def write_file(con: duckdb.DuckDBPyConnection, feed: str, rel: str, landing: LandingTable,
               ingested_at: datetime, staged: pa.Table | None = None) -> FileOutcome:
    """Store one readable file inside the caller's transaction (`staged`: its `stage`, computed
    here when not given)."""
    if staged is None:
        staged = stage(con, feed, landing)
    con.register("staged", staged)
    try:
        return _write_staged(con, feed, rel, landing, staged, ingested_at)
    finally:
        _unregister(con, "staged")


def _write_staged(con, feed: str, rel: str, landing: LandingTable, staged: pa.Table,
                  ingested_at: datetime) -> FileOutcome:
    con.execute(_suspects_sql(feed))
    if con.execute("select count(*) from suspect_keys").fetchone()[0]:
        con.execute(_duplicates_sql(feed))
    else:  # every valid row is new: nothing to rank
        con.execute(DUP_ROWS_EMPTY)
    columns = [c for c, _t, _r in FEED_COLUMNS[feed]]
    bookkeeping = [c for c, _t in RAW_BOOKKEEPING]
    # raw.source_row keeps the file order; the insert itself need not be ordered
    con.execute(
        f"insert into raw.{feed} ({', '.join(columns + bookkeeping)}) "
        f"select {', '.join('s.' + c for c in columns)}, cast(s.extra as json), s.content_hash, "
        "?, s.row_index, ? "
        "from staged as s "
        "anti join (select row_index from dup_rows where status <> 'accepted') as d "
        "on d.row_index = s.row_index "
        "where s.reject_reason is null",
        [rel, ingested_at])
    _quarantine_rows(con, feed, rel, landing, ingested_at)
    invalid = staged.num_rows - staged.column("reject_reason").null_count
    duplicate, conflict = con.execute("""
        select count(*) filter (where status = 'duplicate'),
            count(*) filter (where status = 'conflict')
        from dup_rows
    """).fetchone()
    quarantined = invalid + conflict
    outcome = FileOutcome(
        feed, rel, landing.sha256, landing.rows_read,
        rows_accepted=landing.rows_read - quarantined - duplicate,
        rows_duplicate=duplicate, rows_quarantined=quarantined)
    con.execute("drop table dup_rows; drop table suspect_keys")
    return outcome


def _quarantine_rows(con, feed: str, rel: str, landing: LandingTable, ingested_at) -> None:
    rejected = con.sql("""
        select row_index, record_id, reject_reason as reason
        from staged where reject_reason is not null
        union all
        select d.row_index, s.record_id, d.reason
        from dup_rows as d join staged as s using (row_index)
        where d.status = 'conflict'
        order by row_index
    """).to_arrow_table()
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
        _unregister(con, "rejected_rows")


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
