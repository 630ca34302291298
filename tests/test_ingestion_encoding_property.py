"""Property: a row's identity does not depend on how the Parquet file encodes it.

EVENTS.md leaves column order free and lets castable types be cast; defaults (`op` upsert,
`progress` false, `tolerance` 0, `target_is_max` false) make a null and the default the same
content. So the same rows, landed a second time in another encoding, must all be harmless
duplicates: nothing accepted, nothing quarantined, the raw store unchanged.

Each example draws valid rows for one feed, writes them as in the worked examples, then writes
them again re-encoded at random: shuffled columns, strings as large_string or dictionaries,
integers as int64/int16/text, booleans as text, dates as text or midnight timestamps, timestamps
in another zone / unit / as offset text, doubles as text, `lines` with reordered struct fields,
an explicit or absent `target_is_max`, explicit defaults, as large_list, extra columns, small row
groups.
"""
from __future__ import annotations

import io
import random
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.ingest import ingest_landing
from ingestion.schema import (ASPECTS, CASCADE_TYPES, CONSOLIDATIONS, PERSPECTIVES, POLARITIES,
                              QUARTERS)
from tests.ingestion_helpers import assert_conservation, ledger
from tests.landing_factory import (addendum_event, komplemen_event, line, plt_event, remove_line,
                                   report, signed_event, to_table, unit)

JAKARTA = timezone(timedelta(hours=7))
finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 4))
maybe = lambda s: st.none() | s  # noqa: E731


@st.composite
def iku_line(draw, code: str, op=None):
    return line(code, op=op,
                perspective=draw(st.sampled_from(PERSPECTIVES)),
                polarity=draw(st.sampled_from(POLARITIES)),
                consolidation=draw(st.sampled_from(CONSOLIDATIONS)),
                progress=draw(st.sampled_from([None, False, True])),
                aspect=draw(maybe(st.sampled_from(ASPECTS))),
                weight=draw(st.floats(0, 100).map(lambda x: round(x, 2))),
                tolerance=draw(maybe(st.floats(0, 10).map(lambda x: round(x, 2)))),
                target_q1=draw(maybe(finite)), target_q2=draw(maybe(finite)),
                target_q3=draw(maybe(finite)), target_q4=draw(maybe(finite)),
                target_y=draw(maybe(finite)),
                cascade_type=draw(maybe(st.sampled_from(CASCADE_TYPES))),
                iku_name=draw(st.text(max_size=12)))


@st.composite
def event_rows(draw):
    rows = []
    for i in range(draw(st.integers(1, 5))):
        n_lines = draw(st.integers(1, 3))
        lines = [draw(iku_line(f"IKU-{k}")) for k in range(n_lines)]
        recorded = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(
            seconds=draw(st.integers(0, 364 * 86400)))
        kind = draw(st.sampled_from(["signed", "addendum", "komplemen", "plt"]))
        common = dict(recorded_at=recorded, is_unit_head=draw(st.booleans()),
                      position_level=draw(st.integers(0, 5)))
        if kind == "signed":
            rows.append(signed_event(f"EV-{i}", f"KK-{i}", lines=lines, **common))
        elif kind == "addendum":
            lines = [draw(iku_line("IKU-0", op=draw(st.sampled_from([None, "upsert"])))),
                     remove_line("IKU-9")]
            rows.append(addendum_event(f"EV-{i}", "KK-0", lines=lines,
                                       effective_period=draw(st.sampled_from(QUARTERS)), **common))
        elif kind == "komplemen":
            rows.append(komplemen_event(f"EV-{i}", f"KK-{i}", lines=lines, **common))
        else:
            rows.append(plt_event(f"EV-{i}", "KK-0", **common))
    return rows


@st.composite
def report_rows(draw):
    return [report(f"RP-{i}", f"KK-{i % 2}", "IKU-0", draw(st.sampled_from(QUARTERS)),
                   draw(finite),
                   reported_at=datetime(2026, 1, 1, tzinfo=timezone.utc)
                   + timedelta(seconds=draw(st.integers(0, 364 * 86400))),
                   reporter_nip=draw(st.sampled_from([None, "199310102018012010"])))
            for i in range(draw(st.integers(1, 6)))]


@st.composite
def unit_rows(draw):
    return [unit(f"U-{i}", None if i == 0 else "U-0", min(i, 5),
                 valid_from=date(2020, 1, 1) + timedelta(days=draw(st.integers(0, 3000))),
                 valid_to=draw(st.sampled_from([None, date(2030, 1, 1)])))
            for i in range(draw(st.integers(1, 6)))]


FEED_ROWS = {"contract_events": event_rows(), "realisations": report_rows(), "units": unit_rows()}


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(JAKARTA).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _recode_column(arr: pa.ChunkedArray, rng: random.Random) -> pa.ChunkedArray | pa.Array:
    """The same values in another castable Arrow type."""
    typ = arr.type
    values = arr.to_pylist()
    if pa.types.is_string(typ):
        return rng.choice([arr.cast(pa.large_string()), arr.combine_chunks().dictionary_encode()])
    if pa.types.is_int32(typ):
        return rng.choice([arr.cast(pa.int64()), arr.cast(pa.int16()),
                           pa.array([_text(v) for v in values], pa.string())])
    if pa.types.is_boolean(typ) or pa.types.is_float64(typ):
        return pa.array([_text(v) for v in values], pa.string())
    if pa.types.is_date32(typ):
        return rng.choice([pa.array([_text(v) for v in values], pa.string()),
                           arr.cast(pa.timestamp("us"))])
    if pa.types.is_timestamp(typ):
        return rng.choice([arr.cast(pa.timestamp("us", tz="Asia/Jakarta")),
                           arr.cast(pa.timestamp("ns", tz="UTC")),
                           arr.cast(pa.timestamp("ms")),
                           pa.array([_text(v) for v in values], pa.string())])
    return arr


def _recode_lines(rows: list[dict], rng: random.Random) -> pa.Array:
    """`lines` with explicit defaults, shuffled struct fields, maybe target_is_max, maybe large."""
    lines_py = []
    for row in rows:
        lines = []
        for ln in row["lines"] or []:
            ln = dict(ln)
            if ln.get("op") is None and ln.get("iku_code") != "IKU-9":
                ln["op"] = rng.choice([None, "upsert"])
            ln["progress"] = False if ln.get("progress") is None and rng.random() < .5 \
                else ln.get("progress")
            ln["tolerance"] = 0.0 if ln.get("tolerance") is None and rng.random() < .5 \
                else ln.get("tolerance")
            ln["target_is_max"] = rng.choice([None, False])
            lines.append(ln)
        lines_py.append(lines)
    template = to_table("contract_events", rows).column("lines").type.value_type
    fields = list(template) + [pa.field("target_is_max", pa.bool_())] \
        if "target_is_max" not in template.names else list(template)
    if rng.random() < .5:
        fields = [f for f in fields if f.name != "target_is_max"]
    rng.shuffle(fields)
    struct = pa.struct(fields)
    lines_py = [[{f.name: ln.get(f.name) for f in fields} for ln in lines] for lines in lines_py]
    list_type = pa.large_list(struct) if rng.random() < .5 else pa.list_(struct)
    return pa.array(lines_py, list_type)


def _reencode(feed: str, rows: list[dict], seed: int) -> pa.Table:
    rng = random.Random(seed)
    table = to_table(feed, rows)
    names = table.column_names
    columns = []
    for name in names:
        if name == "lines":
            columns.append(_recode_lines(rows, rng))
        elif rng.random() < .6:
            columns.append(_recode_column(table.column(name), rng))
        else:
            columns.append(table.column(name))
    order = list(range(len(names)))
    rng.shuffle(order)
    out = pa.table({names[i]: columns[i] for i in order})
    if rng.random() < .5:
        out = out.append_column("catatan", pa.array([f"copy {i}" for i in range(out.num_rows)]))
    return out


def _write(path: Path, table: pa.Table, row_group_size: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    path.write_bytes(sink.getvalue())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), feed=st.sampled_from(sorted(FEED_ROWS)), seed=st.integers(0, 2**32 - 1))
def test_same_rows_in_another_encoding_are_duplicates(data, feed, seed):
    rows = data.draw(FEED_ROWS[feed])
    with tempfile.TemporaryDirectory() as tmp:
        landing, warehouse = Path(tmp) / "landing", Path(tmp) / "wh.duckdb"
        _write(landing / feed / "a original.parquet", to_table(feed, rows))
        _write(landing / feed / "b re-encoded.parquet", _reencode(feed, rows, seed),
               row_group_size=2)

        ingest_landing(landing, warehouse, progress=lambda _m: None)

        assert_conservation(warehouse)
        by_file = {e["file"]: e for e in ledger(warehouse)}
        original = by_file[f"{feed}/a original.parquet"]
        copy = by_file[f"{feed}/b re-encoded.parquet"]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            why = con.execute("select file, row_index, reason from ingest.quarantine").fetchall()
            stored_files = con.execute(
                f"select distinct source_file from raw.{feed}").fetchall()
        assert (original["status"], original["rows_accepted"], original["rows_quarantined"]) == \
            ("ingested", len(rows), 0), why
        assert (copy["status"], copy["rows_accepted"], copy["rows_duplicate"],
                copy["rows_quarantined"]) == ("ingested", 0, len(rows), 0), why
        assert stored_files == [(f"{feed}/a original.parquet",)]
