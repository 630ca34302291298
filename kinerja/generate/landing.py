"""Orchestration: draw the ministry's year and write it as landing files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from . import calendar as cal
from . import trajectories as tr
from .addenda import addendum_events
from .bad_rows import bad_events, bad_reports, file_missing_value_column
from .contracts import build_contracts, plan_signed
from .events import EventBatch, World
from .komplemen import komplemen_events, plan_komplemen
from .lines import signed_lines
from .org import build_positions, build_units, unit_versions
from .plt import plan_plt, plt_events
from .reports import build_reports, report_ids, report_table, reported_mask
from .scales import SCALES, SHARES, at_least
from .signed import signed_events
from .values import copy_direct, draw_values
from .writer import UNIT_SCHEMA, event_table, write

FEED_DIRS = ("contract_events", "realisations", "units")
FILE_PREFIX = {"contract_events": "ce", "realisations": "re", "units": "un"}


def _draw_world(rng, scale_name: str, year: int):
    scale = SCALES[scale_name]
    units = build_units(rng, scale)
    positions = build_positions(rng, units, scale)
    plan = plan_signed(rng, positions, year)
    n_kk = len(positions.level)
    contracts, spare_nips = build_contracts(rng, positions, plan, year,
                                            at_least(SHARES.komplemen * 1.5, n_kk, 10))
    book = signed_lines(rng, positions.level, positions.superior, contracts.start_quarter)
    return World(year, units, positions, contracts, book, len(book)), plan, spare_nips


def _changes(rng, world: World, spare_nips):
    """Komplemen, addenda and Plt transfers, with the realisation values they depend on."""
    c, pos, book = world.contracts, world.positions, world.book
    n_kk = len(c)
    full_year = np.flatnonzero(c.start_quarter == 1)
    komplemen_plan = plan_komplemen(rng, world, full_year[pos.level[full_year] > 0])
    pred = np.isin(book.kk, komplemen_plan.kk)
    h = komplemen_plan.handover[np.searchsorted(komplemen_plan.kk, book.kk[pred])]
    book.in_force[pred] &= np.arange(4)[None, :] < (h - 1)[:, None]

    addendum_pool = np.setdiff1d(full_year, komplemen_plan.kk)
    addenda, amended = addendum_events(rng, world, addendum_pool)

    # S1 already at the annual target and no addendum raising it (ADDENDUM_REQUIRED)
    untouched = ~np.isin(book.kk, np.concatenate([amended, komplemen_plan.kk])) & (
        book.kk < n_kk) & np.all(book.in_force, axis=1) & (tr.SHAPE[book.tpl] == "sum") & (
        tr.POLARITY[book.tpl] == "maximize")
    candidates = np.flatnonzero(untouched)
    over = rng.choice(candidates, min(len(candidates),
                                      at_least(SHARES.s1_overachieved_without_addendum,
                                               len(book), 1)), replace=False)
    book.s1_overachieved[over] = True

    # (not where the superior already acts since 1 January and signed the KK)
    heads = np.flatnonzero(pos.is_head[c.position] & (pos.level[c.position] > 0)
                           & (pos.level[c.position] < 5)
                           & (c.holder_nip != c.holder_nip[np.maximum(c.parent, 0)]))
    plt_kk, sk, back = plan_plt(rng, world, np.setdiff1d(heads, komplemen_plan.kk),
                                at_least(SHARES.plt, n_kk, 1))
    # a Plt bridges some vacancies until the successor's komplemen (no return event)
    vacant = komplemen_plan.kk[np.isin(komplemen_plan.kk, heads) & (komplemen_plan.handover > 1)]
    vacant = vacant[rng.random(len(vacant)) < SHARES.plt_before_komplemen]
    vacant_start = komplemen_plan.start[np.searchsorted(komplemen_plan.kk, vacant)]
    vacant_sk = np.maximum(cal.next_weekday(vacant_start - rng.integers(
        20, 60, len(vacant)).astype("timedelta64[D]")), cal.day(world.year, 1, 5))
    plts = plt_events(rng, world, np.concatenate([plt_kk, vacant]),
                      np.concatenate([sk, vacant_sk]),
                      np.concatenate([back, np.full(len(vacant), np.datetime64("NaT"),
                                                    dtype="datetime64[D]")]))

    line_level = pos.level[c.position[book.kk]]
    values = draw_values(rng, book, np.arange(len(book)))
    copy_direct(book, values, line_level)
    reported = reported_mask(rng, values)
    # the successors' targets depend on what the predecessors reported, so those come first
    komplemen, new_rows, successor = komplemen_events(rng, world, komplemen_plan, values,
                                                      reported, spare_nips)
    successor_values = draw_values(rng, book, new_rows)
    values = np.vstack([values, successor_values])
    line_level = pos.level[c.position[book.kk]]
    # children of a handed-over parent now follow its successor (predecessors stay as they were)
    not_predecessor = np.flatnonzero(~np.isin(book.kk, komplemen_plan.kk))
    copy_direct(book, values, line_level, not_predecessor, successor)
    reported = np.vstack([reported, reported_mask(rng, successor_values)])
    return addenda, komplemen, plts, values, reported


def _unit_tables(world: World) -> list[tuple[str, pa.Table]]:
    table = pa.Table.from_pydict(unit_versions(world.units, world.year), schema=UNIT_SCHEMA)
    upper = pa.compute.less_equal(table.column("level"), 2)
    return [("un_01_eselon_0_2.parquet", table.filter(upper)),
            ("un_02_eselon_3_4.parquet", table.filter(pa.compute.invert(upper)))]


def _event_files(world: World, signed_plan, batches: list[EventBatch]) -> list[tuple[str, pa.Table]]:
    """Signed KKs split by Eselon I; later changes by quarter; late filings in their own file."""
    signed, *changes = batches
    pos, u = world.positions, world.units
    signed_table = event_table(signed)
    late_signed = (signed_plan.reason == "annual") & (
        signed_plan.signed_date > cal.day(world.year, 1, 31))
    e1 = u.eselon_i[pos.unit[world.contracts.position[: len(signed)]]]
    group = np.where(late_signed, len(u.unit_id), e1)  # late signatures sort last
    order = np.argsort(group, kind="stable")
    grouped = signed_table.take(pa.array(order))
    bounds = np.searchsorted(group[order], np.unique(group), side="left").tolist() + [len(order)]
    files, late_parts = [], []
    for g, start, stop in zip(np.unique(group).tolist(), bounds[:-1], bounds[1:]):
        part = grouped.slice(start, stop - start)
        if g == len(u.unit_id):
            late_parts.append(part)
        else:
            files.append((f"ce_01_signed_{u.unit_id[g] if g >= 0 else 'KEMENKEU'}.parquet", part))

    tables = [event_table(b) for b in changes]
    late_parts += [t.filter(pa.array(b.late)) for t, b in zip(tables, changes) if b.late is not None]
    on_time = pa.concat_tables([t.filter(pa.array(~b.late)) if b.late is not None else t
                                for t, b in zip(tables, changes)])
    on_time = on_time.sort_by([("recorded_at", "ascending"), ("event_id", "ascending")])
    recorded_q = cal.quarter_of(on_time.column("recorded_at").to_numpy().astype("datetime64[D]"))
    recorded_year = on_time.column("recorded_at").to_numpy().astype("datetime64[Y]").astype(int)
    recorded_q = np.where(recorded_year + 1970 > world.year, 4, recorded_q)
    for q in range(1, 5):
        files.append((f"ce_02_changes_Q{q}.parquet", on_time.filter(pa.array(recorded_q == q))))
    late = pa.concat_tables(late_parts).sort_by([("recorded_at", "ascending"),
                                                 ("event_id", "ascending")])
    files.append(("ce_90_late_filings.parquet", late))
    return files


def generate_landing(scale: str, year: int, seed: int, out) -> dict[str, int]:
    """Write a synthetic landing zone under `out`; returns what was written, counted."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {sorted(SCALES)}")
    out = Path(out)
    rng = np.random.default_rng(seed)
    world, signed_plan, spare_nips = _draw_world(rng, scale, year)
    addenda, komplemen, plts, values, reported = _changes(rng, world, spare_nips)
    signed = signed_events(rng, world, signed_plan)
    reports = build_reports(rng, world, values, reported)

    # a rerun replaces what an earlier run wrote (its files may be named differently), and
    # nothing else in the directory
    for feed in FEED_DIRS:
        for old in sorted((out / feed).glob(f"{FILE_PREFIX[feed]}_*.parquet")):
            old.unlink()
    files: list[tuple[str, str, pa.Table]] = []
    for name, table in _event_files(world, signed_plan, [signed, addenda, komplemen, plts]):
        files.append(("contract_events", name, table))

    # reports: on time by quarter, late filings and corrections apart; ids in file order
    main = np.flatnonzero(~reports.late_file)
    main = main[np.lexsort((reports.row[main], reports.quarter[main]))]
    late = np.flatnonzero(reports.late_file)
    late = late[np.lexsort((reports.row[late], reports.reported_at[late]))]
    ordered = reports.take(np.concatenate([main, late]))
    report_rows = report_table(world, ordered, report_ids(year, 0, len(ordered.row)))
    n_main = len(main)
    q_bounds = np.searchsorted(ordered.quarter[:n_main], np.arange(5))
    for q in range(4):
        files.append(("realisations", f"re_0{q + 1}_Q{q + 1}.parquet",
                      report_rows.slice(q_bounds[q], q_bounds[q + 1] - q_bounds[q])))
    files.append(("realisations", "re_90_late_and_corrections.parquet",
                  report_rows.slice(n_main)))

    valid_events = pa.concat_tables([t for feed, _, t in files if feed == "contract_events"])
    n_bad_events = at_least(SHARES.bad_rows, valid_events.num_rows, 20)
    n_bad_reports = at_least(SHARES.bad_rows, report_rows.num_rows, 18)
    missing_column = file_missing_value_column(report_rows, year)
    files.append(("contract_events", "ce_99_bad_rows.parquet",
                  bad_events(rng, valid_events, n_bad_events, year)))
    files.append(("realisations", "re_98_missing_value_column.parquet", missing_column))
    files.append(("realisations", "re_99_bad_rows.parquet",
                  bad_reports(rng, report_rows, n_bad_reports, year)))
    for name, table in _unit_tables(world):
        files.append(("units", name, table))

    for feed, name, table in files:
        write(table, out / feed / name)

    n_late_reports = int((reports.late_file & ~reports.correction).sum())
    return {
        "units": len(world.units.unit_id),
        "contracts": len(world.contracts),
        "events": valid_events.num_rows,
        "signed": len(signed),
        "addenda": len(addenda),
        "komplemen": len(komplemen),
        "plt_transfers": len(plts),
        "lines": int(sum(len(b.line_event) for b in (signed, addenda, komplemen))),
        "realisations": report_rows.num_rows,
        "corrections": int(reports.correction.sum()),
        "late_reports": n_late_reports,
        "bad_rows": n_bad_events + n_bad_reports + missing_column.num_rows,
        "files": len(files),
    }

