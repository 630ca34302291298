"""The per-unit files of a publication: recap/<year>/<unit>.csv and .xlsx, data/unit/<unit>.js.

The units to write are in the temp table `pub_work(year, unit_id, n, batch)`: every (year, unit)
with KKs for a full publication, only the changed ones for an incremental one
(`incremental.py`). They are processed in batches of about ROWS_PER_BATCH achievement rows:
per batch DuckDB renders, in two queries, each unit's CSV body and sheet XML (`recap.py`) and its
dashboard JSON (`dashboard.py`), one result row per unit; a pool of writer threads builds the
workbooks (zlib releases the GIL) and writes the files while DuckDB renders the next batch.
At most two batches are in memory at a time.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kinerja.publish import dashboard, recap
from kinerja.publish.atomic import write_new

ROWS_PER_BATCH = 300_000  # achievement rows per batch (bounds DuckDB's and Python's memory)
WRITERS = 2


def plan_work(con, todo: str | None = None) -> int:
    """Fill `pub_work` from `pub_kk` (all units) or from the temp table `todo(year, unit_id)`;
    returns the number of batches."""
    con.execute(f"""
        create or replace temp table pub_work as
        with units as (select distinct year, unit_id from {todo or 'pub_kk'}),
        rows as (select year, unit_id, count(*) as n from marts.iku_achievement group by all)
        select year, unit_id, coalesce(r.n, 0) as n,
               (row_number() over (order by year, unit_id))::integer as seq,
               (coalesce(sum(coalesce(r.n, 0)) over (order by year, unit_id
                                                     rows between unbounded preceding
                                                     and 1 preceding), 0)
                // {ROWS_PER_BATCH})::integer as batch
        from units left join rows r using (year, unit_id)
    """)
    return con.execute("select coalesce(max(batch) + 1, 0) from pub_work").fetchall()[0][0]


def remove_files(con, out: Path, year) -> int:
    """Delete the files of the units in `pub_work` (an incremental publication rewrites them)."""
    removed = 0
    for y, unit_id in con.execute("select year, unit_id from pub_work").fetchall():
        paths = [out / "recap" / recap.recap_file(y, unit_id, ext) for ext in ("csv", "xlsx")]
        if y == year and unit_id is not None:
            paths.append(out / "data" / "unit" / f"{dashboard.unit_file_key(unit_id)}.js")
        for path in paths:
            if path.exists():
                path.unlink()
                removed += 1
    return removed


def _buf(scalar) -> memoryview:
    return memoryview(scalar.as_buffer())  # the UTF-8 bytes inside the Arrow array, no copy


class _Strings:
    """The rows of an Arrow string column, as zero-copy slices of its buffers."""

    def __init__(self, column):
        import numpy as np

        self.parts, self.starts = [], [0]
        for chunk in column.chunks:  # DuckDB hands results over in several record batches
            if not len(chunk):
                continue
            _validity, offsets, data = chunk.buffers()
            large = chunk.type == "large_string"
            o = np.frombuffer(offsets, dtype=np.int64 if large else np.int32,
                              count=len(chunk) + 1, offset=chunk.offset * (8 if large else 4))
            self.parts.append((o, memoryview(data)))
            self.starts.append(self.starts[-1] + len(chunk))

    def span(self, start: int, end: int) -> list[memoryview]:
        """Rows [start, end) concatenated: one slice per record batch they lie in."""
        out = []
        for (o, data), lo, hi in zip(self.parts, self.starts, self.starts[1:]):
            a, b = max(start, lo), min(end, hi)
            if a < b:
                out.append(data[o[a - lo]:o[b - lo]])
        return out


def _write_recaps(out: Path, table, runs) -> None:
    """One unit per run of rows [start, end) of the batch table (seq, csv, xml)."""
    csv_rows, xml_rows = _Strings(table.column("csv")), _Strings(table.column("xml"))
    for year, unit_id, start, end in runs:
        for rel, data in recap.unit_recap_files(year, unit_id, end - start,
                                                csv_rows.span(start, end),
                                                xml_rows.span(start, end)):
            write_new(out / "recap" / rel, data)


def _runs(table, names: dict) -> list[tuple]:
    """(year, unit_id, start, end) per unit of a table sorted by `seq`."""
    import numpy as np

    seq = table.column("seq").to_numpy()  # one copy of an int column (chunks joined)
    if not len(seq):
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(seq)) + 1])
    ends = np.concatenate([starts[1:], [len(seq)]])
    if len(set(seq[starts].tolist())) != len(starts):
        raise RuntimeError("recap rows of a unit are not contiguous")  # never: sorted by seq
    return [(*names[int(seq[s])], int(s), int(e)) for s, e in zip(starts, ends)]


def _write_payloads(out: Path, table) -> None:
    for unit_id, payload in zip(table.column("unit_id"), table.column("payload")):
        rel, data = dashboard.unit_file(unit_id.as_py(), _buf(payload))
        write_new(out / "data" / rel, data)


def write_unit_files(con, out: Path, mask_nip: bool, year, batches: int) -> None:
    """Every file of the units in `pub_work`, batch by batch (`dashboard.register_functions`
    must have run on `con`)."""
    recap_sql = recap.unit_recap_sql(mask_nip)
    payload_sql = dashboard.unit_payload_sql(mask_nip, year)
    (out / "data" / "unit").mkdir(parents=True, exist_ok=True)
    names = {seq: (year, unit_id) for seq, year, unit_id in
             con.execute("select seq, year, unit_id from pub_work").fetchall()}
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="publish-writer") as pool:
        pending = []
        for batch in range(batches):
            rows = con.sql(recap_sql, params={"batch": batch}).to_arrow_table()
            payloads = con.sql(payload_sql, params={"batch": batch}).to_arrow_table()
            runs = _runs(rows, names)
            for f in pending:  # the previous batch is written before this one is queued
                f.result()
            half = len(runs) // 2
            pending = [pool.submit(_write_recaps, out, rows, runs[:half]),
                       pool.submit(_write_recaps, out, rows, runs[half:]),
                       pool.submit(_write_payloads, out, payloads)]
            del rows, payloads
        for f in pending:
            f.result()
