"""Read one landing file safely and decide whether it can be read at all (whole-file checks).

The bytes are read once, through a descriptor opened with O_NOFOLLOW, and both hashed and parsed
from memory, so the ledger's sha256 is exactly the content that was validated. The Arrow table
that comes out is shaped for the row validation in SQL (`ingestion.rules`): known columns keep
their landing type, unknown columns are folded into one `_extra` struct, the `lines` struct keeps
only the contract's fields, and `_row_index` numbers the rows in file order.
"""
from __future__ import annotations

import functools
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.schema import FEED_COLUMNS, LINE_FIELDS

PARQUET_MAGIC = b"PAR1"
ROW_INDEX = "_row_index"
EXTRA = "_extra"

# Which landing (Arrow) type families a contract type accepts; castable families are cast per
# row in SQL and a row whose value does not cast is quarantined (`invalid_value`).
ACCEPTS = {
    "varchar": {"string", "null"},
    "integer": {"integer", "float", "decimal", "string", "null"},
    "double": {"integer", "float", "decimal", "string", "null"},
    "boolean": {"boolean", "string", "null"},
    "date": {"date", "timestamp", "string", "null"},
    "timestamp": {"timestamp", "date", "string", "null"},
    "line_list": {"list_struct", "list_null", "null"},
}
# Contract types as EVENTS.md names them, for error messages.
SPEC_TYPE_NAMES = {"varchar": "string", "integer": "int", "double": "double", "boolean": "bool",
                   "date": "date", "timestamp": "timestamp", "line_list": "list of struct"}
_ARROW_TYPES = {"varchar": pa.string(), "integer": pa.int32(), "double": pa.float64(),
                "boolean": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us")}
CANONICAL_LINE_STRUCT = pa.struct([(name, _ARROW_TYPES[typ]) for name, typ in LINE_FIELDS])
CANONICAL_LINES = pa.list_(CANONICAL_LINE_STRUCT)
LINE_FIELD_TYPES = dict(LINE_FIELDS)


class FileRejected(Exception):
    """The whole file cannot be read; `reason` goes to the quarantine, `rows_read` to the ledger."""

    def __init__(self, reason: str, rows_read: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.rows_read = rows_read


@dataclass
class LandingTable:
    """A readable landing file, shaped for validation."""

    sha256: str
    rows_read: int
    original: pa.Table  # as landed (dictionaries decoded): the source of quarantine `raw`
    shaped: pa.Table  # known columns + `_extra` + `_row_index`
    families: dict[str, str] = field(default_factory=dict)  # known column -> type family
    line_families: dict[str, str] = field(default_factory=dict)  # lines field -> type family
    has_extra: bool = False


def read_bytes(path: Path) -> bytes:
    """The file's content, refusing (not following) a symlink swapped in since the scan."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRejected(f"not_regular_file: {path.name} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 24):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def family(typ: pa.DataType) -> str:
    if pa.types.is_null(typ):
        return "null"
    if pa.types.is_dictionary(typ):
        return "other"  # decoded at the top level; inside a struct not supported
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or _is(typ, "is_string_view"):
        return "string"
    if pa.types.is_integer(typ):
        return "integer"
    if pa.types.is_floating(typ):
        return "float" if typ != pa.float16() else "other"
    if pa.types.is_decimal(typ):
        return "decimal"
    if pa.types.is_boolean(typ):
        return "boolean"
    if pa.types.is_date(typ):
        return "date"
    if pa.types.is_timestamp(typ):
        return "timestamp"
    if _is_list(typ):
        value = typ.value_type
        if pa.types.is_struct(value):
            return "list_struct"
        return "list_null" if pa.types.is_null(value) else "list_other"
    return "other"


def _is(typ: pa.DataType, predicate: str) -> bool:
    check = getattr(pa.types, predicate, None)
    return bool(check and check(typ))


def _is_list(typ: pa.DataType) -> bool:
    return (pa.types.is_list(typ) or pa.types.is_large_list(typ)
            or pa.types.is_fixed_size_list(typ) or _is(typ, "is_list_view")
            or _is(typ, "is_large_list_view"))


def footer_rows(data: bytes) -> int:
    """The row count the Parquet footer declares, or 0 when the footer cannot be read."""
    try:
        return pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
    except Exception:  # noqa: BLE001 - unreadable footer: EVENTS.md says rows_read 0
        return 0


def parse(data: bytes, feed: str) -> LandingTable:
    """Parse and shape a landing file, or raise FileRejected with its whole-file reason."""
    digest = sha256_of(data)
    if len(data) < 8 or data[:4] != PARQUET_MAGIC:
        raise FileRejected("not_parquet: the file does not start with the Parquet magic bytes "
                           "'PAR1'; write it with a Parquet writer")
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        footer_rows = parquet.metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - any footer error means the same thing here
        raise FileRejected(f"unreadable_parquet: footer unreadable, the file is truncated or "
                           f"corrupt ({_short(exc)}); re-export it") from None
    try:
        table = parquet.read()
    except Exception as exc:  # noqa: BLE001
        raise FileRejected(f"unreadable_parquet: {footer_rows} rows declared but the data cannot "
                           f"be read ({_short(exc)}); re-export it", footer_rows) from None
    try:
        # e.g. a string that is not UTF-8: DuckDB would meet it as a fatal error that stops the
        # whole warehouse (every later statement of the batch fails), not as a bad value
        table.validate(full=True)
    except Exception as exc:  # noqa: BLE001
        raise FileRejected(f"unreadable_parquet: {footer_rows} rows declared but the data is not "
                           f"valid ({_short(exc)}); re-export it", footer_rows) from None
    rows = table.num_rows
    table = _decode_dictionaries(table, rows)
    families = _check_columns(table, feed, rows)
    line_families = _check_lines_struct(table, rows) if "lines" in families else {}
    shaped, has_extra = _shape(table, feed, families)
    return LandingTable(digest, rows, table, shaped, families, line_families, has_extra)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _decode_dictionaries(table: pa.Table, rows: int) -> pa.Table:
    for i, fld in enumerate(table.schema):
        if pa.types.is_dictionary(fld.type):
            try:
                decoded = table.column(i).cast(fld.type.value_type)
            except Exception as exc:  # noqa: BLE001
                raise FileRejected(f"wrong_column_type: {fld.name} is {fld.type} and cannot be "
                                   f"decoded ({_short(exc)})", rows) from None
            table = table.set_column(i, pa.field(fld.name, decoded.type), decoded)
    return table


def _check_columns(table: pa.Table, feed: str, rows: int) -> dict[str, str]:
    names = table.column_names
    seen = set()
    for name in names:
        if name in seen:
            raise FileRejected(f"duplicate_column: {name!r} appears twice; a column name must be "
                               "unique", rows)
        seen.add(name)
    families = {}
    for col, typ, required in FEED_COLUMNS[feed]:
        if col not in seen:
            if required:
                raise FileRejected(f"missing_required_column: {col} (EVENTS.md {feed}); nothing "
                                   "was read from this file", rows)
            continue
        fam = family(table.schema.field(col).type)
        if fam not in ACCEPTS[typ]:
            raise FileRejected(f"wrong_column_type: {col} is {table.schema.field(col).type}, "
                               f"expected {SPEC_TYPE_NAMES[typ]}", rows)
        families[col] = fam
    return families


def _check_lines_struct(table: pa.Table, rows: int) -> dict[str, str]:
    typ = table.schema.field("lines").type
    if family(typ) != "list_struct":
        return {}
    seen = set()
    line_families = {}
    for fld in typ.value_type:
        if fld.name in seen:
            raise FileRejected(f"duplicate_column: lines.{fld.name} appears twice in the line "
                               "struct", rows)
        seen.add(fld.name)
        if fld.name not in LINE_FIELD_TYPES:
            continue
        expected = LINE_FIELD_TYPES[fld.name]
        fam = family(fld.type)
        if fam not in ACCEPTS[expected]:
            raise FileRejected(f"wrong_column_type: lines.{fld.name} is {fld.type}, expected "
                               f"{SPEC_TYPE_NAMES[expected]}", rows)
        line_families[fld.name] = fam
    return line_families


def _column_array(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)


def _shape(table: pa.Table, feed: str, families: dict[str, str]) -> tuple[pa.Table, bool]:
    known = [col for col, _typ, _req in FEED_COLUMNS[feed] if col in families]
    arrays = {}
    extra_names, extra_arrays = [], []
    for name in table.column_names:
        if name not in families:
            extra_names.append(name)
            extra_arrays.append(_scannable(_column_array(table, name)))
    for col in known:
        arr = _column_array(table, col)
        if col == "lines":
            arr, line_extra = _split_lines(arr, families[col])
            if line_extra is not None:
                extra_names.append("lines")
                extra_arrays.append(_scannable(line_extra))
        elif pa.types.is_timestamp(arr.type) and arr.type.unit == "ns":
            # DuckDB cannot cast TIMESTAMPTZ_NS to TIMESTAMP; the store keeps microseconds anyway
            arr = arr.cast(pa.timestamp("us", tz=arr.type.tz), safe=False)
        elif families[col] == "string" and not pa.types.is_string(arr.type):
            arr = arr.cast(pa.large_string()) if pa.types.is_large_string(arr.type) \
                else arr.cast(pa.string())
        arrays[col] = arr
    if extra_arrays:
        arrays[EXTRA] = pa.StructArray.from_arrays(extra_arrays, names=extra_names)
    arrays[ROW_INDEX] = _row_numbers(table.num_rows)
    return pa.table(arrays), bool(extra_arrays)


@functools.lru_cache(maxsize=256)
def _duckdb_scans(typ: pa.DataType) -> bool:
    """Whether DuckDB can read an Arrow column of this type (float16, nested dictionaries: no)."""
    import duckdb

    probe = pa.table({"x": pa.array([], type=typ)})
    try:
        with duckdb.connect() as con:
            con.register("probe", probe)
            con.execute("select to_json(x) from probe").fetchall()
        return True
    except duckdb.Error:
        return False


def _scannable(arr: pa.Array) -> pa.Array:
    """An unknown column DuckDB can store in `extra`: as is, else cast to text, else its repr.

    Unknown columns are kept whatever their type (EVENTS.md), so an exotic type never rejects
    the file."""
    if _duckdb_scans(arr.type):
        return arr
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else repr(v) for v in arr.to_pylist()], pa.string())


def _row_numbers(n: int) -> pa.Array:
    # from a raw buffer: pa.array(numpy) would import pandas (seconds without cached bytecode)
    return pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(np.arange(n, dtype=np.int64))])


def _split_lines(arr: pa.Array, fam: str) -> tuple[pa.Array, pa.Array | None]:
    """(lines with only the contract's struct fields, the unknown line fields or None)."""
    if fam != "list_struct":  # all null, or lists that can only be empty: give them the real type
        return arr.cast(CANONICAL_LINES), None
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        arr = arr.cast(pa.list_(arr.type.value_type))
    list_class = pa.LargeListArray if pa.types.is_large_list(arr.type) else pa.ListArray
    structs = arr.values
    children = structs.flatten()
    known = [(f, c) for f, c in zip(structs.type, children) if f.name in LINE_FIELD_TYPES]
    unknown = [(f, c) for f, c in zip(structs.type, children) if f.name not in LINE_FIELD_TYPES]
    if not known:  # keep a field so the struct has a length; every line then lacks iku_code
        known = [(pa.field("iku_code", pa.string()), pa.nulls(len(structs), pa.string()))]
    null_lines = structs.is_null() if structs.null_count else None
    null_lists = arr.is_null() if arr.null_count else None

    def rebuild(pairs):
        child = pa.StructArray.from_arrays([c for _f, c in pairs], fields=[f for f, _c in pairs],
                                           mask=null_lines)
        return list_class.from_arrays(arr.offsets, child, mask=null_lists)

    return rebuild(known), (rebuild(unknown) if unknown else None)
