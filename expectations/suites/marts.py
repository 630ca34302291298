"""Suites `marts_<table>` (blocking): each public mart keeps its key and its value domains.

A small declarative table, one suite per public table of WAREHOUSE.md. Dashboards and auditors
read these tables directly; a duplicated key, an ICI of 250 or a colour named "blue" would be
published as fact, so each stops the night. Business-rule breaches of the contracts themselves
are not here: they are audit findings (data), see DOMAIN.md 9.
"""
from __future__ import annotations

from ingestion.schema import CASCADE_TYPES, CONSOLIDATIONS, PERSPECTIVES, POLARITIES

from ..domain import (AUDIT_RULES, COLOURS, EDGE_CASCADE_TYPES, FINDING_SEVERITIES, GRADES,
                      ICI_MAX, NKO_MAX, PERIODS, ROLES)
from ..rules import (Rule, Suite, duplicate_keys, empty_while, null_keys, outside_range,
                     outside_set, rows_where)

EMPTY_WHY = "the fold produced nothing from data that should give rows; every count of " \
            "violations would then be 0 and the night would pass empty"
ENUM_WHY = "the value comes from a closed set in the spec; anything else means the fold mislabelled it"
PERIOD_WHY = "DOMAIN.md 3: periods are Q1, Q2, S1, Q3, SDQ3, Q4, Y; the recap and NKO join on them"


def _mart(table: str, keys: tuple[str, ...], *rules: Rule, unique: bool = True,
          purpose: str = "") -> Suite:
    full = f"marts.{table}"
    key_rules = (null_keys(full, keys),) + ((duplicate_keys(full, keys),) if unique else ())
    return Suite(name=f"marts_{table}", blocking=True, rules=key_rules + rules,
                 purpose=purpose or f"{full} has its key in every row, once, and values in their domains")


CL = "marts.contract_lines"
RS = "marts.responsibility"
IA = "marts.iku_achievement"
NK = "marts.nko"
KT = "marts.komplemen_targets"
CE = "marts.cascading_edges"
AF = "marts.audit_findings"

SUITES = (
    _mart("contract_lines", ("contract_id", "iku_code"),
          outside_set(CL, "perspective", PERSPECTIVES, ENUM_WHY),
          outside_set(CL, "polarity", POLARITIES, ENUM_WHY),
          outside_set(CL, "consolidation", CONSOLIDATIONS, ENUM_WHY),
          outside_set(CL, "cascade_type", CASCADE_TYPES, ENUM_WHY, nullable=True),
          rows_where(CL, "version_below_1", "(version is null or version < 1)",
                     "lines whose version is null or below 1",
                     "WAREHOUSE.md: version is 1 as signed and +1 per change",
                     ("contract_id", "iku_code", "version")),
          empty_while(CL, "raw.contract_events has a signed or komplemen KK with lines known by "
                      "the as-of date",
                      "select 1 from raw.contract_events where event_type in ('signed', "
                      "'komplemen') and len(lines) > 0 and recorded_at < {as_of} + 1",
                      EMPTY_WHY, tables=("raw.contract_events",))),
    _mart("responsibility", ("contract_id", "position_id", "holder_nip", "from_date"),
          outside_set(RS, "role", ROLES, ENUM_WHY),
          outside_range(RS, "from_quarter", 1, 4, "from_quarter is the quarter holding from_date",
                        ("contract_id", "holder_nip")),
          outside_range(RS, "to_quarter", 0, 4, "to_quarter is 0..4 (0: accountable for no "
                        "quarter) or null while open", ("contract_id", "holder_nip")),
          rows_where(RS, "ends_before_start", "to_date < from_date - 1",
                     "holder rows whose to_date is more than a day before from_date",
                     "to_date is the day before the next holder's from_date, never earlier",
                     ("contract_id", "holder_nip", "from_date", "to_date")),
          empty_while(RS, "marts.contract_lines has rows", f"select 1 from {CL}", EMPTY_WHY,
                      tables=(CL,)),
          unique=False,  # several rows per KK by design (one per holder); no public key
          purpose="every row of marts.responsibility names its KK, holder and start, with valid "
                  "quarters"),
    _mart("iku_achievement", ("contract_id", "iku_code", "period"),
          outside_set(IA, "period", PERIODS, PERIOD_WHY),
          outside_range(IA, "ici", 0, ICI_MAX, "DOMAIN.md 4: the ICI is clamped to [0, 120]",
                        ("contract_id", "iku_code", "period")),
          outside_set(IA, "colour", COLOURS, "DOMAIN.md 4: green, yellow or red (null when the ICI "
                      "is null)", nullable=True),
          empty_while(IA, "marts.contract_lines has a line with a target",
                      f"select 1 from {CL} where coalesce(target_q1, target_q2, target_q3, "
                      "target_q4, target_y) is not null", EMPTY_WHY, tables=(CL,))),
    _mart("nko", ("contract_id", "period"),
          outside_set(NK, "period", PERIODS, PERIOD_WHY),
          outside_range(NK, "nko", 0, NKO_MAX, "DOMAIN.md 5: a weighted mean of ICIs in [0, 120] "
                        "stays in [0, 120]", ("contract_id", "period")),
          outside_set(NK, "grade", GRADES, "DOMAIN.md 5: the five NKO grades (null when the NKO "
                      "is null)", nullable=True),
          rows_where(NK, "iku_scored_negative", "(iku_scored is null or iku_scored < 0)",
                     "rows whose iku_scored is null or negative",
                     "iku_scored counts lines with an ICI", ("contract_id", "period", "iku_scored")),
          empty_while(NK, "marts.iku_achievement has rows", f"select 1 from {IA}", EMPTY_WHY,
                      tables=(IA,))),
    _mart("komplemen_targets", ("contract_id", "iku_code", "period"),
          outside_set(KT, "period", PERIODS, PERIOD_WHY),
          outside_range(KT, "handover_quarter", 1, 4, "DOMAIN.md 6: the handover quarter is 1..4",
                        ("contract_id", "iku_code", "period")),
          rows_where(KT, "computed_target_negative", "computed_target < 0",
                     "rows with a negative computed remaining target",
                     "DOMAIN.md 6: every remaining target is floored at 0",
                     ("contract_id", "iku_code", "period", "computed_target")),
          rows_where(KT, "replaces_missing", "replaces_contract_id is null",
                     "komplemen rows without replaces_contract_id",
                     "a komplemen always names the KK it replaces", ("contract_id", "iku_code"))),
    _mart("cascading_edges", ("parent_contract_id", "parent_iku_code", "child_contract_id",
                              "child_iku_code"),
          outside_set(CE, "cascade_type", EDGE_CASCADE_TYPES, "DOMAIN.md 7: only direct and "
                      "indirect lines have a parent"),
          duplicate_keys(CE, ("child_contract_id", "child_iku_code"),
                         "a child line names exactly one parent IKU, so it has at most one edge; "
                         "two edges double the cascading tree", name="child_with_two_parents"),
          unique=False,  # the child-line rule above is the key that matters
          purpose="every edge of marts.cascading_edges names both lines and a child line has one "
                  "parent"),
    _mart("audit_findings", ("finding_id",),
          outside_set(AF, "rule", tuple(AUDIT_RULES), "DOMAIN.md 9 lists every rule code"),
          outside_set(AF, "severity", FINDING_SEVERITIES, ENUM_WHY),
          rows_where(AF, "severity_disagrees_with_rule",
                     "severity is distinct from (case rule "
                     + " ".join(f"when '{r}' then '{s}'" for r, s in AUDIT_RULES.items())
                     + " end)",
                     "findings whose severity is not the one DOMAIN.md 9 gives their rule",
                     "DOMAIN.md 9 fixes each rule's severity; auditors filter on it",
                     ("finding_id", "rule", "severity")),
          outside_set(AF, "period", PERIODS, PERIOD_WHY, nullable=True)),
)
