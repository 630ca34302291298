"""The landing-zone contract (EVENTS.md v1) and the raw event store's tables.

One place names every feed, its columns, which are required and their enumerations; the validator,
the store and the generator all read from here.
"""
from __future__ import annotations

FEEDS = ("contract_events", "realisations", "units")

EVENT_TYPES = ("signed", "addendum", "komplemen", "plt_transfer")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
PERSPECTIVES = ("stakeholder", "customer", "internal_process", "learning_growth")
POLARITIES = ("maximize", "minimize", "stabilize")
CONSOLIDATIONS = ("sum", "average", "take_last_known")
ASPECTS = ("kuantitas", "kualitas", "waktu", "biaya")
CASCADE_TYPES = ("direct", "indirect", "non_cascading")
LINE_OPS = ("upsert", "remove")
REASONS = {
    "signed": ("annual", "returning", "transfer_in", "new_cpns"),
    "addendum": ("apbn_change", "semester_target_met", "regulation", "minister_policy",
                 "staffing_change", "other"),
    "komplemen": ("mutation", "promotion", "reorganisation", "returning"),
    "plt_transfer": ("acting", "return"),
}

# (column, duckdb type, required) per feed, in the raw store's column order.
CONTRACT_EVENT_COLUMNS = (
    ("event_id", "varchar", True),
    ("event_type", "varchar", True),
    ("contract_id", "varchar", True),
    ("year", "integer", True),
    ("position_id", "varchar", True),
    ("position_level", "integer", True),
    ("unit_id", "varchar", True),
    ("is_unit_head", "boolean", True),
    ("holder_nip", "varchar", True),
    ("supervisor_nip", "varchar", False),
    ("parent_contract_id", "varchar", False),
    ("replaces_contract_id", "varchar", False),  # required for komplemen
    ("effective_date", "date", True),
    ("signed_date", "date", False),  # required except for plt_transfer
    ("effective_period", "varchar", False),  # required for addendum
    ("reason", "varchar", False),
    ("recorded_at", "timestamp", True),
    ("lines", "line_list", True),
)

LINE_FIELDS = (
    ("op", "varchar"),
    ("iku_code", "varchar"),
    ("iku_name", "varchar"),
    ("ss_code", "varchar"),
    ("ss_name", "varchar"),
    ("perspective", "varchar"),
    ("polarity", "varchar"),
    ("consolidation", "varchar"),
    ("progress", "boolean"),
    ("aspect", "varchar"),
    ("unit_of_measure", "varchar"),
    ("weight", "double"),
    ("tolerance", "double"),
    ("target_is_max", "boolean"),
    ("target_q1", "double"),
    ("target_q2", "double"),
    ("target_q3", "double"),
    ("target_q4", "double"),
    ("target_y", "double"),
    ("parent_iku_code", "varchar"),
    ("cascade_type", "varchar"),
)
LINE_REQUIRED_IN_UPSERT = ("perspective", "polarity", "consolidation", "weight")

REALISATION_COLUMNS = (
    ("report_id", "varchar", True),
    ("contract_id", "varchar", True),
    ("iku_code", "varchar", True),
    ("quarter", "varchar", True),
    ("value", "double", True),
    ("reported_at", "timestamp", True),
    ("reporter_nip", "varchar", False),
)

UNIT_COLUMNS = (
    ("unit_id", "varchar", True),
    ("parent_unit_id", "varchar", False),
    ("name", "varchar", True),
    ("level", "integer", True),
    ("valid_from", "date", True),
    ("valid_to", "date", False),
)

FEED_COLUMNS = {
    "contract_events": CONTRACT_EVENT_COLUMNS,
    "realisations": REALISATION_COLUMNS,
    "units": UNIT_COLUMNS,
}
# The id whose first occurrence wins; units have no producer id, so a unit version is keyed by
# (unit_id, valid_from).
FEED_RECORD_ID = {
    "contract_events": ("event_id",),
    "realisations": ("report_id",),
    "units": ("unit_id", "valid_from"),
}

LINE_STRUCT_SQL = "struct(" + ", ".join(f"{name} {typ}" for name, typ in LINE_FIELDS) + ")[]"

# Bookkeeping columns every raw table carries after the contract's columns.
RAW_BOOKKEEPING = (
    ("extra", "json"),  # unknown extra columns of the landing row, kept as JSON
    ("content_hash", "varchar"),  # identity of the row's content, for duplicate detection
    ("source_file", "varchar"),
    ("source_row", "integer"),
    ("ingested_at", "timestamp"),
)


def _sql_type(typ: str) -> str:
    return LINE_STRUCT_SQL if typ == "line_list" else typ


def raw_table_ddl(feed: str) -> str:
    cols = [f"{name} {_sql_type(typ)}" for name, typ, _ in FEED_COLUMNS[feed]]
    cols += [f"{name} {typ}" for name, typ in RAW_BOOKKEEPING]
    return f"create table if not exists raw.{feed} (\n  " + ",\n  ".join(cols) + "\n)"


INGEST_DDL = (
    "create schema if not exists raw",
    "create schema if not exists ingest",
    """create table if not exists ingest.ledger (
  feed varchar not null,
  file varchar not null,
  sha256 varchar not null,
  rows_read bigint not null,
  rows_accepted bigint not null,
  rows_duplicate bigint not null,
  rows_quarantined bigint not null,
  status varchar not null,
  ingested_at timestamp not null
)""",
    """create table if not exists ingest.quarantine (
  feed varchar not null,
  file varchar not null,
  row_index bigint,
  record_id varchar,
  reason varchar not null,
  raw varchar,
  ingested_at timestamp not null
)""",
) + tuple(raw_table_ddl(feed) for feed in FEEDS)
