"""Suite `quality_signals` (warning): signs of trouble that are reported but do not stop the night.

Each of these can be legitimate (a producer delivering a bad file, a unit still being set up), so
they are published with the data for someone to follow up, rather than withholding the recap.
`{as_of}` in the SQL is the batch's as-of date.
"""
from __future__ import annotations

from ..domain import (MAX_NULL_ICI_SHARE_DUE, MAX_QUARANTINED_SHARE, PERIOD_LAST_QUARTER,
                      REALISATION_DUE_DAYS)
from ..rules import Rule, Suite

LEDGER = "ingest.ledger"
IA = "marts.iku_achievement"
NK = "marts.nko"
AF = "marts.audit_findings"

_LAST_QUARTER = "case period " + " ".join(
    f"when '{p}' then {q}" for p, q in PERIOD_LAST_QUARTER.items()) + " end"
# A period is due once the report of its last quarter is due (DOMAIN.md 8): before that a null
# ICI is just a report not yet filed.
_DUE = (f"last_day(make_date(year, 3 * ({_LAST_QUARTER}), 1)) + {REALISATION_DUE_DAYS} "
        f"< {{as_of}}")
# The latest ingest run that wrote the ledger: one run stamps all its rows with the same
# ingested_at (ingestion/ingest.py). A night that found no new file writes no ledger row, so the
# previous run's rejections are shown again: still unresolved, still worth a look.
_LAST_RUN = f"ingested_at = (select max(ingested_at) from {LEDGER})"
_UNITS_IN_FORCE = ("select unit_id from raw.units where valid_from <= {as_of} and "
                   "(valid_to is null or valid_to >= {as_of}) group by unit_id")
_COLOUR = "case when ici is null then null when ici >= 100 then 'green' when ici >= 80 " \
          "then 'yellow' else 'red' end"
_GRADE = "case when nko is null then null when nko >= 110 then 'sangat_baik' when nko >= 100 " \
         "then 'baik' when nko >= 90 then 'cukup' when nko >= 80 then 'kurang' else 'buruk' end"

SUITE = Suite(
    name="quality_signals",
    blocking=False,
    purpose="nothing looks off enough to follow up; these are published with the data and "
            "never stop publication",
    rules=(
        Rule(name="quarantined_share",
             description="share of landing rows quarantined, over the whole ledger",
             why="a few bad rows are normal; more than 1% points at a producer-side problem "
                 "that silently shrinks the data",
             tables=(LEDGER,), min_value=0, max_value=MAX_QUARANTINED_SHARE,
             value_sql=f"select coalesce(sum(rows_quarantined) / nullif(sum(rows_read), 0), 0) "
                       f"from {LEDGER}",
             sample_sql=f"select feed, file, rows_read, rows_quarantined from {LEDGER} where rows_quarantined > 0 "
                        f"order by rows_quarantined desc limit 3"),
        Rule(name="files_rejected_last_run",
             description="files rejected whole by the latest ingest run that wrote the ledger",
             why="a rejected file is entirely missing from tonight's figures until its producer "
                 "re-delivers it",
             tables=(LEDGER,),
             value_sql=f"select count(*) from {LEDGER} where status = 'rejected' and {_LAST_RUN}",
             sample_sql=f"select feed, file from {LEDGER} where status = 'rejected' and "
                        f"{_LAST_RUN} limit 3"),
        Rule(name="null_ici_share_due",
             description="share of achievement rows with a target, in a period whose reports are "
                         "due, that have no ICI",
             why="past the due date a line with a target should be scored; many unscored lines "
                 "make the NKO rest on a few IKUs",
             tables=(IA,), min_value=0, max_value=MAX_NULL_ICI_SHARE_DUE,
             value_sql=f"select coalesce(avg(case when ici is null then 1.0 else 0.0 end), 0) "
                       f"from {IA} where target is not null and {_DUE}",
             sample_sql=f"select contract_id, iku_code, period from {IA} where target is not null "
                        f"and ici is null and {_DUE} limit 3"),
        Rule(name="units_without_head_kk",
             description="units in force at the as-of date with no unit-head KK in marts.nko",
             why="DOMAIN.md 5: a unit's NKO is its head's KK; without one the unit is blank on "
                 "the dashboard",
             tables=("raw.units", NK),
             value_sql=f"select count(*) from ({_UNITS_IN_FORCE}) u where not exists (select 1 "
                       f"from {NK} n where n.unit_id = u.unit_id and n.is_unit_head)",
             sample_sql=f"select unit_id from ({_UNITS_IN_FORCE}) u where not exists (select 1 "
                        f"from {NK} n where n.unit_id = u.unit_id and n.is_unit_head) limit 3"),
        Rule(name="colour_disagrees_with_ici",
             description="achievement rows whose colour is not the one their ICI gives",
             why="DOMAIN.md 4: green >= 100, yellow 80 to < 100, red < 80; a stored ICI rounded "
                 "across a boundary would show e.g. 100.00 in yellow",
             tables=(IA,), per_row=True,
             value_sql=f"select count(*) from {IA} where colour is distinct from ({_COLOUR})",
             sample_sql=f"select contract_id, iku_code, period, ici, colour from {IA} "
                        f"where colour is distinct from ({_COLOUR}) limit 3"),
        Rule(name="grade_disagrees_with_nko",
             description="NKO rows whose grade is not the one their NKO gives",
             why="DOMAIN.md 5: the grade bands of the NKO",
             tables=(NK,), per_row=True,
             value_sql=f"select count(*) from {NK} where grade is distinct from ({_GRADE})",
             sample_sql=f"select contract_id, period, nko, grade from {NK} "
                        f"where grade is distinct from ({_GRADE}) limit 3"),
        Rule(name="error_findings",
             description="audit findings of severity error (informational)",
             why="findings are data, never a failure (DOMAIN.md 9); the count is shown so a jump "
                 "from one night to the next is noticed",
             tables=(AF,), min_value=0, max_value=None,
             value_sql=f"select count(*) from {AF} where severity = 'error'"),
    ),
)
