"""The synthetic landing zone: deterministic, in the contract's format, realistic, rule-covering."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinerja.generate import generate_landing
from kinerja.generate.komplemen import predecessor_realisation, remaining_targets
from kinerja.paths import EXAMPLES_DIR

EXAMPLE = EXAMPLES_DIR / "komplemen-worked-examples" / "landing"
YEAR = 2026
VALID_EVENTS = ("ce_0*.parquet", "ce_90*.parquet")
VALID_REPORTS = ("re_0*.parquet", "re_90*.parquet")
NIP = re.compile(r"^(19|20)\d{6}(19|20)\d{4}[12]\d{3}$")


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small") / "landing"
    return out, generate_landing("small", YEAR, 11, out)


def _glob(landing: Path, feed: str, patterns) -> list[str]:
    return [str(p) for pat in patterns for p in sorted((landing / feed).glob(pat))]


def events(landing: Path) -> list[dict]:
    rows = []
    for f in _glob(landing, "contract_events", VALID_EVENTS):
        rows += pq.read_table(f).to_pylist()
    return rows


def reports(landing: Path) -> list[dict]:
    rows = []
    for f in _glob(landing, "realisations", VALID_REPORTS):
        rows += pq.read_table(f).to_pylist()
    return rows


def consolidate(values: list, consolidation: str):
    given = [v for v in values if v is not None]
    if not given:
        return None
    if consolidation == "sum":
        return sum(given)
    if consolidation == "average":
        return sum(given) / len(given)
    return given[-1]


def consistent(line: dict) -> bool:
    quarters = [line[f"target_q{q}"] for q in (1, 2, 3, 4)]
    expected = consolidate(quarters, line["consolidation"])
    if expected is None or line["target_y"] is None:
        return expected is None and line["target_y"] is None
    if not math.isclose(line["target_y"], expected, rel_tol=1e-6, abs_tol=1e-9):
        return False
    if line["consolidation"] == "take_last_known" and line["progress"]:
        given = [v for v in quarters if v is not None]
        return all(a <= b for a, b in zip(given, given[1:]))
    return True


# --- determinism and format ------------------------------------------------------------------

def _file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    first = generate_landing("tiny", YEAR, 3, tmp_path / "a")
    again = generate_landing("tiny", YEAR, 3, tmp_path / "b")
    other = generate_landing("tiny", YEAR, 4, tmp_path / "c")
    assert first == again
    a, b, c = (_file_bytes(tmp_path / d) for d in "abc")
    assert a == b and len(a) == first["files"]
    differing = [name for name in a if a[name] != c.get(name)]
    assert "contract_events/ce_01_signed_DJPB.parquet" in differing
    assert "realisations/re_01_Q1.parquet" in differing
    assert other != first


def test_rerun_replaces_earlier_output_and_nothing_else(tmp_path):
    (tmp_path / "contract_events").mkdir()
    stale = tmp_path / "contract_events" / "ce_01_signed_DJP.parquet"  # from a ministry run
    foreign = tmp_path / "contract_events" / "README.txt"
    stale.write_bytes(b"old"), foreign.write_text("kept")
    stats = generate_landing("tiny", YEAR, 5, tmp_path)
    assert not stale.exists() and foreign.read_text() == "kept"
    assert len(list(tmp_path.rglob("*.parquet"))) == stats["files"]


def test_schemas_equal_the_example_files(tiny_landing):
    for feed in ("contract_events", "realisations", "units"):
        expected = pq.read_schema(next((EXAMPLE / feed).glob("*.parquet")))
        files = [p for p in sorted((tiny_landing / feed).glob("*.parquet"))
                 if "missing" not in p.name]
        assert files
        for path in files:
            schema = pq.read_schema(path)
            assert schema.names == expected.names, path
            for field in expected:
                if field.name == "lines":
                    ours = schema.field("lines").type.value_type
                    theirs = field.type.value_type
                    # the example predates the optional target_is_max field (EVENTS.md)
                    assert [f.name for f in ours if f.name != "target_is_max"] == [
                        f.name for f in theirs]
                    assert ours.field("target_is_max").type == "bool"
                    for f in theirs:
                        assert ours.field(f.name).type == f.type, (path, f.name)
                    assert schema.field("lines").type.value_field.name == "element"
                else:
                    assert schema.field(field.name).type == field.type, (path, field.name)


def test_units_keep_the_history_of_a_reorganisation(small_landing):
    con = duckdb.connect()
    closed = con.execute(
        f"select unit_id, valid_from, valid_to from read_parquet('{small_landing[0]}/units/*') "
        "where valid_to is not null order by unit_id").fetchall()
    assert len(closed) == 2 and all(v_to < date(YEAR, 1, 1) for _, _, v_to in closed)
    renamed = con.execute(
        f"select count(*) from read_parquet('{small_landing[0]}/units/*') "
        f"where unit_id = '{closed[0][0]}'").fetchone()[0]
    assert renamed == 2
    dissolved = closed[1][0]
    assert dissolved.endswith("-ARSIP")
    assert not any(e["unit_id"] == dissolved for e in events(small_landing[0]))


def test_missing_column_file_lacks_a_required_column(tiny_landing):
    schema = pq.read_schema(tiny_landing / "realisations" / "re_98_missing_value_column.parquet")
    assert "value" not in schema.names and "report_id" in schema.names


# --- shape ---------------------------------------------------------------------------------

def _units_per_level(landing: Path) -> Counter:
    con = duckdb.connect()
    rows = con.execute(f"select level, count(*) from read_parquet('{landing}/units/*.parquet') "
                       "where valid_to is null group by level").fetchall()
    return Counter(dict(rows))


def test_tiny_shape(tiny_landing):
    levels = _units_per_level(tiny_landing)
    assert [levels[k] for k in range(4)] == [1, 1, 2, 4] and 4 <= levels[4] <= 8
    signed = [e for e in events(tiny_landing) if e["event_type"] == "signed"]
    assert 40 <= len(signed) <= 60
    assert Counter(e["position_level"] for e in signed)[5] >= 25


def test_small_shape_and_shares(small_landing):
    landing, stats = small_landing
    levels = _units_per_level(landing)
    assert levels[0] == 1 and levels[1] == 1 and levels[2] == 8
    assert 40 <= levels[3] <= 56 and 120 <= levels[4] <= 168
    rows = events(landing)
    by_type = Counter(e["event_type"] for e in rows)
    n_kk = by_type["signed"]
    assert 1700 <= n_kk <= 2300
    assert by_type["signed"] == stats["signed"] and len(rows) == stats["events"]
    assert 0.07 <= by_type["addendum"] / n_kk <= 0.09
    assert 0.045 <= by_type["komplemen"] / n_kk <= 0.055
    acting = sum(1 for e in rows if e["reason"] == "acting")
    assert 0.008 <= acting / n_kk <= 0.02
    staff = [e for e in rows if e["event_type"] == "signed" and e["position_level"] == 5]
    assert all(not e["is_unit_head"] for e in staff)
    heads = [e for e in rows if e["event_type"] == "signed" and e["position_level"] < 5]
    assert all(e["is_unit_head"] for e in heads) and len(heads) == sum(levels.values())

    n_reports = stats["realisations"]
    assert 3.0 * stats["lines"] * 0.9 <= n_reports <= 4 * stats["lines"]
    assert 0.02 <= stats["corrections"] / n_reports <= 0.04
    assert 0.02 <= stats["late_reports"] / n_reports <= 0.04
    assert 0.004 <= stats["bad_rows"] / (n_reports + len(rows)) <= 0.007


@pytest.mark.parametrize("which", ["tiny", "small"])
def test_lines_weights_and_trajectories(which, tiny_landing, small_landing):
    landing = tiny_landing if which == "tiny" else small_landing[0]
    rows = events(landing)
    signed = [e for e in rows if e["event_type"] == "signed"]
    assert all(8 <= len(e["lines"]) <= 15 for e in signed)
    for e in signed:
        codes = [line["iku_code"] for line in e["lines"]]
        assert len(set(codes)) == len(codes)
    off_100 = [e for e in signed if abs(sum(l["weight"] for l in e["lines"]) - 100) > 0.01]
    assert 1 <= len(off_100) <= max(2, 0.01 * len(signed))  # WEIGHTS_NOT_100, on purpose

    lines = [line for e in signed for line in e["lines"]]
    bad = [line for line in lines if not consistent(line)]
    assert 1 <= len(bad) <= max(3, 0.01 * len(lines))       # TRAJECTORY_INCONSISTENT, on purpose
    upserts = [line for e in rows if e["event_type"] == "addendum" for line in e["lines"]
               if line["op"] == "upsert"]
    assert upserts and all(consistent(line) for line in upserts)
    assert all(line["weight"] > 0 for line in lines + upserts)


def _state(rows):
    """Lines per KK after its addenda, as the weights in force from each quarter."""
    kk_lines = {e["contract_id"]: {l["iku_code"]: dict(l, since=1) for l in e["lines"]}
                for e in rows if e["event_type"] in ("signed", "komplemen")}
    return kk_lines


def test_weights_in_force_stay_100_after_addenda(small_landing):
    rows = events(small_landing[0])
    weights = {}
    for e in rows:
        if e["event_type"] == "signed":
            weights[e["contract_id"]] = {l["iku_code"]: l["weight"] for l in e["lines"]}
    changed = 0
    for e in sorted((e for e in rows if e["event_type"] == "addendum"),
                    key=lambda e: (e["effective_date"], e["recorded_at"])):
        before = weights[e["contract_id"]]
        if abs(sum(before.values()) - 100) > 0.01:
            continue
        for line in e["lines"]:
            if line["op"] == "remove":
                before.pop(line["iku_code"])
            else:
                before[line["iku_code"]] = line["weight"]
        changed += 1
        assert abs(sum(before.values()) - 100) <= 0.01, e["event_id"]
    assert changed > 100


def test_cascading_follows_the_tree(small_landing):
    rows = events(small_landing[0])
    signed = {e["contract_id"]: e for e in rows if e["event_type"] == "signed"}
    lines_of = {k: {l["iku_code"]: l for l in e["lines"]} for k, e in signed.items()}
    children = defaultdict(list)
    orphans = 0
    for kk, e in signed.items():
        if e["position_level"] == 0:
            assert e["parent_contract_id"] is None
            continue
        parent = signed[e["parent_contract_id"]]
        assert parent["position_level"] == e["position_level"] - 1
        for line in e["lines"]:
            if line["cascade_type"] == "non_cascading":
                assert line["parent_iku_code"] is None
                continue
            parent_line = lines_of[parent["contract_id"]].get(line["parent_iku_code"])
            if parent_line is None:
                orphans += 1
                continue
            children[(parent["contract_id"], line["parent_iku_code"])].append(line)
    n_lines = sum(len(v) for v in lines_of.values())
    assert 1 <= orphans <= 0.005 * n_lines  # CASCADE_ORPHAN, on purpose

    kinds = Counter()
    sum_short = multi = differs = 0
    for (kk, code), kids in children.items():
        parent = lines_of[kk][code]
        types = {k["cascade_type"] for k in kids}
        kinds.update(types)
        if types == {"direct"}:
            if len(kids) > 1:
                multi += 1
            trajectory = lambda l: [l[f"target_q{q}"] for q in (1, 2, 3, 4)] + [l["target_y"]]
            differs += sum(trajectory(k) != trajectory(parent) for k in kids)
        else:
            assert types == {"indirect"} and len(kids) >= 2
            if parent["consolidation"] == "sum":
                if sum(k["target_y"] for k in kids) < parent["target_y"] - 1e-9:
                    sum_short += 1
    assert kinds["direct"] > 50 and kinds["indirect"] > 50
    assert 1 <= multi <= 0.01 * len(children)  # CASCADE_DIRECT_MULTI, on purpose
    assert 1 <= differs <= 0.02 * kinds["direct"]  # CASCADE_TARGET_MISMATCH, on purpose
    assert sum_short == 0


# --- coverage of every rule in tiny --------------------------------------------------------

def test_tiny_covers_every_case(tiny_landing):
    rows = events(tiny_landing)
    reasons = {(e["event_type"], e["reason"]) for e in rows}
    for expected in [("signed", r) for r in ("annual", "returning", "transfer_in", "new_cpns")] + [
            ("addendum", r) for r in ("apbn_change", "semester_target_met", "regulation",
                                      "minister_policy", "staffing_change", "other")] + [
            ("komplemen", r) for r in ("mutation", "promotion", "reorganisation", "returning")] + [
            ("plt_transfer", "acting"), ("plt_transfer", "return")]:
        assert expected in reasons
    lines = [line for e in rows for line in e["lines"]]
    assert {l["polarity"] for l in lines} >= {"maximize", "minimize", "stabilize"}
    assert {l["consolidation"] for l in lines} >= {"sum", "average", "take_last_known"}
    tlk = [l for l in lines if l["consolidation"] == "take_last_known"]
    assert {l["progress"] for l in tlk} == {True, False}
    assert any(l["polarity"] == "stabilize" and (l["tolerance"] or 0) > 0 for l in lines)
    assert any(l["target_is_max"] for l in lines)
    assert {l["cascade_type"] for l in lines} >= {"direct", "indirect", "non_cascading"}
    assert {l["op"] for l in lines} >= {None, "upsert", "remove"}
    assert any(e["supervisor_nip"] is None and e["position_level"] > 0 for e in rows)

    signed_lines = {(e["contract_id"], l["iku_code"]): l for e in rows
                    if e["event_type"] == "signed" for l in e["lines"]}
    added = revises_past = 0
    for e in (e for e in rows if e["event_type"] == "addendum"):
        q = int(e["effective_period"][1])
        for line in e["lines"]:
            old = signed_lines.get((e["contract_id"], line["iku_code"]))
            if old is None:
                added += 1
            elif line["op"] == "upsert" and any(
                    line[f"target_q{k}"] != old[f"target_q{k}"] for k in range(1, q)):
                revises_past += 1
    assert added >= 1 and revises_past >= 1
    late_signed = [e for e in rows if e["event_type"] == "signed" and e["reason"] == "new_cpns"
                   and e["effective_date"] > date(YEAR, 10, 18)]
    assert late_signed  # KK_AFTER_CUTOFF
    assert any(e["effective_date"] > date(YEAR, 10, 18) for e in rows
               if e["event_type"] == "komplemen")

    reps = reports(tiny_landing)
    keys = Counter((r["contract_id"], r["iku_code"], r["quarter"]) for r in reps)
    assert any(n > 1 for n in keys.values())  # a correction
    quarter_end = {f"Q{q}": date(YEAR, 3 * q, 31 if q in (1, 4) else 30) for q in (1, 2, 3, 4)}
    delays = [(r["reported_at"].date() - quarter_end[r["quarter"]]).days for r in reps]
    assert min(delays) > 0 and any(d > 15 for d in delays)  # after quarter end; late filings
    assert all(NIP.match(r["reporter_nip"]) for r in reps)
    assert all(math.isfinite(r["value"]) and r["value"] >= 0 for r in reps)
    assert any(r["value"] == 0 for r in reps) or len(reps) < 3000


def _event_defects(row: dict, accepted: dict) -> set[str]:
    """An independent reading of EVENTS.md's quarantine rules for one contract event."""
    required = ("event_id", "event_type", "contract_id", "year", "position_id", "position_level",
                "unit_id", "is_unit_head", "holder_nip", "effective_date", "recorded_at")
    found = set()
    if any(row[c] is None for c in required) or any(
            l["weight"] is None for l in row["lines"] if l["op"] != "remove"):
        found.add("missing_required")
    if row["event_type"] not in ("signed", "addendum", "komplemen", "plt_transfer") or (
            row["reason"] not in (None, "annual", "returning", "transfer_in", "new_cpns",
                                  "apbn_change", "semester_target_met", "regulation",
                                  "minister_policy", "staffing_change", "other", "mutation",
                                  "promotion", "reorganisation", "acting", "return")) or any(
            l["polarity"] not in (None, "maximize", "minimize", "stabilize")
            or l["consolidation"] not in (None, "sum", "average", "take_last_known")
            for l in row["lines"]):
        found.add("bad_enum")
    if row["holder_nip"] is not None and not re.fullmatch(r"\d{18}", row["holder_nip"]):
        found.add("malformed_nip")
    if row["year"] is not None and not 2000 <= row["year"] <= 2100:
        found.add("year_out_of_range")
    numbers = [l[f] for l in row["lines"] for f in ("weight", "target_q1", "target_q2",
                                                    "target_q3", "target_q4", "target_y")]
    if any(v is not None and not math.isfinite(v) for v in numbers):
        found.add("non_finite")
    if not row["lines"] and row["event_type"] in ("signed", "komplemen"):
        found.add("empty_lines")
    codes = [l["iku_code"] for l in row["lines"]]
    if len(set(codes)) < len(codes):
        found.add("repeated_iku_code")
    if (row["event_type"] != "signed" and row["effective_date"] is not None
            and row["year"] is not None and row["effective_date"].year != row["year"]):
        found.add("effective_date_outside_year")
    if row["event_id"] in accepted:
        found.add("identical_duplicate" if accepted[row["event_id"]] == row
                  else "conflicting_duplicate")
    return found


def test_bad_rows_cover_every_quarantine_kind(tiny_landing):
    accepted = {e["event_id"]: e for e in events(tiny_landing)}
    assert all(not _event_defects(e, {}) for e in accepted.values())
    bad = pq.read_table(tiny_landing / "contract_events" / "ce_99_bad_rows.parquet").to_pylist()
    kinds = Counter()
    for row in bad:
        defects = _event_defects(row, accepted)
        assert len(defects) == 1, (row["event_id"], defects)
        kinds.update(defects)
    assert set(kinds) == {"missing_required", "bad_enum", "malformed_nip", "year_out_of_range",
                          "non_finite", "empty_lines", "repeated_iku_code",
                          "effective_date_outside_year", "conflicting_duplicate",
                          "identical_duplicate"}

    valid = {r["report_id"]: r for r in reports(tiny_landing)}
    bad_reps = pq.read_table(tiny_landing / "realisations" / "re_99_bad_rows.parquet").to_pylist()
    report_kinds = Counter()
    for r in bad_reps:
        if r["report_id"] in valid:
            report_kinds["identical" if valid[r["report_id"]] == r else "conflicting"] += 1
        elif any(r[c] is None for c in ("value", "contract_id", "quarter", "reported_at",
                                        "iku_code")):
            report_kinds["missing"] += 1
        elif r["quarter"] not in ("Q1", "Q2", "Q3", "Q4"):
            report_kinds["enum"] += 1
        elif not re.fullmatch(r"\d{18}", r["reporter_nip"]):
            report_kinds["nip"] += 1
        else:
            assert not math.isfinite(r["value"])
            report_kinds["non_finite"] += 1
    assert set(report_kinds) == {"identical", "conflicting", "missing", "enum", "nip",
                                 "non_finite"}


# --- komplemen -----------------------------------------------------------------------------

def test_remaining_targets_reproduce_the_regulation_examples():
    # DOMAIN.md section 6, h = 3: (trajectory, Y, consolidation, progress, R_prev) -> Q3, Q4, Y
    cases = [
        ([70, 80, 80, 90], 80, "average", False, 75, [80, 90], 85),
        ([10, 20, 25, 35], 90, "sum", False, 25, [25, 35], 60),
        ([10, 20, 25, 35], 90, "sum", False, 40, [15, 35], 50),
        ([10, 30, 55, 90], 90, "take_last_known", True, 10, [25, 60], 60),
        ([10, 30, 55, 90], 90, "take_last_known", True, 40, [15, 50], 50),
        ([100, 100, 100, 100], 100, "take_last_known", False, 99, [100, 100], 100),
    ]
    for traj, y, cons, progress, r_prev, quarters, y_rest in cases:
        q, rest = remaining_targets(np.array([traj], float), np.array([y], float),
                                    np.array([cons]), np.array([progress]), np.array([3]),
                                    np.array([r_prev], float))
        assert np.isnan(q[0, :2]).all() and q[0, 2:].tolist() == quarters, cons
        assert rest[0] == y_rest
    # an excess larger than the next quarter spills over; handover in Q1 keeps everything
    q, rest = remaining_targets(np.array([[10, 10, 5, 20]], float), np.array([45.0]),
                                np.array(["sum"]), np.array([False]), np.array([3]),
                                np.array([30.0]))
    assert q[0, 2:].tolist() == [0, 15] and rest[0] == 15
    q, rest = remaining_targets(np.array([[10, 30, 55, 90]], float), np.array([90.0]),
                                np.array(["take_last_known"]), np.array([True]),
                                np.array([1]), np.array([0.0]))
    assert q[0].tolist() == [10, 30, 55, 90] and rest[0] == 90


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=4, max_size=4), st.integers(1, 4),
       st.floats(0, 300, allow_nan=False))
def test_sum_remaining_quarters_add_up_to_the_remaining_year(quarters, handover, r_prev):
    q, rest = remaining_targets(np.array([quarters], float), np.array([float(sum(quarters))]),
                                np.array(["sum"]), np.array([False]), np.array([handover]),
                                np.array([0.0 if handover == 1 else r_prev]))
    assert (q[0, handover - 1:] >= 0).all() and rest[0] >= 0
    assert math.isclose(q[0, handover - 1:].sum(), rest[0], abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=4, max_size=4), st.integers(1, 4),
       st.floats(0, 150, allow_nan=False))
def test_cumulative_remaining_year_is_the_remaining_last_quarter(quarters, handover, r_prev):
    trajectory = np.maximum.accumulate(np.array(quarters, float))
    q, rest = remaining_targets(trajectory[None, :], trajectory[-1:], np.array(["take_last_known"]),
                                np.array([True]), np.array([handover]),
                                np.array([0.0 if handover == 1 else r_prev]))
    assert rest[0] == q[0, 3] and (np.diff(q[0, handover - 1:]) >= 0).all()


def test_cli_generate_prints_the_counts(tmp_path, capsys):
    from kinerja.cli import main

    assert main(["generate", "--scale", "tiny", "--year", "2025", "--seed", "2",
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("wrote tiny landing zone for 2025 (seed 2)") and "bad_rows" in printed
    years = {e["year"] for e in events(tmp_path)}
    assert years == {2025}


def test_predecessor_realisation_rules():
    values = np.array([[3, np.nan, 9, 9], [70, 80, 1, 1], [np.nan, 20, 5, 5], [5, 6, 7, 8]])
    reported = ~np.isnan(values)
    cons = np.array(["sum", "average", "take_last_known", "average"])
    got = predecessor_realisation(values, reported, cons, np.array([3, 3, 2, 1]))
    assert got[0] == 3 and got[1] == 75 and np.isnan(got[2]) and got[3] == 0


def test_declared_komplemen_targets_mostly_follow_the_rule(small_landing):
    """Recompute the rule from the landing files alone and compare with what was declared."""
    rows = events(small_landing[0])
    signed = {e["contract_id"]: {l["iku_code"]: l for l in e["lines"]}
              for e in rows if e["event_type"] == "signed"}
    latest = {}
    for r in sorted(reports(small_landing[0]), key=lambda r: r["reported_at"]):
        latest[(r["contract_id"], r["iku_code"], int(r["quarter"][1]))] = r["value"]
    verdict = Counter()
    for e in (e for e in rows if e["event_type"] == "komplemen"):
        h = (e["effective_date"].month - 1) // 3 + 1
        for line in e["lines"]:
            prev = signed[e["replaces_contract_id"]][line["iku_code"]]
            t = [prev[f"target_q{q}"] for q in (1, 2, 3, 4)]
            seen = [latest.get((e["replaces_contract_id"], line["iku_code"], q))
                    for q in range(1, h) if t[q - 1] is not None]
            seen_values = [v for v in seen if v is not None]
            cons = prev["consolidation"]
            if h == 1:
                r_prev = 0.0
            elif cons == "sum":
                r_prev = sum(seen_values)
            elif not seen_values:
                r_prev = None
            else:
                r_prev = consolidate(seen_values, cons)
            if cons == "sum":
                done = sum(v or 0 for v in t[: h - 1])
                y = prev["target_y"] - max(r_prev, done)
            elif cons == "average":
                y = consolidate(t[h - 1:], "average")
            elif line["progress"]:
                floor = max(r_prev if r_prev is not None else -math.inf,
                            t[h - 2] if h > 1 else 0)
                y = prev["target_y"] - floor
            else:
                y = prev["target_y"]
            y = max(y, 0.0)
            assert all(line[f"target_q{q}"] is None for q in range(1, h))
            if line["target_y"] is None:
                verdict["not declared"] += 1
            elif math.isclose(line["target_y"], y, rel_tol=1e-6, abs_tol=1e-9):
                verdict["rule"] += 1
            else:
                verdict["mismatch"] += 1
    total = sum(verdict.values())
    assert verdict["rule"] >= 0.7 * total
    assert 0 < verdict["mismatch"] <= 0.05 * total
    assert 0 < verdict["not declared"] <= 0.25 * total


def test_realisations_match_targets_in_force(small_landing):
    rows = events(small_landing[0])
    created = {e["contract_id"]: e for e in rows if e["event_type"] in ("signed", "komplemen")}
    signed_target = {(kk, l["iku_code"]): l for kk, e in created.items() for l in e["lines"]}
    unknown = 0
    reps = reports(small_landing[0])
    for r in reps:
        line = signed_target.get((r["contract_id"], r["iku_code"]))
        if line is None:
            unknown += 1
            continue
        assert r["reported_at"].date() > date(YEAR, 3 * int(r["quarter"][1]), 28)
    assert unknown <= 0.002 * len(reps)  # REALISATION_UNKNOWN_IKU and lines added by addenda
    values = np.array([r["value"] for r in reps])
    assert np.isfinite(values).all() and (values >= 0).all()
    assert 0.001 <= (values == 0).mean() <= 0.03


def test_nips_are_realistic_and_unique_per_person(small_landing):
    rows = events(small_landing[0])
    holders = [e["holder_nip"] for e in rows if e["event_type"] in ("signed", "komplemen")]
    assert all(NIP.match(n) for n in holders)
    for nip in holders[:200]:
        date(int(nip[:4]), int(nip[4:6]), int(nip[6:8]))  # a real birth date
        assert int(nip[8:12]) - int(nip[:4]) >= 18
    repeated = [n for n, k in Counter(holders).items() if k > 1]
    # only a Plt who signs the KK of the position they act in holds two KKs
    assert len(repeated) <= 0.01 * len(holders)


def test_semester_target_met_addenda_raise_y_above_the_s1_realisation(small_landing):
    rows = events(small_landing[0])
    signed = {(e["contract_id"], l["iku_code"]): l for e in rows
              if e["event_type"] == "signed" for l in e["lines"]}
    latest = {}
    for r in sorted(reports(small_landing[0]), key=lambda r: r["reported_at"]):
        latest[(r["contract_id"], r["iku_code"], r["quarter"])] = r["value"]
    checked = 0
    for e in (e for e in rows if e["reason"] == "semester_target_met"):
        assert e["effective_period"] == "Q3"
        (line,) = e["lines"]
        key = (e["contract_id"], line["iku_code"])
        s1 = sum(latest.get(key + (q,), 0.0) for q in ("Q1", "Q2"))
        assert line["consolidation"] == "sum" and line["polarity"] == "maximize"
        assert signed[key]["target_y"] <= s1 < line["target_y"]
        checked += 1
    assert checked >= 15


def test_plt_transfers_act_then_return(small_landing):
    rows = events(small_landing[0])
    created = {e["contract_id"]: e for e in rows if e["event_type"] == "signed"}
    replaced = {e["replaces_contract_id"]: e for e in rows if e["event_type"] == "komplemen"}
    plts = defaultdict(list)
    for e in rows:
        if e["event_type"] == "plt_transfer":
            assert e["lines"] == [] and e["signed_date"] is None
            plts[e["contract_id"]].append(e)
    assert len(plts) >= 0.009 * len(created)  # 1% of KKs, rounded
    for kk, moves in plts.items():
        moves.sort(key=lambda e: e["effective_date"])
        kk_event = created[kk]
        acting = moves[0]
        assert acting["reason"] == "acting" and kk_event["is_unit_head"]
        superior = created[kk_event["parent_contract_id"]]
        assert acting["holder_nip"] == superior["holder_nip"] != kk_event["holder_nip"]
        if len(moves) == 2:  # back to the definitive holder
            assert moves[1]["reason"] == "return"
            assert moves[1]["holder_nip"] == kk_event["holder_nip"]
            assert moves[1]["effective_date"] > acting["effective_date"]
            assert moves[1]["effective_date"].year == YEAR
        else:  # the vacancy is filled by a komplemen
            assert len(moves) == 1 and replaced[kk]["effective_date"] > acting["effective_date"]


def test_reports_are_due_within_15_days_mostly(small_landing):
    quarter_end = {f"Q{q}": date(YEAR, 3 * q, 31 if q in (1, 4) else 30) for q in (1, 2, 3, 4)}
    on_time = late = 0
    for f in _glob(small_landing[0], "realisations", ("re_0*.parquet",)):
        for r in pq.read_table(f).to_pylist():
            days = (r["reported_at"].date() - quarter_end[r["quarter"]]).days
            assert 1 <= days <= 15
            on_time += 1
    for r in pq.read_table(small_landing[0] / "realisations"
                           / "re_90_late_and_corrections.parquet").to_pylist():
        late += (r["reported_at"].date() - quarter_end[r["quarter"]]).days > 15
    assert 0.02 <= late / on_time <= 0.07


def test_signed_and_recorded_dates(small_landing):
    rows = events(small_landing[0])
    for e in rows:
        assert e["recorded_at"].date() >= (e["signed_date"] or e["effective_date"])
        assert e["recorded_at"].date() - (e["signed_date"] or e["effective_date"]) <= timedelta(3)
    annual = [e for e in rows if e["reason"] == "annual"]
    late = [e for e in annual if e["signed_date"] > date(YEAR, 1, 31)]
    assert 0.005 <= len(late) / len(annual) <= 0.04  # KK_SIGNED_LATE


# --- end to end: the warehouse finds what the generator planted ----------------------------

AUDIT_RULES = ("TRAJECTORY_INCONSISTENT", "WEIGHTS_NOT_100", "TARGET_NOT_SCORABLE",
               "KK_SIGNED_LATE", "KK_AFTER_CUTOFF", "MISSING_APPROVAL", "ADDENDUM_LATE",
               "ADDENDUM_NOT_ALLOWED", "ADDENDUM_REVISES_PAST", "ADDENDUM_REQUIRED",
               "KOMPLEMEN_LATE", "KOMPLEMEN_AFTER_CUTOFF", "KOMPLEMEN_TARGET_MISMATCH",
               "CASCADE_ORPHAN", "CASCADE_DIRECT_MULTI", "CASCADE_TARGET_MISMATCH",
               "CASCADE_REALISATION_MISMATCH", "REALISATION_UNKNOWN_IKU", "REALISATION_MISSING")


@pytest.mark.slow
def test_tiny_warehouse_raises_every_audit_rule(tiny_warehouse):
    with duckdb.connect(str(tiny_warehouse), read_only=True) as con:
        rules = dict(con.execute("select rule, count(*) from marts.audit_findings "
                                 "group by rule").fetchall())
        ledger = con.execute("select status, count(*) from ingest.ledger group by status "
                             "order by status").fetchall()
        quarantined = con.execute("select count(*) from ingest.quarantine").fetchone()[0]
    assert set(rules) == set(AUDIT_RULES)
    assert ledger == [("ingested", 16), ("rejected", 1)]
    assert quarantined == 18 + 15 + 1  # bad events and reports minus duplicates, plus the file
