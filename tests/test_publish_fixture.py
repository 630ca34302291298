"""A hand-built warehouse with the public tables of WAREHOUSE.md, for the publication tests.

The publication reads only the public marts and `staging.stg_units`, so these tests do not need
the event fold: this builder writes those tables directly (deterministic for a seed), with the
DOMAIN.md rules for ICI, colour, NKO and grade applied here in plain Python. `scale` grows the
tree for size/speed checks (python -m tests.test_publish_fixture OUT.duckdb FANOUT STAFF IKUS).
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

import duckdb
import pyarrow as pa

YEAR = 2026
PERIODS = ("Q1", "Q2", "S1", "Q3", "SDQ3", "Q4", "Y")
COMPOSITE = {"Q1": (1,), "Q2": (2,), "S1": (1, 2), "Q3": (3,), "SDQ3": (1, 2, 3), "Q4": (4,),
             "Y": (1, 2, 3, 4)}
POLARITIES = ("maximize", "minimize", "maximize", "stabilize")
CONSOLIDATIONS = ("sum", "average", "take_last_known", "average")
PERSPECTIVES = ("stakeholder", "customer", "internal_process", "learning_growth")


def consolidate(values, how):
    if any(v is None for v in values):
        return None
    if how == "sum":
        return sum(values)
    if how == "average":
        return sum(values) / len(values)
    return values[-1]


def ici_of(polarity, t, r, tolerance=0.0):
    if r is None or t is None or t <= 0:
        return None
    if polarity == "maximize":
        v = 100 * r / t
    elif polarity == "minimize":
        v = 100 * (2 - r / t)
    else:
        v = 100.0 if abs(r - t) <= tolerance else 100 * (1 - (abs(r - t) - tolerance) / abs(t))
    return max(0.0, min(120.0, v))


def colour_of(ici):
    if ici is None:
        return None
    return "green" if ici >= 100 else "yellow" if ici >= 80 else "red"


def grade_of(nko):
    if nko is None:
        return None
    for bound, grade in ((110, "sangat_baik"), (100, "baik"), (90, "cukup"), (80, "kurang")):
        if nko >= bound:
            return grade
    return "buruk"


def nip(rng):
    # NIP shape: birth date (8) + appointment month (6) + sex (1) + sequence (3)
    return (f"19{rng.randint(60, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"20{rng.randint(0, 20):02d}{rng.randint(1, 12):02d}{rng.randint(1, 2)}{rng.randint(1, 999):03d}")


def build_units(fanout: int):
    """Ministry (0) -> Eselon I (1) -> II (2) -> III (3) -> IV (4), `fanout` children each."""
    units = [("KEMENKEU", None, "Kementerian Keuangan", 0)]
    frontier = [("KEMENKEU", "")]
    names = {1: "Direktorat Jenderal", 2: "Direktorat", 3: "Subdirektorat", 4: "Seksi"}
    for level in range(1, 5):
        nxt = []
        for parent, code in frontier:
            for i in range(1, fanout + 1):
                c = f"{code}{i}" if code else f"{i}"
                uid = f"U{level}-{c}"
                units.append((uid, parent, f"{names[level]} {'.'.join(c)}", level))
                nxt.append((uid, c))
        frontier = nxt
    return units


def build(path: Path, fanout: int = 2, staff: int = 2, ikus: int = 3, seed: int = 11) -> Path:
    rng = random.Random(seed)
    units = build_units(fanout)
    contracts = []  # (contract_id, position_id, unit_id, is_head, parent_contract_id, level)
    head_of = {}
    for uid, parent, _name, level in units:
        cid = f"KK-{uid}-H"
        head_of[uid] = cid
        contracts.append((cid, f"P-{uid}-H", uid, True, head_of.get(parent), level))
        if level == 4:
            for s in range(1, staff + 1):
                contracts.append((f"KK-{uid}-S{s}", f"P-{uid}-S{s}", uid, False, cid, 5))

    unit_of = {c[0]: c[2] for c in contracts}
    lines, ach, nko_rows, resp, edges, findings = [], [], [], [], [], []
    for n, (cid, pos, uid, is_head, parent_cid, level) in enumerate(contracts):
        holder = nip(rng)
        plt = nip(rng) if n % 7 == 3 else None  # a Plt takes over from Q3
        resp.append((YEAR, cid, pos, holder, "definitive", f"{YEAR}-01-02",
                     f"{YEAR}-07-14" if plt else None, 1, 2 if plt else None, f"E-{cid}-S"))
        if plt:
            resp.append((YEAR, cid, pos, plt, "acting", f"{YEAR}-07-15", None, 3, None, f"E-{cid}-P"))
        weights = [round(100 / ikus, 4)] * ikus
        weights[-1] = round(100 - sum(weights[:-1]), 4)
        per_period = {p: [] for p in PERIODS}
        for k in range(ikus):
            code = f"IKU-{k + 1}"
            pol, cons = POLARITIES[k % 4], CONSOLIDATIONS[k % 4]
            base = rng.choice([10, 25, 50, 80, 100, 250])
            if cons == "take_last_known":
                tq = [base * q / 4 for q in (1, 2, 3, 4)]
            else:
                tq = [float(base + rng.randint(0, 5) * q) for q in range(4)]
            ty = consolidate(tq, cons)
            real = [round(t * rng.uniform(0.6, 1.25), 2) for t in tq]
            if n % 5 == 0:
                real[3] = None  # Q4 not reported yet
            tol = 2.0 if pol == "stabilize" else None
            if parent_cid and k == 0:
                ctype, parent_code = "direct", "IKU-1"
            elif parent_cid and k == 1:
                ctype, parent_code = "indirect", "IKU-2"
            else:
                ctype, parent_code = "non_cascading", None
            lines.append((YEAR, cid, pos, uid, code, f"Persentase capaian indikator {code} {uid}",
                          f"SS-{k % 4 + 1}", PERSPECTIVES[k % 4], pol, cons, cons == "take_last_known",
                          "kuantitas", "persen", weights[k], tol, False, *tq, ty, parent_code, ctype, 1,
                          f"E-{cid}-S"))
            if parent_code:
                parent_uid = unit_of[parent_cid]
                edges.append((YEAR, parent_cid, parent_code, cid, code, ctype, parent_uid, uid))
            for p in PERIODS:
                qs = COMPOSITE[p]
                t = ty if p == "Y" else consolidate([tq[q - 1] for q in qs], cons)
                r = consolidate([real[q - 1] for q in qs], cons)
                ici = ici_of(pol, t, r, tol or 0.0)
                who = plt if plt and qs[-1] >= 3 else holder
                ach.append((YEAR, cid, pos, uid, who, code, lines[-1][5], PERSPECTIVES[k % 4], pol,
                            cons, weights[k], p, t, r, ici, colour_of(ici)))
                per_period[p].append((weights[k], ici))
            if real[3] is None:
                findings.append((f"F-{cid}-{code}-Q4", "REALISATION_MISSING", "warning", YEAR, cid,
                                 code, "Q4", None, f"no realisation for {code} Q4"))
        for p in PERIODS:
            scored = [(w, i) for w, i in per_period[p] if i is not None]
            nko = sum(w * i for w, i in scored) / sum(w for w, _ in scored) if scored else None
            nko_rows.append((YEAR, cid, pos, uid, is_head, p, nko, grade_of(nko), len(scored)))
        if n % 13 == 6:  # free-text details can quote a NIP
            findings.append((f"F-{cid}-A", "MISSING_APPROVAL", "error", YEAR, cid, None, None,
                             f"E-{cid}-S", f"KK signed by {holder} without supervisor_nip"))
        if n % 11 == 4:
            findings.append((f"F-{cid}-W", "WEIGHTS_NOT_100", "error", YEAR, cid, None, "Q2", None,
                             "weights sum to 95 in Q2"))

    con = duckdb.connect(str(path))
    con.execute("create schema if not exists staging; create schema if not exists marts")

    def table(name, cols, rows):
        arrays = list(zip(*rows)) if rows else [[] for _ in cols]
        tbl = pa.table({c: pa.array(list(a), type=t) for (c, t), a in zip(cols, arrays)})
        con.register("_src", tbl)
        con.execute(f"create or replace table {name} as select * from _src")
        con.unregister("_src")

    S, D, I, B, F, DT = pa.string(), pa.float64(), pa.int32(), pa.bool_(), pa.float64(), pa.date32()
    import datetime as _dt
    unit_rows = [(u, p, nm, lv, _dt.date(YEAR - 1, 1, 1), None) for u, p, nm, lv in units]
    # an old version of one unit, closed before the as-of date, and a unit dissolved last year
    unit_rows.append((units[1][0], "KEMENKEU", "Old name", 1, _dt.date(YEAR - 3, 1, 1),
                      _dt.date(YEAR - 2, 12, 31)))
    unit_rows.append(("U1-DISSOLVED", "KEMENKEU", "Dissolved unit", 1, _dt.date(YEAR - 3, 1, 1),
                      _dt.date(YEAR - 2, 12, 31)))
    table("staging.stg_units", [("unit_id", S), ("parent_unit_id", S), ("unit_name", S),
                                ("unit_level", I), ("valid_from", DT), ("valid_to", DT)], unit_rows)
    line_cols = [("year", I), ("contract_id", S), ("position_id", S), ("unit_id", S), ("iku_code", S),
                 ("iku_name", S), ("ss_code", S), ("perspective", S), ("polarity", S),
                 ("consolidation", S), ("progress", B), ("aspect", S), ("unit_of_measure", S),
                 ("weight", D), ("tolerance", D), ("target_is_max", B), ("target_q1", D),
                 ("target_q2", D), ("target_q3", D), ("target_q4", D), ("target_y", D),
                 ("parent_iku_code", S), ("cascade_type", S), ("version", I), ("last_event_id", S)]
    table("marts.contract_lines", line_cols, lines)
    table("marts.iku_achievement",
          [("year", I), ("contract_id", S), ("position_id", S), ("unit_id", S), ("holder_nip", S),
           ("iku_code", S), ("iku_name", S), ("perspective", S), ("polarity", S),
           ("consolidation", S), ("weight", D), ("period", S), ("target", D), ("realisation", D),
           ("ici", D), ("colour", S)], ach)
    table("marts.nko", [("year", I), ("contract_id", S), ("position_id", S), ("unit_id", S),
                        ("is_unit_head", B), ("period", S), ("nko", D), ("grade", S),
                        ("iku_scored", I)], nko_rows)
    table("marts.responsibility",
          [("year", I), ("contract_id", S), ("position_id", S), ("holder_nip", S), ("role", S),
           ("from_date", S), ("to_date", S), ("from_quarter", I), ("to_quarter", I),
           ("event_id", S)], resp)
    con.execute("alter table marts.responsibility alter from_date type date; "
                "alter table marts.responsibility alter to_date type date")
    table("marts.cascading_edges",
          [("year", I), ("parent_contract_id", S), ("parent_iku_code", S), ("child_contract_id", S),
           ("child_iku_code", S), ("cascade_type", S), ("parent_unit_id", S), ("child_unit_id", S)],
          edges)
    table("marts.audit_findings",
          [("finding_id", S), ("rule", S), ("severity", S), ("year", I), ("contract_id", S),
           ("iku_code", S), ("period", S), ("event_id", S), ("detail", S)], findings)
    keep_kk_rows(con)
    con.close()
    return path


def keep_kk_rows(con) -> None:
    """What the build keeps for the publication (models/intermediate/int_kk_achievement_rows.sql),
    here from the hand-made marts: call it again after changing them."""
    con.execute("""
        create schema if not exists intermediate;
        create or replace table intermediate.int_kk_achievement_rows as
        select a.year, a.contract_id, a.unit_id, bool_or(h.is_unit_head) as is_unit_head,
               count(*) as achievement_rows
        from marts.iku_achievement a
        join (select distinct contract_id, is_unit_head from marts.nko) h using (contract_id)
        group by all
    """)


def test_fixture_nko_is_weighted_mean_of_icis(tmp_path):
    wh = build(tmp_path / "w.duckdb")
    with duckdb.connect(str(wh), read_only=True) as con:
        bad = con.execute("""
            select count(*) from marts.nko n join (
                select contract_id, period, sum(weight * ici) / sum(weight) as nko
                from marts.iku_achievement where ici is not null group by all) a using (contract_id, period)
            where abs(n.nko - a.nko) > 1e-9""").fetchone()[0]
        kks = con.execute("select count(distinct contract_id) from marts.nko").fetchone()[0]
    assert bad == 0
    assert kks == 31 + 16 * 2  # 31 unit heads (1+2+4+8+16) plus 2 staff per Eselon IV unit


if __name__ == "__main__":
    out, fan, staff, ikus = Path(sys.argv[1]), *map(int, sys.argv[2:5])
    build(out, fan, staff, ikus)
    print(out)
