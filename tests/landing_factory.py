"""Write landing-zone Parquet files (EVENTS.md) from Python dicts, for scenario tests.

Builders return plain dicts with every contract column filled by a sensible default; override any
field by keyword. `write_feed` turns a list of such dicts into a Parquet file with exactly the Arrow
types of the worked-example files (string, int32, bool, date32, timestamp[us, UTC], double, and
`lines` as a list of structs).

    from tests.landing_factory import write_feed, signed_event, line, report, unit

    write_feed(landing, "contract_events", [signed_event("EV-1", "KK-1", lines=[line("IKU-01")])])
    write_feed(landing, "realisations", [report("RP-1", "KK-1", "IKU-01", "Q1", 90.0)])

Invalid files: pass wrong values directly (e.g. `year=1999`, `holder_nip="123"`), change a column's
Arrow type with `types={"year": pa.string()}`, drop a column with `drop=("holder_nip",)`, add an
unknown column simply by putting an extra key in the rows, or write arbitrary bytes with
`write_bytes`.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.schema import FEED_COLUMNS, LINE_FIELDS

# Default people: 18-digit NIPs.
HOLDER_NIP = "197001011995031002"
SUPERVISOR_NIP = "196208261987032001"
ACTING_NIP = "198005052005011003"
SUCCESSOR_NIP = "198507072010012004"
REPORTER_NIP = "199310102018012010"

YEAR = 2026

_SCALAR_ARROW = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "double": pa.float64(),
}

# The example files carry every line field except the optional `target_is_max`; a file written
# here carries it only when some line sets it (or when asked with line_fields=...).
EXAMPLE_LINE_FIELDS = tuple(name for name, _ in LINE_FIELDS if name != "target_is_max")
ALL_LINE_FIELDS = tuple(name for name, _ in LINE_FIELDS)
_LINE_TYPES = dict(LINE_FIELDS)


def ts(value: str | datetime) -> datetime:
    """A UTC timestamp from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM[:SS]' (naive input is taken as UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _day(value: Any) -> Any:
    """An ISO date string as a date; anything else (e.g. a deliberately bad string) unchanged."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _instant(value: Any) -> Any:
    """An ISO timestamp string as a UTC datetime; anything else unchanged."""
    if isinstance(value, (str, datetime)):
        try:
            return ts(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------------------------------------
# Row builders
# ---------------------------------------------------------------------------------------------

def line(iku_code: str = "IKU-01", **fields: Any) -> dict[str, Any]:
    """One IKU line (an upsert by default) with every required field set."""
    row: dict[str, Any] = {
        "op": None,
        "iku_code": iku_code,
        "iku_name": f"Indikator {iku_code}",
        "ss_code": "SS-01",
        "ss_name": "Sasaran strategis SS-01",
        "perspective": "stakeholder",
        "polarity": "maximize",
        "consolidation": "average",
        "progress": None,
        "aspect": "kualitas",
        "unit_of_measure": "persen",
        "weight": 100.0,
        "tolerance": None,
        "target_q1": 90.0,
        "target_q2": 90.0,
        "target_q3": 90.0,
        "target_q4": 90.0,
        "target_y": 90.0,
        "parent_iku_code": None,
        "cascade_type": "non_cascading",
    }
    row.update(fields)
    return row


def remove_line(iku_code: str, **fields: Any) -> dict[str, Any]:
    """A `remove` line of an addendum: only op and iku_code set."""
    row = {name: None for name in EXAMPLE_LINE_FIELDS}
    row.update(op="remove", iku_code=iku_code)
    row.update(fields)
    return row


def _event(kind: str, event_id: str, contract_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": event_id,
        "event_type": kind,
        "contract_id": contract_id,
        "year": YEAR,
        "position_id": "POS-01",
        "position_level": 1,
        "unit_id": "UNIT-01",
        "is_unit_head": True,
        "holder_nip": HOLDER_NIP,
        "supervisor_nip": SUPERVISOR_NIP,
        "parent_contract_id": None,
        "replaces_contract_id": None,
        "effective_date": date(YEAR, 1, 1),
        "signed_date": date(YEAR, 1, 15),
        "effective_period": None,
        "reason": None,
        "recorded_at": ts(f"{YEAR}-01-15T09:00"),
        "lines": [line()],
    }
    for key in ("effective_date", "signed_date"):
        if key in fields:
            fields[key] = _day(fields[key])
    if "recorded_at" in fields:
        fields["recorded_at"] = _instant(fields["recorded_at"])
    row.update(fields)
    return row


def signed_event(event_id: str = "EV-1", contract_id: str = "KK-1", **fields: Any) -> dict[str, Any]:
    fields.setdefault("reason", "annual")
    return _event("signed", event_id, contract_id, **fields)


def addendum_event(event_id: str = "EV-2", contract_id: str = "KK-1", **fields: Any) -> dict[str, Any]:
    fields.setdefault("reason", "apbn_change")
    fields.setdefault("effective_period", "Q3")
    fields.setdefault("effective_date", date(YEAR, 6, 20))
    fields.setdefault("signed_date", date(YEAR, 6, 25))
    fields.setdefault("recorded_at", ts(f"{YEAR}-06-25T09:00"))
    return _event("addendum", event_id, contract_id, **fields)


def komplemen_event(event_id: str = "EV-3", contract_id: str = "KK-2",
                    replaces_contract_id: str = "KK-1", **fields: Any) -> dict[str, Any]:
    fields.setdefault("reason", "mutation")
    fields.setdefault("holder_nip", SUCCESSOR_NIP)
    fields.setdefault("effective_date", date(YEAR, 7, 1))
    fields.setdefault("signed_date", date(YEAR, 7, 3))
    fields.setdefault("recorded_at", ts(f"{YEAR}-07-03T09:00"))
    return _event("komplemen", event_id, contract_id,
                  replaces_contract_id=replaces_contract_id, **fields)


def plt_event(event_id: str = "EV-4", contract_id: str = "KK-1", **fields: Any) -> dict[str, Any]:
    fields.setdefault("reason", "acting")
    fields.setdefault("holder_nip", ACTING_NIP)
    fields.setdefault("signed_date", None)
    fields.setdefault("effective_date", date(YEAR, 5, 2))
    fields.setdefault("recorded_at", ts(f"{YEAR}-05-02T09:00"))
    fields.setdefault("lines", [])
    return _event("plt_transfer", event_id, contract_id, **fields)


def report(report_id: str = "RP-1", contract_id: str = "KK-1", iku_code: str = "IKU-01",
           quarter: str = "Q1", value: float = 90.0, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "report_id": report_id,
        "contract_id": contract_id,
        "iku_code": iku_code,
        "quarter": quarter,
        "value": value,
        "reported_at": ts(f"{YEAR}-04-10T03:00"),
        "reporter_nip": REPORTER_NIP,
    }
    if "reported_at" in fields:
        fields["reported_at"] = _instant(fields["reported_at"])
    row.update(fields)
    return row


def unit(unit_id: str = "UNIT-01", parent_unit_id: str | None = "ROOT", level: int = 1,
         **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "unit_id": unit_id,
        "parent_unit_id": parent_unit_id,
        "name": f"Unit {unit_id}",
        "level": level,
        "valid_from": date(2020, 1, 1),
        "valid_to": None,
    }
    for key in ("valid_from", "valid_to"):
        if key in fields:
            fields[key] = _day(fields[key])
    row.update(fields)
    return row


# ---------------------------------------------------------------------------------------------
# Arrow types and writers
# ---------------------------------------------------------------------------------------------

def line_struct_type(fields: Iterable[str] = EXAMPLE_LINE_FIELDS,
                     types: Mapping[str, pa.DataType] | None = None) -> pa.StructType:
    """The struct type of `lines` with the given fields (unknown names become strings)."""
    types = dict(types or {})
    return pa.struct([
        pa.field(name, types.get(name) or _SCALAR_ARROW.get(_LINE_TYPES.get(name, ""), pa.string()))
        for name in fields
    ])


def feed_schema(feed: str, line_fields: Iterable[str] = EXAMPLE_LINE_FIELDS) -> pa.Schema:
    """The Arrow schema of a contract-format file of `feed` (as in the worked examples)."""
    fields = []
    for name, typ, _required in FEED_COLUMNS[feed]:
        if typ == "line_list":
            fields.append(pa.field(name, pa.list_(line_struct_type(line_fields))))
        else:
            fields.append(pa.field(name, _SCALAR_ARROW[typ]))
    return pa.schema(fields)


def _line_fields_of(rows: list[Mapping[str, Any]]) -> tuple[str, ...]:
    """Canonical line fields in schema order, plus `target_is_max` / unknown keys when present."""
    present: dict[str, None] = {}
    for row in rows:
        for ln in row.get("lines") or []:
            if isinstance(ln, Mapping):
                present.update(dict.fromkeys(ln))
    names = [n for n in ALL_LINE_FIELDS if n in EXAMPLE_LINE_FIELDS or n in present]
    names += [n for n in present if n not in ALL_LINE_FIELDS]
    return tuple(names)


def _as_text(value: Any) -> Any:
    """A value for a column retyped to string: dates and timestamps in ISO form, numbers as str."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (bool, int, float)):
        return str(value)
    return value


def to_table(feed: str, rows: list[Mapping[str, Any]], *,
             types: Mapping[str, pa.DataType] | None = None,
             drop: Iterable[str] = (),
             line_fields: Iterable[str] | None = None,
             line_types: Mapping[str, pa.DataType] | None = None) -> pa.Table:
    """Rows -> an Arrow table with the contract's types.

    types: override a column's Arrow type (e.g. {"year": pa.string()}, {"lines": pa.string()});
        a column retyped to string gets dates/timestamps in ISO form and numbers as text.
    drop: leave columns out. line_fields / line_types: the `lines` struct's fields and types.
    Keys of the rows that are not contract columns become extra columns (types inferred).
    """
    types = dict(types or {})
    drop = set(drop)
    rows = [dict(r) for r in rows]
    if line_fields is None:
        line_fields = _line_fields_of(rows)
    line_fields = tuple(line_fields)
    known = [name for name, _t, _r in FEED_COLUMNS[feed]]
    extra = [k for r in rows for k in r if k not in known]
    extra = list(dict.fromkeys(extra))

    arrays, names = [], []
    for name, typ, _required in FEED_COLUMNS[feed]:
        if name in drop:
            continue
        values = [r.get(name) for r in rows]
        if name in types:
            arrow_type = types[name]
            if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
                values = [_as_text(v) for v in values]
        elif typ == "line_list":
            arrow_type = pa.list_(line_struct_type(line_fields, line_types))
            values = [None if v is None else
                      [None if ln is None else {f: ln.get(f) for f in line_fields} for ln in v]
                      for v in values]
        else:
            arrow_type = _SCALAR_ARROW[typ]
        arrays.append(pa.array(values, type=arrow_type))
        names.append(name)
    for name in extra:
        if name in drop:
            continue
        values = [r.get(name) for r in rows]
        arrays.append(pa.array(values, type=types.get(name)))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def write_table(landing: Path, feed: str, table: pa.Table, name: str | None = None) -> Path:
    """Write an Arrow table as `<landing>/<feed>/<name>` (subfolders in `name` are created)."""
    path = Path(landing) / feed / (name or f"{feed}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_feed(landing: Path, feed: str, rows: list[Mapping[str, Any]], name: str | None = None,
               **table_options: Any) -> Path:
    """Write rows (from the builders) as one Parquet file of `feed`; returns its path.

    `name` defaults to `<feed>.parquet`; it may contain subfolders. Other keywords go to `to_table`.
    """
    return write_table(landing, feed, to_table(feed, rows, **table_options), name)


def write_bytes(landing: Path, feed: str, name: str, data: bytes) -> Path:
    """Write arbitrary bytes as a landing file (for not-Parquet and truncated files)."""
    path = Path(landing) / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def minimal_landing(landing: Path) -> Path:
    """A small valid landing zone: one unit tree, one signed KK with one line, one Q1 report."""
    write_feed(landing, "units", [unit("ROOT", None, 0), unit("UNIT-01", "ROOT", 1)])
    write_feed(landing, "contract_events", [signed_event("EV-1", "KK-1", lines=[line("IKU-01")])])
    write_feed(landing, "realisations", [report("RP-1", "KK-1", "IKU-01", "Q1", 90.0)])
    return Path(landing)
