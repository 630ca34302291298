"""The nightly IKU recap: one row per (unit, KK, IKU, period), as CSV, XLSX and a terminal table.

Rows come from `marts.iku_achievement` joined to the KK's `marts.nko` for the same period and to
the unit tree at the as-of date. One SQL query (`recap_sql`) defines the rows for every format, so
the CSVs, the workbooks and `kinerja recap` can never disagree. The recap is published per unit and
year (recap/<year>/<unit>.csv and .xlsx, listed in recap/index.csv). The holder's NIP is masked in
SQL with the rule of `masking.py`.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from kinerja.publish.masking import nip_sql
from kinerja.publish.source import (LEVEL_NAMES, PERIOD_ORDER_SQL, PERIODS, connect,
                                    create_units_view, latest_period, require_marts)

COLUMNS = ("year", "unit_level", "unit_id", "unit_name", "position_id", "contract_id",
           "is_unit_head", "holder_nip", "iku_code", "iku_name", "perspective", "weight", "period",
           "target", "realisation", "ici", "colour", "kk_nko", "kk_grade")
NUMERIC = {"weight", "target", "realisation", "ici", "kk_nko"}

# Excel's sheet limit is 1,048,576 rows; a level bigger than that continues on "<name> (2)".
XLSX_MAX_DATA_ROWS = 1_048_575  # a module constant so a test can lower it
FETCH_ROWS = 20_000


def recap_sql(mask_nip: bool = True, where: str = "", source: str = "marts.iku_achievement",
              ordered: bool = True, nko: str = "marts.nko", unit_columns: bool = True) -> str:
    """The recap rows (needs the temp table `pub_units` of `source.create_units_view`).
    `unit_columns` False: unit_level and unit_name are null (a caller that takes them per unit)."""
    order = (f"""order by u.unit_level nulls last, a.unit_id, coalesce(n.is_unit_head, false) desc,
                 a.contract_id, a.iku_code, {PERIOD_ORDER_SQL.format(col='a.period')}"""
             if ordered else "")
    return f"""
        select a.year, {'u.unit_level' if unit_columns else 'null'} as unit_level, a.unit_id,
               {'u.unit_name' if unit_columns else 'null'} as unit_name, a.position_id, a.contract_id,
               coalesce(n.is_unit_head, false) as is_unit_head,
               {nip_sql('a.holder_nip', mask_nip)} as holder_nip,
               a.iku_code, a.iku_name, a.perspective, a.weight, a.period,
               a.target, a.realisation, a.ici, a.colour,
               n.nko as kk_nko, n.grade as kk_grade
        from {source} a
        left join {nko} n on n.contract_id = a.contract_id and n.period = a.period
        {'left join pub_units u on u.unit_id = a.unit_id' if unit_columns else ''}
        {where}
        {order}
    """


def _prepare(con, as_of: date | None) -> None:
    require_marts(con, "iku_achievement", "nko")
    create_units_view(con, as_of)


def recap_file(year, unit_id: str | None, ext: str) -> str:
    """Path of a unit's recap file, relative to recap/: `<year>/<unit key>.<ext>`."""
    from kinerja.publish.dashboard import unit_file_key

    return f"{year}/{unit_file_key(unit_id) if unit_id is not None else '_unknown'}.{ext}"


def sheet_title(year, part: int) -> str:
    base = f"Rekap IKU {year}"
    return base if part == 1 else f"{base} ({part})"


XLSX_KINDS = {**{c: "number" for c in NUMERIC}, "year": "int", "unit_level": "int",
              "is_unit_head": "bool",
              # closed sets of the spec (the blocking checks hold the marts to them): their
              # values never need XML escaping, which is most of the cost of rendering a row
              **{c: "code" for c in ("perspective", "period", "colour", "kk_grade")}}
XLSX_WIDTHS = {"unit_name": 36, "iku_name": 48, "holder_nip": 20, "unit_id": 16, "position_id": 20,
               "contract_id": 16, "perspective": 16, "kk_grade": 12}
CSV_HEADER = ",".join(COLUMNS) + "\n"


def _csv_field_sql(col: str, kind: str) -> str:
    """One CSV field (RFC 4180: quoted only when it holds a comma, quote or line break)."""
    c = f'"{col}"'
    if kind == "bool":
        return f"coalesce(case when {c} then 'true' else 'false' end, '')"
    if kind not in ("text", "code"):
        return f"coalesce(cast({c} as varchar), '')"
    v = f"cast({c} as varchar)"
    # four contains() are ten times faster than one regexp_matches('[",\r\n]') (6.4 M rows x 11
    # text columns in a full publication)
    special = " or ".join(f"contains({v}, {ch})" for ch in ("','", "'\"'", "chr(10)", "chr(13)"))
    return (f"coalesce(case when {special} "
            f"then '\"' || replace({v}, '\"', '\"\"') || '\"' else {v} end, '')")


# The leading columns that hold one value per rendered KK (`pub_unit_kk.kid`: one year, unit and
# contract; unit_level and unit_name are the unit's in `pub_units`). They are rendered once per KK
# instead of once per row: text is most of a row's rendering cost. position_id (column 5) is
# rendered per row, as the mart gives it.
_KK_HEAD = ("year", "unit_level", "unit_id", "unit_name")
_KK_ID = "contract_id"


def _kinds(columns) -> list[tuple[str, str]]:
    return [(c, XLSX_KINDS.get(c, "text")) for c in columns]


def _csv_cells_sql(columns) -> str:
    """The CSV fields of `columns` with the commas between them, as arguments of a concat()."""
    return ", ',', ".join(_csv_field_sql(c, k) for c, k in _kinds(columns))


def unit_recap_sql(mask_nip: bool) -> str:
    """The recap rows of the KKs rendered in batch `$batch` (`pub_unit_kk`, read from the render
    sources of `units.create_render_sources`), each as its CSV line and its `<row>` XML, in file
    order: by `kid` (unit, head KK first, contract_id), IKU, period.

    Rows, not one aggregate per KK: a KK's lines are then contiguous in DuckDB's Arrow output and
    its piece is one slice of the buffer (`units.py`). Sorting first and rendering after keeps
    the rows' rendered strings out of the sort (only the short per-KK heads ride along). The same
    columns and the same bytes as `recap_sql` (tests/test_publish.py reads the files back).
    """
    from kinerja.publish.xlsx import row_xml_sql

    assert COLUMNS[:6] == (*_KK_HEAD, "position_id", _KK_ID)
    rest = COLUMNS[6:]
    base = recap_sql(mask_nip, source="""(select * from pub_src_iku_achievement
                                          where (year, unit_id, contract_id) in (
                                              select (year, unit_id, contract_id) from kk))""",
                     ordered=False, nko="pub_src_nko", unit_columns=False)
    csv_line = (f"concat(r.csv_head, {_csv_cells_sql(['position_id'])}, r.csv_id, "
                f"{_csv_cells_sql(rest)}, chr(10))")
    xml_line = (f"concat('<row>', r.xml_head, {row_xml_sql(_kinds(['position_id']), bare=True)}, "
                f"r.xml_id, {row_xml_sql(_kinds(rest), bare=True)}, '</row>')")
    return f"""
        with kk as (  -- the KKs of the batch, their leading cells rendered once
            select k.kid, k.year, k.unit_id, k.contract_id,
                   concat({_csv_cells_sql(_KK_HEAD)}, ',') as csv_head,
                   concat(',', {_csv_cells_sql([_KK_ID])}, ',') as csv_id,
                   {row_xml_sql(_kinds(_KK_HEAD), bare=True)} as xml_head,
                   {row_xml_sql(_kinds([_KK_ID]), bare=True)} as xml_id
            from (select k.kid, k.year, k.unit_id, k.contract_id, u.unit_level, u.unit_name
                  from pub_unit_kk k left join pub_units u on u.unit_id = k.unit_id
                  where k.batch = $batch and k.render) k
        )
        select r.kid, {csv_line} as csv, {xml_line} as xml
        from (select r.*, k.kid, k.csv_head, k.csv_id, k.xml_head, k.xml_id
              from ({base}) r join kk k using (year, unit_id, contract_id)
              order by k.kid, iku_code, {PERIOD_ORDER_SQL.format(col='period')}) r
    """


INDEX_COLUMNS = ("year", "unit_level", "unit_id", "unit_name", "parent_unit_id", "kks", "rows",
                 "csv", "xlsx")


def write_indexes(con, out_dir: Path) -> list[Path]:
    """recap/index.csv (one line per unit and year: names, counts, its two files) and
    recap/kk_index.csv (year, contract_id, unit_id: where each KK is published).

    Both are global files, rewritten every night. kk_index.csv is also how an incremental
    publication finds the unit a changed KK was published under before it moved.
    """
    import csv

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = con.execute("""
        select k.year, u.unit_level, k.unit_id, u.unit_name, u.parent_unit_id,
               count(distinct k.contract_id), sum(k.achievement_rows)::bigint
        from pub_kk k left join pub_units u using (unit_id)
        group by all order by k.year, u.unit_level nulls last, k.unit_id
    """).fetchall()
    index = out_dir / "index.csv"
    index.unlink(missing_ok=True)  # never write into a file hard-linked from the previous night
    with open(index, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(INDEX_COLUMNS)
        for year, level, uid, name, parent, kks, n in rows:
            w.writerow([year, level, uid, name, parent, kks, n, recap_file(year, uid, "csv"),
                        recap_file(year, uid, "xlsx")])
    kk = out_dir / "kk_index.csv"
    kk.unlink(missing_ok=True)
    target = str(kk).replace("'", "''")
    con.execute(f"copy (select year, contract_id, unit_id from pub_kk order by all) "
                f"to '{target}' (header, delimiter ',')")
    return [index, kk]


# ---------------------------------------------------------------- terminal table (kinerja recap)

def _fmt(value, width: int = 0, numeric: bool = False) -> str:
    if value is None:
        text = "-"
    elif numeric:
        text = f"{value:,.2f}"
    elif isinstance(value, bool):
        text = "head" if value else ""
    else:
        text = str(value)
    return text.rjust(width) if numeric else text.ljust(width)


TERMINAL_COLUMNS = (  # (recap column, heading, max width)
    ("unit_id", "unit", 14), ("unit_level", "lvl", 3), ("position_id", "position", 26),
    ("is_unit_head", "", 4), ("holder_nip", "holder_nip", 18), ("iku_code", "iku", 12),
    ("iku_name", "iku_name", 36), ("target", "target", 12), ("realisation", "realisasi", 12),
    ("ici", "ICI", 7), ("colour", "colour", 6), ("kk_nko", "NKO", 7), ("kk_grade", "grade", 11),
)


def print_recap(warehouse, unit: str | None = None, period: str | None = None,
                as_of: date | None = None, mask_nip: bool = True, out: TextIO | None = None) -> int:
    """Print the recap of one period (default: the latest with realisations) as an aligned table.

    `unit` keeps the KKs of that unit only. Returns the number of rows printed. Unknown unit or
    period raise `BatchFailed`, which the CLI turns into a one-line message and exit status 1.
    """
    from kinerja.batch import BatchFailed
    from kinerja.publish.source import WarehouseMissing

    out = out or sys.stdout
    if period is not None:
        period = period.upper()
        if period not in PERIODS:
            raise BatchFailed(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    try:
        with connect(warehouse) as con:
            _prepare(con, as_of)
            if unit is not None:
                found = con.execute(
                    "select unit_name, unit_level from pub_units where unit_id = ?", [unit]).fetchone()
                has_kk = con.execute("select count(*) from marts.iku_achievement where unit_id = ?",
                                     [unit]).fetchone()[0]
                if found is None and not has_kk:
                    raise BatchFailed(f"unknown unit {unit!r}")
            chosen = period or latest_period(con, unit)
            if chosen is None:
                print("no IKU achievements in the warehouse yet", file=out)
                return 0
            conds = ["a.period = ?"] + (["a.unit_id = ?"] if unit else [])
            params = [chosen] + ([unit] if unit else [])
            return _print_table(con, "where " + " and ".join(conds), params, chosen, unit,
                                mask_nip, out)
    except WarehouseMissing as exc:
        raise BatchFailed(str(exc)) from exc


def _print_table(con, where: str, params: list, period: str, unit: str | None, mask_nip: bool,
                 out: TextIO) -> int:
    sql = recap_sql(mask_nip, where)
    names = [c for c, _, _ in TERMINAL_COLUMNS]
    # Column widths from the data (one aggregate pass), capped, so rows stream without buffering.
    lengths = con.execute(
        "select " + ", ".join(
            f"max(length(coalesce(cast({c} as varchar), '-')))" if c not in NUMERIC
            else f"max(abs({c}))"
            for c in names) + f", count(*), count(distinct contract_id) from ({sql})", params
    ).fetchone()
    n_rows, n_kk = lengths[-2], lengths[-1]
    widths = []
    for i, (c, h, cap) in enumerate(TERMINAL_COLUMNS):
        longest = len(f"{-lengths[i]:,.2f}") if c in NUMERIC and lengths[i] is not None else lengths[i]
        widths.append(max(len(h), min(cap, longest or 1)))
    if unit:
        head = con.execute("select unit_name, unit_level from pub_units where unit_id = ?",
                           [unit]).fetchone()
        title = f"IKU recap {period} — unit {unit}" + (
            f" {head[0]} ({LEVEL_NAMES.get(head[1], head[1])})" if head else "")
    else:
        title = f"IKU recap {period} — all units"
    print(title, file=out)
    print(f"{n_rows} IKU rows in {n_kk} KKs; NIPs {'masked' if mask_nip else 'in clear'}", file=out)
    if not n_rows:
        return 0
    print("  ".join(h.rjust(w) if c in NUMERIC else h.ljust(w)
                    for (c, h, _), w in zip(TERMINAL_COLUMNS, widths)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    idx = [COLUMNS.index(c) for c in names]
    cur = con.execute(sql, params)
    while batch := cur.fetchmany(FETCH_ROWS):
        for row in batch:
            cells = []
            for (c, _, _), w, i in zip(TERMINAL_COLUMNS, widths, idx):
                text = _fmt(row[i], w, c in NUMERIC)
                cells.append(text if len(text) <= w else text[: w - 1] + "…")
            print("  ".join(cells).rstrip(), file=out)
    return n_rows
