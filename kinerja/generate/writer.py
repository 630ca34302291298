"""Arrow schemas of the landing zone (EVENTS.md v1) and deterministic Parquet writing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion.schema import CONTRACT_EVENT_COLUMNS, LINE_FIELDS, REALISATION_COLUMNS, UNIT_COLUMNS

from .catalog import SASARAN, TEMPLATES
from .events import EventBatch
from .lines import CASCADE_NAMES

_ARROW = {"varchar": pa.string(), "integer": pa.int32(), "boolean": pa.bool_(),
          "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
          "double": pa.float64()}
LINE_STRUCT = pa.struct([pa.field(name, _ARROW[typ]) for name, typ in LINE_FIELDS])
_ARROW["line_list"] = pa.list_(pa.field("element", LINE_STRUCT))


def _schema(columns) -> pa.Schema:
    return pa.schema([pa.field(name, _ARROW[typ]) for name, typ, _ in columns])


EVENT_SCHEMA = _schema(CONTRACT_EVENT_COLUMNS)
REALISATION_SCHEMA = _schema(REALISATION_COLUMNS)
UNIT_SCHEMA = _schema(UNIT_COLUMNS)


def _strings(values) -> pa.Array:
    return pa.array(values, pa.string())


def _doubles(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _from_catalog(attr: str, tpl: np.ndarray) -> pa.Array:
    return pa.array([getattr(t, attr) for t in TEMPLATES]).take(pa.array(tpl))


def _line_struct(batch: EventBatch) -> pa.StructArray:
    lines, op = batch.lines, batch.line_op
    removed = op == "remove"
    tpl = lines.tpl
    ss = _from_catalog("ss_code", tpl)
    ss_names = pa.array([SASARAN[t.ss_code][1] for t in TEMPLATES]).take(pa.array(tpl))
    perspective = pa.array([SASARAN[t.ss_code][0] for t in TEMPLATES]).take(pa.array(tpl))
    progress = pa.array([t.progress for t in TEMPLATES], pa.bool_()).take(pa.array(tpl))
    at_max = pa.array([True if t.target_is_max else None for t in TEMPLATES],
                      pa.bool_()).take(pa.array(tpl))
    cols = {
        "op": _strings(op),
        "iku_code": _strings(lines.code),
        "iku_name": _from_catalog("name", tpl),
        "ss_code": ss, "ss_name": ss_names, "perspective": perspective,
        "polarity": _from_catalog("polarity", tpl),
        "consolidation": _from_catalog("consolidation", tpl),
        "progress": progress,
        "aspect": _from_catalog("aspect", tpl),
        "unit_of_measure": _from_catalog("unit_of_measure", tpl),
        "weight": _doubles(lines.weight),
        "tolerance": _doubles(lines.tolerance),
        "target_is_max": at_max,
        "target_q1": _doubles(lines.targets[:, 0]), "target_q2": _doubles(lines.targets[:, 1]),
        "target_q3": _doubles(lines.targets[:, 2]), "target_q4": _doubles(lines.targets[:, 3]),
        "target_y": _doubles(lines.target_y),
        "parent_iku_code": _strings(lines.parent_code),
        "cascade_type": _strings(CASCADE_NAMES[lines.cascade]),
    }
    if removed.any():  # a removal names only the line
        keep_mask = pa.array(removed)
        for name in cols:
            if name not in ("op", "iku_code"):
                cols[name] = pc.if_else(keep_mask, pa.scalar(None, cols[name].type),
                                                cols[name])
    return pa.StructArray.from_arrays([cols[f.name] for f in LINE_STRUCT], fields=list(LINE_STRUCT))


def event_table(batch: EventBatch) -> pa.Table:
    n = len(batch)
    counts = np.bincount(batch.line_event, minlength=n) if len(batch.line_event) else np.zeros(
        n, int)
    offsets = pa.array(np.r_[0, np.cumsum(counts)].astype(np.int32))
    lines = pa.ListArray.from_arrays(offsets, _line_struct(batch),
                                     type=EVENT_SCHEMA.field("lines").type)
    arrays = []
    for field in EVENT_SCHEMA:
        if field.name == "lines":
            arrays.append(lines)
            continue
        values = batch.columns[field.name]
        if pa.types.is_date32(field.type) or pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, field.type, mask=np.isnat(values)))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def write(table: pa.Table, path: Path) -> None:
    """Same table, same bytes: no wall clock or writer-dependent metadata goes in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=1 << 20)

