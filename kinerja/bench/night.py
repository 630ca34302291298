"""A synthetic next night on top of a generated landing zone (for the incremental benchmark).

`write_night(landing, out_dir, year, night, share)`: `share` of the year's events as new addenda
(copies of existing addenda with fresh ids, recorded that night) and about `share` of its
realisation reports as corrections (fresh report ids, reported that night, values moved by +1%),
written as two new landing files. Reproducible: rows are chosen by a hash of their id.

The corrections are whole quarter reports of some KKs (every report of a chosen contract and
quarter), as a night's filings are: a KK's holder enters or corrects the quarter's realisations of
all the KK's IKUs at once. Picking the same number of reports one by one at random would touch
about a fifth of all KKs in a night (measured: 16,568 reports over ~15,000 KKs), which no night of
the reporting system does.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb


def write_night(landing: Path, out_dir: Path, year: int, night: date, share: float = 0.005,
                tag: str = "N1") -> dict[str, int]:
    landing, out_dir = Path(landing), Path(out_dir)
    (out_dir / "contract_events").mkdir(parents=True, exist_ok=True)
    (out_dir / "realisations").mkdir(parents=True, exist_ok=True)
    stamp = f"timestamptz '{night.isoformat()} 08:00:00+00'"
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        events = f"read_parquet('{landing}/contract_events/**/*.parquet', union_by_name=true)"
        n_events = con.execute(f"select count(*) from {events} where year = {year}").fetchone()[0]
        n_new_events = max(1, round(share * n_events))
        ce_out = out_dir / "contract_events" / f"ce_night_{night:%Y%m%d}_{tag}.parquet"
        con.execute(f"""
            copy (
                select * replace (
                    'EV-{year}-{tag}' || lpad(cast(row_number() over (order by event_id) as varchar), 6, '0')
                        as event_id,
                    {stamp} + interval (row_number() over (order by event_id)) second as recorded_at
                )
                from {events}
                where year = {year} and event_type = 'addendum' and event_id like 'EV-{year}-%'
                order by hash(event_id), event_id
                limit {n_new_events}
            ) to '{ce_out}' (format parquet)
        """)
        reports = f"read_parquet('{landing}/realisations/**/re_0*.parquet', union_by_name=true)"
        n_reports = con.execute(
            f"select count(*) from {reports} where report_id like 'RP-{year}-%'").fetchone()[0]
        target = max(1, round(share * n_reports))
        re_out = out_dir / "realisations" / f"re_night_{night:%Y%m%d}_{tag}.parquet"
        con.execute(f"""
            copy (
                with candidates as (
                    select * from {reports}
                    where report_id like 'RP-{year}-%' and value is not null
                ),
                -- (contract, quarter) report sets in hash order, taken until `target` reports
                sets as (
                    select contract_id, quarter,
                           sum(count(*)) over (order by hash(contract_id || quarter), contract_id,
                                               quarter) as running
                    from candidates group by contract_id, quarter
                ),
                chosen as (
                    select c.* from candidates as c
                    inner join sets as s using (contract_id, quarter)
                    where s.running <= {target}
                       or s.running = (select min(running) from sets)
                )
                select * replace (
                    'RP-{year}-{tag}' || lpad(cast(row_number() over (order by report_id) as varchar), 8, '0')
                        as report_id,
                    {stamp} + interval (row_number() over (order by report_id) % 36000) second
                        as reported_at,
                    value * 1.01 as value
                )
                from chosen
                order by report_id
            ) to '{re_out}' (format parquet)
        """)
        n_new_reports = con.execute(f"select count(*) from '{re_out}'").fetchone()[0]
    finally:
        con.close()
    return {"events": n_new_events, "reports": n_new_reports}
