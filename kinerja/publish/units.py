"""The per-unit files of a publication: recap/<year>/<unit>.csv and .xlsx, data/unit/<unit>.js.

A unit's files are its KKs' pieces in the unit's KK order (`fragments.py`). `plan_work` lists the
units to write (`pub_work`: every (year, unit) for a full publication, the changed ones for an
incremental one) and their KKs in file order (`pub_unit_kk`), marking which KKs are rendered now;
the others are copied from the previous night's files at the offsets of its fragment index.
Units are processed in batches of about ROWS_PER_BATCH rendered achievement rows: per batch
DuckDB renders, in two queries over `create_render_sources`, each rendered KK's CSV lines and
sheet XML (`recap.py`) and its dashboard JSON (`dashboard.py`); writer threads compress and
assemble the units' files (deflate releases the GIL) while DuckDB renders the next batch. At most
two batches are in memory.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kinerja.publish import dashboard, fragments, recap
from kinerja.publish.atomic import Range, nbytes, write_new
from kinerja.publish.fragments import Segment

ROWS_PER_BATCH = 300_000  # rendered achievement rows per batch (bounds DuckDB's and Python's memory)
# the marts a batch renders from (`create_render_sources`)
RENDER_SOURCES = ("iku_achievement", "nko", "contract_lines")
# an incremental publication copies the rendered KKs' rows when they are at most this many
# achievement rows (~200 bytes each in memory); more (a night past a rule date recomputes a
# whole year) are read from the marts, as a full publication does
MAX_COPIED_ROWS = 1_000_000
UNIT_WEIGHT = 200  # rows a unit counts for in a batch even when nothing in it is rendered
WRITERS = 2
_OFFSETS = fragments.COLUMNS[3:]  # csv_off ... jsf_len


def _create_old_index(con, old_index: Path | None) -> None:
    """`pub_old`: the previous night's fragment index (empty for a full publication)."""
    con.execute("""
        create or replace temp table pub_old (year integer, unit_id varchar, contract_id varchar,
            csv_off bigint, csv_len bigint, xml_off bigint, xml_len bigint, xml_crc bigint,
            xml_raw bigint, js_off bigint, js_len bigint, jsf_off bigint, jsf_len bigint)
    """)
    if old_index is not None:
        path = str(old_index).replace("'", "''")
        con.execute(f"insert into pub_old select {', '.join(fragments.COLUMNS)} "
                    f"from read_parquet('{path}')")


def plan_work(con, old_index: Path | None = None) -> int:
    """Fill `pub_work(year, unit_id, n, seq, batch)` and `pub_unit_kk` (every KK of those units
    in file order: `kid`; `render`; its pieces in the previous files); returns the batch count.

    Full (`old_index` None): every (year, unit) of `pub_kk`, every KK rendered. Incremental: the
    units of `pub_todo`; a KK is rendered when it is in `pub_dirty`, has no piece in the previous
    index, or its unit is over Excel's row limit (a workbook split into sheets is rendered whole).
    """
    _create_old_index(con, old_index)
    todo = "pub_todo" if old_index is not None else "pub_kk"
    render = "true" if old_index is None else f"""(
        k.contract_id in (select contract_id from pub_dirty) or o.contract_id is null
        or o.xml_off is null or k.unit_rows > {int(recap.XLSX_MAX_DATA_ROWS)})"""
    con.execute(f"""
        create or replace temp table pub_unit_kk as
        with units as (select distinct year, unit_id from {todo}),
        unit_rows as (select year, unit_id, sum(achievement_rows)::bigint as n
                      from pub_kk group by all),
        work as (select year, unit_id, coalesce(r.n, 0) as unit_rows,
                        (row_number() over (order by year, unit_id))::integer as seq
                 from units left join unit_rows r using (year, unit_id)),
        k as (select w.seq, w.unit_rows, p.year, p.unit_id, p.contract_id,
                     coalesce(p.is_unit_head, false) as head, p.achievement_rows as rows
              from pub_kk p join work w using (year, unit_id))
        select k.*, {render} as render,
               -- the file order: head KK first, then contract_id
               (row_number() over (order by k.seq, k.head desc, k.contract_id))::integer as kid,
               {', '.join(f'o.{c}' for c in _OFFSETS)}
        from k left join pub_old o using (year, unit_id, contract_id)
    """)
    # batches by what is rendered (a kept KK costs a copy, not a query)
    con.execute(f"""
        create or replace temp table pub_work as
        with units as (select distinct year, unit_id from {todo}),
        weight as (select seq, any_value(year) as year, any_value(unit_id) as unit_id,
                          any_value(unit_rows) as n,
                          sum(rows) filter (where render) + {UNIT_WEIGHT} as w
                   from pub_unit_kk group by seq)
        select u.year, u.unit_id, coalesce(w.n, 0) as n, w.seq,
               (coalesce(sum(w.w) over (order by w.seq rows between unbounded preceding
                                        and 1 preceding), 0) // {ROWS_PER_BATCH})::integer as batch
        from units u left join weight w using (year, unit_id)
    """)
    con.execute("""
        create or replace temp table pub_unit_kk as
        select k.*, w.batch from pub_unit_kk k join pub_work w using (seq)
    """)
    return con.execute("select coalesce(max(batch) + 1, 0) from pub_work").fetchall()[0][0]


def create_render_sources(con, incremental: bool) -> None:
    """`pub_src_<mart>` for each of RENDER_SOURCES: what the batches' rendering queries read.

    Every batch's two queries filter the marts by the KKs they render. In a full publication
    those are every KK, and the sources are the marts themselves (views). A night renders a few
    thousand KKs: their rows are copied once, one scan of each mart, instead of each batch's
    queries scanning whole marts that hold every year kept."""
    rendered = con.execute("select coalesce(sum(rows), 0) from pub_unit_kk where render"
                           ).fetchall()[0][0]
    copy = incremental and rendered <= MAX_COPIED_ROWS
    rendered_kks = "(select contract_id from pub_unit_kk where render)"
    dashboard.create_links(con, rendered_kks if copy else None)
    for mart in RENDER_SOURCES:
        if copy:
            con.execute(f"""
                create or replace temp table pub_src_{mart} as
                select * from marts.{mart} where contract_id in {rendered_kks}
            """)
        else:
            con.execute(f"create or replace temp view pub_src_{mart} as select * from marts.{mart}")


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
            self.parts.append((o, memoryview(data) if data is not None else memoryview(b"")))
            self.starts.append(self.starts[-1] + len(chunk))

    def span(self, start: int, end: int) -> list[memoryview]:
        """Rows [start, end) concatenated: one slice per record batch they lie in."""
        out = []
        for (o, data), lo, hi in zip(self.parts, self.starts, self.starts[1:]):
            a, b = max(start, lo), min(end, hi)
            if a < b and o[b - lo] > o[a - lo]:
                out.append(data[o[a - lo]:o[b - lo]])
        return out


def _runs(kids) -> dict[int, tuple[int, int]]:
    """kid -> [start, end) of its rows in a table sorted by kid."""
    import numpy as np

    kids = kids.to_numpy()  # one copy of an int column (chunks joined)
    if not len(kids):
        return {}
    starts = np.concatenate([[0], np.flatnonzero(np.diff(kids)) + 1])
    ends = np.concatenate([starts[1:], [len(kids)]])
    runs = {int(kids[s]): (int(s), int(e)) for s, e in zip(starts, ends)}
    if len(runs) != len(starts):
        raise RuntimeError("rows of a KK are not contiguous")  # never: sorted by kid
    return runs


class _Batch:
    """What DuckDB rendered for one batch: per rendered KK its recap rows and dashboard JSON."""

    def __init__(self, rows, payloads):
        self.csv, self.xml = _Strings(rows.column("csv")), _Strings(rows.column("xml"))
        self.row_runs = _runs(rows.column("kid"))
        self.kk_json, self.findings = _Strings(payloads.column("j")), _Strings(payloads.column("f"))
        self.json_row = {k: i for i, k in enumerate(payloads.column("kid").to_pylist())}
        self.tables = (rows, payloads)  # keeps the buffers alive while writers slice them


def _pieces(kk: dict, batch: _Batch, old: "_OldFiles") -> tuple:
    """(CSV buffers, XML segment or None, KK JSON buffers or None, findings buffers) of one KK."""
    if not kk["render"]:
        return (old.slice("csv", kk["csv_off"], kk["csv_len"]),
                Segment(old.slice("xlsx", kk["xml_off"], kk["xml_len"])[0],
                        kk["xml_crc"], kk["xml_raw"]) if kk["xml_len"] else None,
                old.slice("js", kk["js_off"], kk["js_len"]) if kk["js_off"] is not None else None,
                old.slice("js", kk["jsf_off"], kk["jsf_len"]) if kk["jsf_off"] is not None else [])
    start, end = batch.row_runs.get(kk["kid"], (0, 0))
    row = batch.json_row.get(kk["kid"])
    return (batch.csv.span(start, end), None if start == end else batch.xml.span(start, end),
            None if row is None else batch.kk_json.span(row, row + 1),
            [] if row is None else batch.findings.span(row, row + 1))


class _OldFiles:
    """The previous night's files of one unit, opened on first use; a kept KK's pieces are
    `Range`s of them (copied by the kernel when the new file is written)."""

    def __init__(self, prev: Path | None, year, unit_id):
        self.paths = {} if prev is None else {
            "csv": prev / "recap" / recap.recap_file(year, unit_id, "csv"),
            "xlsx": prev / "recap" / recap.recap_file(year, unit_id, "xlsx"),
            "js": prev / "data" / "unit" / f"{dashboard.unit_file_key(unit_id)}.js"}
        self.fds: dict[str, tuple[int, int]] = {}  # kind -> (fd, size)

    def slice(self, kind: str, off: int, length: int) -> list[Range]:
        if kind not in self.fds:
            fd = os.open(self.paths[kind], os.O_RDONLY)
            self.fds[kind] = (fd, os.fstat(fd).st_size)
        fd, size = self.fds[kind]
        if off + length > size:
            raise RuntimeError(f"{self.paths[kind]} is shorter than recap/fragments.parquet says: "
                               "the previous publication was changed by hand; run a full "
                               "publication (publish(..., incremental_ok=False))")
        return [Range(fd, off, length)] if length else []

    def close(self) -> None:
        for fd, _size in self.fds.values():
            os.close(fd)
        self.fds.clear()


def _length(buffers) -> int:
    return sum(nbytes(b) for b in buffers)


def _write_unit(out: Path, prev: Path | None, year, unit_id, rows: int, kks: list[dict],
                batch: _Batch, dashboard_year) -> list[tuple]:
    """Assemble and write one unit's files; returns its fragment index rows."""
    old = _OldFiles(prev, year, unit_id)
    try:
        return _assemble_unit(out, year, unit_id, rows, kks, batch, old, dashboard_year)
    finally:
        old.close()


def _assemble_unit(out, year, unit_id, rows, kks, batch, old, dashboard_year) -> list[tuple]:
    pieces = [_pieces(kk, batch, old) for kk in kks]
    index = {kk["contract_id"]: dict.fromkeys(_OFFSETS) for kk in kks}
    if rows:
        csv_chunks, pos = [recap.CSV_HEADER.encode()], len(recap.CSV_HEADER.encode())
        for kk, (csv_part, *_rest) in zip(kks, pieces):
            index[kk["contract_id"]].update(csv_off=pos, csv_len=_length(csv_part))
            csv_chunks += csv_part
            pos += _length(csv_part)
        write_new(out / "recap" / recap.recap_file(year, unit_id, "csv"), csv_chunks)
        _write_workbook(out, year, unit_id, rows, kks, pieces, index)
    if year == dashboard_year and any(p[2] is not None for p in pieces):
        _write_dashboard_unit(out, unit_id, kks, pieces, index)
    return [(year, unit_id, cid, *(v[c] for c in _OFFSETS)) for cid, v in index.items()]


def _write_workbook(out, year, unit_id, rows, kks, pieces, index) -> None:
    from kinerja.publish.xlsx import split_rows, workbook

    if rows <= recap.XLSX_MAX_DATA_ROWS:
        segments, owners = [], []
        for kk, (_csv, xml, _j, _f) in zip(kks, pieces):
            if xml is None:
                index[kk["contract_id"]].update(xml_len=0, xml_crc=0, xml_raw=0)
                continue
            seg = xml if isinstance(xml, Segment) else fragments.deflate(xml)
            segments.append(seg)
            owners.append(kk["contract_id"])
            index[kk["contract_id"]].update(xml_len=nbytes(seg.data), xml_crc=seg.crc,
                                             xml_raw=seg.raw)
        chunks, offsets = workbook(list(recap.COLUMNS), [(recap.sheet_title(year, 1), segments, rows)],
                                   recap.XLSX_WIDTHS)
        for cid, off in zip(owners, offsets[0]):
            index[cid]["xml_off"] = off
        for kk in kks:  # a KK without rows sits where the next one starts (length 0)
            if index[kk["contract_id"]]["xml_off"] is None:
                index[kk["contract_id"]]["xml_off"] = 0
    else:  # over Excel's sheet limit: split into sheets, rendered whole every night (no offsets)
        xml = [b for _csv, x, _j, _f in pieces if x is not None for b in x]
        sheets = [(recap.sheet_title(year, i + 1), [fragments.deflate(x)], k)
                  for i, (x, k) in enumerate(split_rows(xml, rows, recap.XLSX_MAX_DATA_ROWS))]
        chunks, _offsets = workbook(list(recap.COLUMNS), sheets, recap.XLSX_WIDTHS)
    write_new(out / "recap" / recap.recap_file(year, unit_id, "xlsx"), chunks)


def _write_dashboard_unit(out, unit_id, kks, pieces, index) -> None:
    head, middle, tail = dashboard.unit_file_frame(unit_id)
    chunks, pos = [head], len(head)
    first = True
    for kk, (_csv, _xml, kk_json, _f) in zip(kks, pieces):
        if kk_json is None:
            continue
        if not first:
            chunks.append(b",")
            pos += 1
        first = False
        index[kk["contract_id"]].update(js_off=pos, js_len=_length(kk_json))
        chunks += kk_json
        pos += _length(kk_json)
    chunks.append(middle)
    pos += len(middle)
    first = True
    for kk, (_csv, _xml, kk_json, found) in zip(kks, pieces):
        if kk_json is None:
            continue
        if found and not first:
            chunks.append(b",")
            pos += 1
        first = first and not found
        index[kk["contract_id"]].update(jsf_off=pos, jsf_len=_length(found))
        chunks += found
        pos += _length(found)
    chunks.append(tail)
    write_new(out / "data" / "unit" / f"{dashboard.unit_file_key(unit_id)}.js", chunks)


def _write_units(out, prev, units: list[tuple], batch: _Batch, dashboard_year) -> list[tuple]:
    rows = []
    for year, unit_id, n, kks in units:
        rows += _write_unit(out, prev, year, unit_id, n, kks, batch, dashboard_year)
    return rows


def _units_of_batch(con, b: int) -> list[tuple]:
    """(year, unit_id, rows, [KK dicts in file order]) of the units of batch `b`."""
    cur = con.execute(f"""
        select seq, year, unit_id, unit_rows, kid, contract_id, render, {', '.join(_OFFSETS)}
        from pub_unit_kk where batch = ? order by kid""", [b])
    names = [d[0] for d in cur.description]
    units: dict[int, tuple] = {}
    for values in cur.fetchall():
        kk = dict(zip(names, values))
        unit = units.setdefault(kk["seq"], (kk["year"], kk["unit_id"], kk["unit_rows"], []))
        unit[3].append(kk)
    return list(units.values())


def write_unit_files(con, out: Path, mask_nip: bool, year, batches: int,
                     prev: Path | None = None) -> None:
    """Every file of the units in `pub_work`, batch by batch, then recap/fragments.parquet
    (`dashboard.register_functions` must have run on `con`). `prev` is the previous night's
    publication whose files hold the pieces of the KKs not rendered."""
    import pyarrow as pa

    create_render_sources(con, incremental=prev is not None)
    recap_sql = recap.unit_recap_sql(mask_nip)
    payload_sql = dashboard.unit_payload_sql(mask_nip, year)
    (out / "data" / "unit").mkdir(parents=True, exist_ok=True)
    index_rows: list[tuple] = []
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="publish-writer") as pool:
        pending = []
        for b in range(batches):
            units = _units_of_batch(con, b)
            batch = _Batch(con.sql(recap_sql, params={"batch": b}).to_arrow_table(),
                           con.sql(payload_sql, params={"batch": b}).to_arrow_table())
            for f in pending:  # the previous batch is written before this one is queued
                index_rows += f.result()
            half = len(units) // 2
            pending = [pool.submit(_write_units, out, prev, part, batch, year)
                       for part in (units[:half], units[half:]) if part]
            del batch
        for f in pending:
            index_rows += f.result()
    new = pa.Table.from_pylist([dict(zip(fragments.COLUMNS, r)) for r in index_rows],
                               schema=con.sql("select * from pub_old limit 0").to_arrow_table().schema)
    con.register("pub_new_index", new)
    try:
        table = con.sql("""
            select o.* from pub_old o anti join pub_work w using (year, unit_id)
            union all select * from pub_new_index
            order by year, unit_id, contract_id
        """).to_arrow_table()
    finally:
        con.unregister("pub_new_index")
    fragments.write_index(out / fragments.INDEX, table)
