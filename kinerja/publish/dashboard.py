"""The offline dashboard: index.html + assets/ + data/tree.js + data/unit/<unit>.js.

Opened from disk (file://) with no server, so data cannot be fetch()ed (Chromium blocks fetch on
file://). Every data file is a JSONP-style script instead: `window.KINERJA.tree({...})` for the
small unit tree loaded at start, and `window.KINERJA.load(unit_id, {...})` per unit, appended as a
<script> tag only when the reader opens that unit. At ministry scale (80,000 KKs, ~7 M
achievement rows) the start page therefore loads only the tree (units and unit NKO per period).

The JSON is built inside DuckDB (json_object / list aggregates), one unit per row, in hash batches
so memory stays bounded; Python only writes the strings to files.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from kinerja.publish.atomic import write_new
from kinerja.publish.masking import mask_text, nip_sql
from kinerja.publish.source import PERIOD_ORDER_SQL, PERIODS, latest_period, require_marts

STATIC_DIR = Path(__file__).with_name("static")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def unit_file_key(unit_id: str) -> str:
    """A file-system-safe, collision-free name for a unit's data file."""
    safe = _SAFE.sub("_", unit_id)[:80]
    if safe != unit_id or safe.lower() in {"con", "nul", "prn", "aux"}:
        safe += "-" + hashlib.sha1(unit_id.encode()).hexdigest()[:8]
    return safe


def _periods_list_sql(expr_by_period: str) -> str:
    """[expr for Q1, ..., expr for Y] as a DuckDB list, from a `{p}`-templated expression."""
    return "[" + ", ".join(expr_by_period.format(p=p) for p in PERIODS) + "]"


def dashboard_year(con):
    """The year the dashboard shows: the latest year with KKs (past years stay in the recap)."""
    return con.execute("select max(year) from marts.nko").fetchall()[0][0]


def _year_sql(year) -> str:
    return "null" if year is None else str(int(year))


def _setup(con, year) -> None:
    """Temp tables of the dashboard (`pub_units` must exist: `source.create_units_view`)."""
    require_marts(con, "nko", "iku_achievement", "contract_lines", "cascading_edges",
                  "audit_findings")
    y = _year_sql(year)
    # Units that KKs name but the unit feed does not know: shown as extra roots, never dropped.
    con.execute(f"""
        create or replace temp table pub_tree_units as
        select * from pub_units
        union all
        select distinct unit_id, null, unit_id || ' (unit tidak dikenal)', null, false
        from marts.nko where year = {y} and unit_id not in (select unit_id from pub_units)
    """)
    # The KK heading a unit per period. After a komplemen both the predecessor's and the
    # successor's KK are is_unit_head; each has rows only for its own periods, and where both
    # have one the successor (a contract in marts.komplemen_targets) wins.
    has_komplemen = bool(con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema='marts' and table_name='komplemen_targets'").fetchall()[0][0])
    successors = ("select distinct contract_id from marts.komplemen_targets" if has_komplemen
                  else "select null::varchar as contract_id where false")
    con.execute(f"""
        create or replace temp table pub_unit_nko as
        select unit_id, period,
               arg_max(contract_id, (contract_id in ({successors}))::int * 2 - (nko is null)::int) as contract_id,
               arg_max(nko, (contract_id in ({successors}))::int * 2 - (nko is null)::int) as nko,
               arg_max(grade, (contract_id in ({successors}))::int * 2 - (nko is null)::int) as grade
        from marts.nko where is_unit_head and year = {y}
        group by unit_id, period
    """)
    con.execute(f"""
        create or replace temp table pub_kk_unit as
        select contract_id, any_value(unit_id) as unit_id from marts.nko where year = {y}
        group by contract_id
    """)
    con.execute("""
        create or replace temp table pub_findings as
        select f.*, k.unit_id from marts.audit_findings f join pub_kk_unit k using (contract_id)
    """)


def create_links(con, rendered: str | None = None) -> None:
    """`pub_up`, `pub_down`: the cascading links of every IKU line of the dashboard year's KKs
    (pub_kk_unit), upwards (parents) and downwards (children), for the KKs' dashboard JSON; past
    years are not in the dashboard. `rendered` (a subquery of contract_ids): only those KKs' links,
    when a night renders a few thousand KKs (units.create_render_sources)."""
    def only(column: str) -> str:
        return "" if rendered is None else f"and {column} in {rendered}"

    con.execute(f"""
        create or replace temp table pub_up as
        select child_contract_id as contract_id, child_iku_code as iku_code,
               to_json(list(json_array(parent_contract_id, parent_iku_code, parent_unit_id,
                                       cascade_type) order by parent_contract_id)) as parents
        from marts.cascading_edges
        where child_contract_id in (select contract_id from pub_kk_unit)
              {only("child_contract_id")}
        group by all
    """)
    con.execute(f"""
        create or replace temp table pub_down as
        select parent_contract_id as contract_id, parent_iku_code as iku_code,
               to_json(list(json_array(child_contract_id, child_iku_code, child_unit_id, cascade_type)
                            order by child_unit_id, child_contract_id, child_iku_code)) as children
        from marts.cascading_edges
        where parent_contract_id in (select contract_id from pub_kk_unit)
              {only("parent_contract_id")}
        group by all
    """)


def _tree(con, meta: dict) -> dict:
    rows = con.execute(f"""
        with kk as (select unit_id, count(distinct contract_id) as n from pub_kk_unit group by unit_id),
        fi as (select unit_id, count(*) filter (where severity = 'error') as e,
                      count(*) filter (where severity <> 'error') as w
               from pub_findings group by unit_id),
        un as (select unit_id,
                      {_periods_list_sql("round(max(nko) filter (where period = '{p}'), 6)")} as v,
                      {_periods_list_sql("max(grade) filter (where period = '{p}')")} as g,
                      {_periods_list_sql("max(contract_id) filter (where period = '{p}')")} as h
               from pub_unit_nko group by unit_id)
        select u.unit_id, u.parent_unit_id, u.unit_name, u.unit_level, u.closed,
               coalesce(kk.n, 0), coalesce(fi.e, 0), coalesce(fi.w, 0), un.v, un.g, un.h
        from pub_tree_units u left join kk using (unit_id) left join fi using (unit_id)
        left join un using (unit_id)
        order by u.unit_level nulls last, u.unit_name, u.unit_id
    """).fetchall()
    units = []
    for uid, parent, name, level, closed, n_kk, n_err, n_warn, v, g, h in rows:
        units.append({"id": uid, "p": parent, "n": name, "l": level, "x": bool(closed),
                      "f": unit_file_key(uid) if n_kk else None, "k": n_kk, "e": n_err, "w": n_warn,
                      "v": v or [None] * len(PERIODS), "g": g or [None] * len(PERIODS),
                      "h": h or [None] * len(PERIODS)})
    return {"meta": meta, "periods": list(PERIODS), "units": units}


def _period_object_sql(value_by_period: str) -> str:
    """A JSON object text `{"Q1":<v>,...}` with a key per period that has a value, in report
    order, from a `{p}`-templated aggregate that is null for a period without rows: one filtered
    aggregate per period instead of an ordered list() (a sort per group)."""
    return ("'{' || concat_ws(',', " + ", ".join(
        f"""'"{p}":' || ({value_by_period.format(p=p)})""" for p in PERIODS) + ") || '}'")


def _with_members_sql(obj: str, members: list[tuple[str, str]]) -> str:
    """The JSON object text `obj` (compact, as DuckDB writes it) with `members` (key, JSON text)
    appended. JSON parts are put together as text: json_object() parses a JSON argument again,
    and the KK object holds its lines, which hold their achievements."""
    return (f"left({obj}, -1) || " + " || ".join(f"""',"{key}":' || {value}""" for key, value in members)
            + " || '}'")


def unit_payload_sql(mask_nip: bool, year) -> str:
    """One row per KK rendered in batch `$batch` of `pub_unit_kk` in the dashboard year (read from
    the render sources of `units.create_render_sources`):
    (kid, JSON of the KK with its lines, achievements and cascading links, its findings as
    comma-separated JSON objects or null). `units.py` puts them together into the unit's file.

    Keys are in a fixed order (report order for periods), so the same warehouse always publishes
    byte-identical files."""
    latest = PERIOD_ORDER_SQL.format(col='a.period')
    line_scalars = """json_object(
                   'c', coalesce(ach.iku_code, cl.iku_code),
                   'n', coalesce(cl.iku_name, ach.iku_name),
                   'ps', coalesce(cl.perspective, ach.perspective),
                   'pol', coalesce(cl.polarity, ach.polarity),
                   'cons', coalesce(cl.consolidation, ach.consolidation),
                   'uom', cl.unit_of_measure,
                   'w', round(coalesce(cl.weight, ach.weight), 6),
                   'tq', [round(cl.target_q1, 6), round(cl.target_q2, 6), round(cl.target_q3, 6),
                          round(cl.target_q4, 6)],
                   'ty', round(cl.target_y, 6),
                   'ct', cl.cascade_type,
                   'v', cl.version)::varchar"""
    line = _with_members_sql(line_scalars, [
        ("a", "coalesce(ach.per, '{}')"), ("up", "coalesce(up.parents::varchar, '[]')"),
        ("down", "coalesce(down.children::varchar, '[]')")])
    # {"id":..,"pos":..,"head":..,"hp":{..},"v":[..],"g":[..],"s":[..],"lines":[..]}: the KK's
    # members aggregated from its NKO rows and its holders (short texts) first; its lines (long)
    # are appended to the one row per KK after, never copied through an aggregate
    kk_members = f"""json_object(
                   'id', n.contract_id,
                   'pos', any_value(n.position_id),
                   'head', bool_or(n.is_unit_head),
                   'hp', coalesce(any_value(h.hp), '{{}}'::json),
                   'v', {_periods_list_sql("round(max(n.nko) filter (where n.period = '{p}'), 6)")},
                   'g', {_periods_list_sql("max(n.grade) filter (where n.period = '{p}')")},
                   's', {_periods_list_sql("max(n.iku_scored) filter (where n.period = '{p}')")}
               )::varchar"""
    kk = _with_members_sql("n.members", [("lines", "coalesce(kl.lines, '[]')")])
    return f"""
    with kk_sel as (
        select kid, unit_id, contract_id from pub_unit_kk
        where batch = $batch and render and year = {_year_sql(year)}
    ),
    ach as (
        select a.contract_id, a.iku_code,
               {_period_object_sql("max(json_array(round(a.target, 6), round(a.realisation, 6), "
                                   "round(a.ici, 6), a.colour)::varchar) filter (where a.period = '{p}')")}
                   as per,
               -- the latest period's attributes (an addendum can change them mid-year)
               arg_max(a.iku_name, {latest}) as iku_name,
               arg_max(a.perspective, {latest}) as perspective,
               arg_max(a.polarity, {latest}) as polarity,
               arg_max(a.consolidation, {latest}) as consolidation,
               arg_max(a.weight, {latest}) filter (where a.weight is not null) as weight
        from pub_src_iku_achievement a
        where a.contract_id in (select contract_id from kk_sel)
        group by a.contract_id, a.iku_code
    ),
    cl as (
        select l.* from pub_src_contract_lines l
        where l.contract_id in (select contract_id from kk_sel)
    ),
    lines as (
        select coalesce(ach.contract_id, cl.contract_id) as contract_id,
               coalesce(ach.iku_code, cl.iku_code) as iku_code,
               {line} as j
        from ach full join cl on cl.contract_id = ach.contract_id and cl.iku_code = ach.iku_code
        left join pub_up up on up.contract_id = coalesce(ach.contract_id, cl.contract_id)
                    and up.iku_code = coalesce(ach.iku_code, cl.iku_code)
        left join pub_down down on down.contract_id = coalesce(ach.contract_id, cl.contract_id)
                      and down.iku_code = coalesce(ach.iku_code, cl.iku_code)
    ),
    holders as (  -- the accountable holder per period (a Plt can differ from Q3 on)
        select contract_id,
               to_json(map_from_entries(list(struct_pack(k := period, v := {nip_sql('holder_nip', mask_nip)})
                                             order by {PERIOD_ORDER_SQL.format(col='period')}))) as hp
        from (select contract_id, period, min(holder_nip) as holder_nip  -- one per KK and period
              from pub_src_iku_achievement
              where contract_id in (select contract_id from kk_sel)
              group by contract_id, period)
        group by contract_id
    ),
    kl as (
        select contract_id, '[' || string_agg(j, ',' order by iku_code) || ']' as lines
        from lines group by all
    ),
    kk_nko as (
        select n.unit_id, n.contract_id, {kk_members} as members
        from pub_src_nko n left join holders h using (contract_id)
        where (n.unit_id, n.contract_id) in (select (unit_id, contract_id) from kk_sel)
              and n.year = {_year_sql(year)}
        group by n.unit_id, n.contract_id
    ),
    kks as (
        select n.unit_id, n.contract_id, {kk} as j
        from kk_nko n left join kl using (contract_id)
    ),
    fnd as (  -- a KK's findings; the dashboard orders a unit's findings itself (app.js)
        select unit_id, contract_id,
               string_agg(json_object('id', finding_id, 'r', rule, 's', severity,
                                      'kk', contract_id, 'i', iku_code, 'p', period,
                                      'd', {'kinerja_mask_text(detail)' if mask_nip else 'detail'}
                                      )::varchar, ','
                          order by severity, rule, iku_code, period, finding_id) as f
        from pub_findings
        where (unit_id, contract_id) in (select (unit_id, contract_id) from kk_sel)
        group by all
    )
    select s.kid, k.j as j, fnd.f
    from kk_sel s join kks k using (unit_id, contract_id) left join fnd using (unit_id, contract_id)
    order by s.kid
    """


def register_functions(con) -> None:
    # finding details are free text that may quote a NIP: masked with the one text rule
    try:
        con.create_function("kinerja_mask_text", mask_text, ["VARCHAR"], "VARCHAR")
    except duckdb.CatalogException:
        pass  # registered by an earlier publish on this connection


def unit_file_frame(unit_id: str) -> tuple[bytes, bytes, bytes]:
    """What a unit's dashboard file (data/unit/<key>.js) holds around its KKs' JSON objects and
    around their findings: `window.KINERJA.load(<unit id>, {"kks":[`, `],"findings":[`, `]});`."""
    return (f'window.KINERJA.load({json.dumps(unit_id)}, {{"kks":['.encode("utf-8"),
            b'],"findings":[', b"]});\n")


def _meta(con, as_of: date | None, check_report, mask_nip: bool, data_docs: str | None,
          year) -> dict:
    verdict = getattr(check_report, "verdict", None) if check_report is not None else None
    warnings = list(getattr(check_report, "warnings", None) or [])
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "year": year,
        "verdict": verdict or "unknown",
        # GE warning lines can quote sample values: the same NIP rule as every other output
        "warnings": [mask_text(str(w)) if mask_nip else str(w) for w in warnings[:50]],
        "n_warnings": len(warnings),
        "data_docs": data_docs,
        "masked": mask_nip,
        "default_period": latest_period(con),
    }


def write_dashboard(con, out_dir: Path, as_of: date | None, check_report, mask_nip: bool = True,
                    data_docs: str | None = "data-docs/index.html", year=None) -> list[Path]:
    """The dashboard's global files: data/tree.js, index.html, assets/ (needs `_setup`).

    The unit files (data/unit/<key>.js) are written by `kinerja.publish.units`.
    """
    data_dir = out_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    tree = _tree(con, _meta(con, as_of, check_report, mask_nip, data_docs, year))
    write_new(data_dir / "tree.js", (
        "window.KINERJA.tree(" + json.dumps(tree, separators=(",", ":"), ensure_ascii=False)
        + ");\n").encode("utf-8"))
    for name in ("app.js", "style.css"):
        write_new(out_dir / "assets" / name, (STATIC_DIR / name).read_bytes())
    write_new(out_dir / "index.html", (STATIC_DIR / "index.html").read_bytes())
    return [out_dir / "index.html", data_dir / "tree.js"]
