"""marts.audit_findings: every rule code of DOMAIN.md section 9 fires on a minimal scenario.

One landing zone holds every scenario (distinct contract ids); it is ingested and dbt-built once
per session (as of 2026-12-31) and each scenario asserts the exact set of findings on its
contracts: (rule, contract_id, iku_code, period, event_id). Every line of a scenario gets
realisation reports for Q1..Q3 equal to its targets unless the scenario says otherwise, so no
REALISATION_MISSING noise hides a wrong finding. A second build as of 2026-07-20 checks the rules
judged at the as-of date, and a clean landing zone must raise nothing at all.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import build_warehouse, query
from tests.landing_factory import (
    addendum_event,
    komplemen_event,
    line,
    report,
    signed_event,
    unit,
    write_feed,
)

AS_OF = date(2026, 12, 31)
EARLY_AS_OF = date(2026, 7, 20)
REPORTED_AT = {1: "2026-04-10T03:00", 2: "2026-07-10T03:00", 3: "2026-10-10T03:00", 4: "2027-01-10T03:00"}
ALL_RULES = {
    "TRAJECTORY_INCONSISTENT", "WEIGHTS_NOT_100", "TARGET_NOT_SCORABLE", "KK_SIGNED_LATE",
    "KK_AFTER_CUTOFF", "MISSING_APPROVAL", "ADDENDUM_LATE", "ADDENDUM_NOT_ALLOWED",
    "ADDENDUM_REVISES_PAST", "ADDENDUM_REQUIRED", "KOMPLEMEN_LATE", "KOMPLEMEN_AFTER_CUTOFF",
    "KOMPLEMEN_TARGET_MISMATCH", "CASCADE_ORPHAN", "CASCADE_DIRECT_MULTI",
    "CASCADE_TARGET_MISMATCH", "CASCADE_REALISATION_MISMATCH", "REALISATION_UNKNOWN_IKU",
    "REALISATION_MISSING",
}


def traj(q1, q2, q3, q4, y) -> dict:
    return dict(target_q1=q1, target_q2=q2, target_q3=q3, target_q4=q4, target_y=y)


class Zone:
    """Collects events and reports of many scenarios, then writes one landing zone."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.reports: list[dict] = []

    def kk(self, event: dict, quarters=(1, 2, 3), values: dict | None = None) -> dict:
        """Add a creating event; report Q1..Q3 (or `quarters`) of every line at its target,
        except `values[(iku_code, q)]` (None: no report)."""
        self.events.append(event)
        values = values or {}
        for ln in event["lines"]:
            for q in quarters:
                value = values.get((ln["iku_code"], q), ln.get(f"target_q{q}"))
                if value is None:
                    continue
                self.report(event["contract_id"], ln["iku_code"], q, value)
        return event

    def report(self, contract_id: str, iku_code: str, q: int, value: float,
               report_id: str | None = None) -> None:
        self.reports.append(report(report_id or f"RP-{contract_id}-{iku_code}-Q{q}", contract_id,
                                   iku_code, f"Q{q}", float(value), reported_at=REPORTED_AT[q]))

    def write(self, landing: Path) -> Path:
        write_feed(landing, "units", [unit("ROOT", None, 0), unit("UNIT-01", "ROOT", 1)])
        write_feed(landing, "contract_events", self.events)
        write_feed(landing, "realisations", self.reports)
        return landing


# ---------------------------------------------------------------------------------------------
# Scenarios: (contracts concerned, exact findings expected on them)
# ---------------------------------------------------------------------------------------------

SCENARIOS: dict[str, tuple[set[str], set[tuple]]] = {}


def scenario_zone() -> Zone:
    z = Zone()

    # TRAJECTORY_INCONSISTENT: sum of quarters 100 vs Y 90; a cumulative progress line decreasing.
    z.kk(signed_event("EV-TRAJ", "KK-TRAJ", lines=[
        line("IKU-T1", consolidation="sum", weight=50.0, **traj(10, 20, 30, 40, 90)),
        line("IKU-T2", consolidation="take_last_known", progress=True, weight=50.0,
             **traj(10, 30, 20, 40, 40)),
    ]))
    SCENARIOS["trajectory"] = ({"KK-TRAJ"}, {
        ("TRAJECTORY_INCONSISTENT", "KK-TRAJ", "IKU-T1", None, "EV-TRAJ"),
        ("TRAJECTORY_INCONSISTENT", "KK-TRAJ", "IKU-T2", None, "EV-TRAJ"),
    })

    # WEIGHTS_NOT_100: an addendum from Q3 lowers one weight, so Q3 and Q4 weigh 90.
    w_lines = [line("IKU-W1", weight=60.0), line("IKU-W2", weight=40.0)]
    z.kk(signed_event("EV-WEIGHTS", "KK-WEIGHTS", lines=w_lines))
    z.events.append(addendum_event("EV-WEIGHTS-ADD", "KK-WEIGHTS", reason="other",
                                   lines=[line("IKU-W2", weight=30.0)]))
    SCENARIOS["weights"] = ({"KK-WEIGHTS"}, {
        ("WEIGHTS_NOT_100", "KK-WEIGHTS", None, "Q3", "EV-WEIGHTS-ADD"),
        ("WEIGHTS_NOT_100", "KK-WEIGHTS", None, "Q4", "EV-WEIGHTS-ADD"),
    })

    # TARGET_NOT_SCORABLE: a zero target in every period.
    z.kk(signed_event("EV-ZERO", "KK-ZERO", lines=[
        line("IKU-Z", polarity="minimize", **traj(0, 0, 0, 0, 0))]), values={
        ("IKU-Z", 1): 0, ("IKU-Z", 2): 0, ("IKU-Z", 3): 0})
    SCENARIOS["target_not_scorable"] = ({"KK-ZERO"}, {
        ("TARGET_NOT_SCORABLE", "KK-ZERO", "IKU-Z", p, "EV-ZERO")
        for p in ("Q1", "Q2", "S1", "Q3", "SDQ3", "Q4", "Y")
    })

    # KK_SIGNED_LATE: an annual KK signed 2 February; a new CPNS appointed Mon 16 March 2026 signs
    # on the 16th working day (Nyepi 19 March, the Idul Fitri weekend and Good Friday 3 April are
    # not working days: the 15th is 8 April); another signs on 8 April, in time.
    z.kk(signed_event("EV-LATE", "KK-LATE", signed_date="2026-02-02", recorded_at="2026-02-02"))
    z.kk(signed_event("EV-CPNS", "KK-CPNS", reason="new_cpns", position_level=5,
                      effective_date="2026-03-16", signed_date="2026-04-09",
                      recorded_at="2026-04-09"))
    z.kk(signed_event("EV-CPNS-OK", "KK-CPNS-OK", reason="new_cpns", position_level=5,
                      effective_date="2026-03-16", signed_date="2026-04-08",
                      recorded_at="2026-04-08"))
    z.kk(signed_event("EV-RET", "KK-RET", reason="returning", position_level=5,
                      effective_date="2026-03-16", signed_date="2026-04-01",
                      recorded_at="2026-04-01"))
    SCENARIOS["kk_signed_late"] = ({"KK-LATE", "KK-CPNS", "KK-CPNS-OK", "KK-RET"}, {
        ("KK_SIGNED_LATE", "KK-LATE", None, None, "EV-LATE"),
        ("KK_SIGNED_LATE", "KK-CPNS", None, None, "EV-CPNS"),
        ("KK_SIGNED_LATE", "KK-RET", None, None, "EV-RET"),
    })

    # KK_AFTER_CUTOFF: a returning employee starts 20 October (no KK_SIGNED_LATE on top).
    z.kk(signed_event("EV-CUTOFF", "KK-CUTOFF", reason="returning", position_level=5,
                      effective_date="2026-10-20", signed_date="2026-11-30",
                      recorded_at="2026-11-30"), quarters=())
    SCENARIOS["kk_after_cutoff"] = ({"KK-CUTOFF"}, {
        ("KK_AFTER_CUTOFF", "KK-CUTOFF", None, None, "EV-CUTOFF"),
    })

    # MISSING_APPROVAL: a level-2 KK and an addendum without supervisor; an apbn_change addendum
    # and a level-0 KK need none.
    z.kk(signed_event("EV-NOAPP", "KK-NOAPP", position_level=2, supervisor_nip=None))
    z.kk(signed_event("EV-NOAPP2", "KK-NOAPP2", position_level=2))
    z.events.append(addendum_event("EV-NOAPP-ADD", "KK-NOAPP2", reason="other", supervisor_nip=None,
                                   position_level=2, lines=[line("IKU-01")]))
    z.events.append(addendum_event("EV-APBN", "KK-NOAPP2", reason="apbn_change", supervisor_nip=None,
                                   position_level=2, effective_period="Q4",
                                   effective_date="2026-06-21", lines=[line("IKU-01")]))
    z.kk(signed_event("EV-LEVEL0", "KK-LEVEL0", position_level=0, supervisor_nip=None))
    SCENARIOS["missing_approval"] = ({"KK-NOAPP", "KK-NOAPP2", "KK-LEVEL0"}, {
        ("MISSING_APPROVAL", "KK-NOAPP", None, None, "EV-NOAPP"),
        ("MISSING_APPROVAL", "KK-NOAPP2", None, None, "EV-NOAPP-ADD"),
    })

    # ADDENDUM_LATE: 21 July for an ordinary reason; a regulation addendum on 18 October is in
    # time; a staffing_change addendum at level 5 signed 19 days after the change is late.
    z.kk(signed_event("EV-ADDLATE-KK", "KK-ADDLATE"))
    z.events.append(addendum_event("EV-ADDLATE", "KK-ADDLATE", reason="other",
                                   effective_date="2026-07-01", signed_date="2026-07-21",
                                   recorded_at="2026-07-21", lines=[line("IKU-01")]))
    z.events.append(addendum_event("EV-ADDREG", "KK-ADDLATE", reason="regulation",
                                   effective_period="Q4", effective_date="2026-09-01",
                                   signed_date="2026-10-18", recorded_at="2026-10-18",
                                   lines=[line("IKU-01")]))
    z.kk(signed_event("EV-STAFF-KK", "KK-STAFF", position_level=5))
    z.events.append(addendum_event("EV-STAFF-LATE", "KK-STAFF", reason="staffing_change",
                                   position_level=5, effective_date="2026-06-01",
                                   signed_date="2026-06-17", recorded_at="2026-06-17",
                                   lines=[line("IKU-01")]))
    SCENARIOS["addendum_late"] = ({"KK-ADDLATE", "KK-STAFF"}, {
        ("ADDENDUM_LATE", "KK-ADDLATE", None, None, "EV-ADDLATE"),
        ("ADDENDUM_LATE", "KK-STAFF", None, None, "EV-STAFF-LATE"),
    })

    # ADDENDUM_NOT_ALLOWED: staffing_change on a level-3 KK.
    z.kk(signed_event("EV-NOTALLOWED-KK", "KK-NOTALLOWED", position_level=3))
    z.events.append(addendum_event("EV-NOTALLOWED", "KK-NOTALLOWED", reason="staffing_change",
                                   position_level=3, effective_date="2026-06-20",
                                   lines=[line("IKU-01")]))
    SCENARIOS["addendum_not_allowed"] = ({"KK-NOTALLOWED"}, {
        ("ADDENDUM_NOT_ALLOWED", "KK-NOTALLOWED", None, None, "EV-NOTALLOWED"),
    })

    # ADDENDUM_REVISES_PAST: an addendum from Q3 also rewrites Q1 (80 -> 70). Q1 keeps 80, so the
    # trajectory in force after it (80, 80, 90, 90: mean 85) disagrees with its Y 82.5.
    z.kk(signed_event("EV-PAST-KK", "KK-PAST", lines=[line("IKU-P", **traj(80, 80, 80, 80, 80))]),
         values={("IKU-P", 3): 90})
    z.events.append(addendum_event("EV-PAST", "KK-PAST", reason="other",
                                   lines=[line("IKU-P", **traj(70, 80, 90, 90, 82.5))]))
    SCENARIOS["addendum_revises_past"] = ({"KK-PAST"}, {
        ("ADDENDUM_REVISES_PAST", "KK-PAST", "IKU-P", "Q1", "EV-PAST"),
        ("TRAJECTORY_INCONSISTENT", "KK-PAST", "IKU-P", None, "EV-PAST"),
    })

    # Two addenda whose effective quarters run against their fold order (Q4 first, then Q3): each
    # is compared with the state just before it, so neither revises the past.
    z.kk(signed_event("EV-OOO-KK", "KK-OOO", lines=[line("IKU-P", **traj(80, 80, 80, 80, 80))]),
         values={("IKU-P", 3): 85})
    z.events.append(addendum_event("EV-OOO-1", "KK-OOO", reason="other", effective_period="Q4",
                                   lines=[line("IKU-P", **traj(80, 80, 80, 90, 82.5))]))
    z.events.append(addendum_event("EV-OOO-2", "KK-OOO", reason="other", effective_period="Q3",
                                   effective_date="2026-07-01", signed_date="2026-07-05",
                                   recorded_at="2026-07-05",
                                   lines=[line("IKU-P", **traj(80, 80, 85, 85, 82.5))]))
    SCENARIOS["addendum_out_of_order"] = ({"KK-OOO"}, set())

    # ADDENDUM_REQUIRED: a cumulative sum IKU reaches its annual 100 at S1 (60 + 50) and nothing
    # raises it; the same with an addendum raising target_y to 150 raises nothing.
    cumulative = dict(consolidation="sum", polarity="maximize", **traj(10, 20, 30, 40, 100))
    z.kk(signed_event("EV-REQ", "KK-REQ", lines=[line("IKU-R", **cumulative)]),
         values={("IKU-R", 1): 60, ("IKU-R", 2): 50})
    z.kk(signed_event("EV-REQ-OK-KK", "KK-REQ-OK", lines=[line("IKU-R", **cumulative)]),
         values={("IKU-R", 1): 60, ("IKU-R", 2): 50, ("IKU-R", 3): 60})
    z.events.append(addendum_event("EV-REQ-OK", "KK-REQ-OK", reason="semester_target_met",
                                   effective_date="2026-07-05", signed_date="2026-07-10",
                                   recorded_at="2026-07-10", lines=[
                                       line("IKU-R", consolidation="sum", polarity="maximize",
                                            **traj(10, 20, 60, 60, 150))]))
    SCENARIOS["addendum_required"] = ({"KK-REQ", "KK-REQ-OK"}, {
        ("ADDENDUM_REQUIRED", "KK-REQ", "IKU-R", "S1", "EV-REQ"),
    })

    # KOMPLEMEN_LATE: start Mon 16 March (handover Q1), signed on the 16th working day; the same
    # signed on the 15th is in time.
    for cid, signed in (("KK-KL", "2026-04-09"), ("KK-KOK", "2026-04-08")):
        z.events.append(signed_event(f"EV-{cid}-OLD", f"{cid}-OLD"))
        z.kk(komplemen_event(f"EV-{cid}", cid, f"{cid}-OLD", effective_date="2026-03-16",
                             signed_date=signed, recorded_at=signed))
    SCENARIOS["komplemen_late"] = ({"KK-KL", "KK-KL-OLD", "KK-KOK", "KK-KOK-OLD"}, {
        ("KOMPLEMEN_LATE", "KK-KL", None, None, "EV-KK-KL"),
    })

    # KOMPLEMEN_AFTER_CUTOFF: the successor starts 20 October.
    z.kk(signed_event("EV-KAC-OLD", "KK-KAC-OLD"))
    z.kk(komplemen_event("EV-KAC", "KK-KAC", "KK-KAC-OLD", effective_date="2026-10-20",
                         signed_date="2026-10-22", recorded_at="2026-10-22",
                         lines=[line("IKU-01", **traj(None, None, None, None, None))]), quarters=())
    SCENARIOS["komplemen_after_cutoff"] = ({"KK-KAC", "KK-KAC-OLD"}, {
        ("KOMPLEMEN_AFTER_CUTOFF", "KK-KAC", None, None, "EV-KAC"),
    })

    # KOMPLEMEN_TARGET_MISMATCH: sum 10, 20, 25, 35 (90), R_prev 25, h = 3: computed Q3 25, Q4 35,
    # Y 60; declared Q3 25 (agrees), Q4 40 and Y 65 (differ). A predecessor report for Q3, after
    # the handover, is REALISATION_UNKNOWN_IKU.
    ktm = dict(consolidation="sum", polarity="maximize")
    z.kk(signed_event("EV-KTM-OLD", "KK-KTM-OLD", lines=[line("IKU-K", **ktm, **traj(10, 20, 25, 35, 90))]),
         quarters=(1, 2), values={("IKU-K", 2): 15})
    z.report("KK-KTM-OLD", "IKU-K", 3, 20.0)
    z.kk(komplemen_event("EV-KTM", "KK-KTM", "KK-KTM-OLD", effective_date="2026-07-01",
                         signed_date="2026-07-03", lines=[
                             line("IKU-K", **ktm, **traj(None, None, 25, 40, 65))]), quarters=(3,))
    SCENARIOS["komplemen_target_mismatch"] = ({"KK-KTM", "KK-KTM-OLD"}, {
        ("KOMPLEMEN_TARGET_MISMATCH", "KK-KTM", "IKU-K", "Q4", "EV-KTM"),
        ("KOMPLEMEN_TARGET_MISMATCH", "KK-KTM", "IKU-K", "Y", "EV-KTM"),
        ("REALISATION_UNKNOWN_IKU", "KK-KTM-OLD", "IKU-K", "Q3", "RP-KK-KTM-OLD-IKU-K-Q3"),
    })

    # CASCADE_DIRECT_MULTI and CASCADE_ORPHAN against a parent KK replaced by a komplemen from Q3:
    # children name KK-CPARENT, which resolves to KK-CPARENT-K. Two direct children of IKU-CA
    # (named on the successor's line); IKU-MISSING does not exist there; KK-NOPE does not exist.
    # Realisations are compared quarter by quarter with the parent KK covering the quarter:
    # KK-MULTI1 differs from the successor in Q3.
    ca = traj(80, 80, 80, 80, 80)
    z.kk(signed_event("EV-CPARENT", "KK-CPARENT", lines=[line("IKU-CA", **ca)]), quarters=(1, 2))
    z.kk(komplemen_event("EV-CPARENT-K", "KK-CPARENT-K", "KK-CPARENT", effective_date="2026-07-01",
                         lines=[line("IKU-CA", **ca)]), quarters=(3,))
    for i in (1, 2):
        z.kk(signed_event(f"EV-MULTI{i}", f"KK-MULTI{i}", position_level=2,
                          parent_contract_id="KK-CPARENT", lines=[
                              line(f"IKU-M{i}", cascade_type="direct", parent_iku_code="IKU-CA", **ca)]),
             values={("IKU-M1", 3): 85})
    z.kk(signed_event("EV-ORPH", "KK-ORPH", position_level=2, parent_contract_id="KK-NOPE", lines=[
        line("IKU-O", cascade_type="direct", parent_iku_code="IKU-X")]))
    z.kk(signed_event("EV-ORPH2", "KK-ORPH2", position_level=2, parent_contract_id="KK-CPARENT",
                      lines=[line("IKU-O2", cascade_type="indirect", parent_iku_code="IKU-MISSING")]))
    SCENARIOS["cascade_multi_orphan"] = (
        {"KK-CPARENT", "KK-CPARENT-K", "KK-MULTI1", "KK-MULTI2", "KK-ORPH", "KK-ORPH2"}, {
            ("CASCADE_DIRECT_MULTI", "KK-CPARENT-K", "IKU-CA", None, "EV-CPARENT-K"),
            ("CASCADE_ORPHAN", "KK-ORPH", "IKU-O", None, "EV-ORPH"),
            ("CASCADE_ORPHAN", "KK-ORPH2", "IKU-O2", None, "EV-ORPH2"),
            ("CASCADE_REALISATION_MISMATCH", "KK-MULTI1", "IKU-M1", "Q3", "RP-KK-MULTI1-IKU-M1-Q3"),
        })

    # CASCADE_TARGET_MISMATCH: a direct child with another trajectory; two indirect children of a
    # sum IKU whose annual targets (15 + 15) fall short of the parent's 40. CASCADE_REALISATION_
    # MISMATCH: a direct child reports 75 where the parent reports 80 in Q2.
    z.kk(signed_event("EV-TPARENT", "KK-TPARENT", lines=[
        line("IKU-TA", weight=40.0, **ca),
        line("IKU-TB", weight=30.0, consolidation="sum", unit_of_measure="dokumen",
             **traj(10, 10, 10, 10, 40)),
        line("IKU-TC", weight=30.0, **ca),
    ]))
    z.kk(signed_event("EV-TDIRECT", "KK-TDIRECT", position_level=2, parent_contract_id="KK-TPARENT",
                      lines=[line("IKU-D", cascade_type="direct", parent_iku_code="IKU-TA",
                                  **traj(80, 80, 85, 85, 82.5))]), values={("IKU-D", 3): 80})
    for i in (1, 2):
        z.kk(signed_event(f"EV-TIND{i}", f"KK-TIND{i}", position_level=2,
                          parent_contract_id="KK-TPARENT", lines=[
                              line(f"IKU-I{i}", cascade_type="indirect", parent_iku_code="IKU-TB",
                                   consolidation="sum", unit_of_measure="dokumen",
                                   **traj(3, 4, 4, 4, 15))]))
    z.kk(signed_event("EV-RDIRECT", "KK-RDIRECT", position_level=2, parent_contract_id="KK-TPARENT",
                      lines=[line("IKU-RC", cascade_type="direct", parent_iku_code="IKU-TC", **ca)]),
         values={("IKU-RC", 2): 75})
    SCENARIOS["cascade_targets_realisations"] = (
        {"KK-TPARENT", "KK-TDIRECT", "KK-TIND1", "KK-TIND2", "KK-RDIRECT"}, {
            ("CASCADE_TARGET_MISMATCH", "KK-TDIRECT", "IKU-D", None, "EV-TDIRECT"),
            ("CASCADE_TARGET_MISMATCH", "KK-TIND1", "IKU-I1", None, "EV-TIND1"),
            ("CASCADE_TARGET_MISMATCH", "KK-TIND2", "IKU-I2", None, "EV-TIND2"),
            ("CASCADE_REALISATION_MISMATCH", "KK-RDIRECT", "IKU-RC", "Q2", "RP-KK-RDIRECT-IKU-RC-Q2"),
        })

    # A new CPNS signing from Q2 a direct child of an 80-every-quarter line: only the quarters both
    # KKs cover are compared, so no CASCADE_TARGET_MISMATCH (nor anything else).
    z.kk(signed_event("EV-MPARENT", "KK-MPARENT", lines=[line("IKU-MA", **ca)]))
    z.kk(signed_event("EV-MIDYEAR", "KK-MIDYEAR", reason="new_cpns", position_level=5,
                      effective_date="2026-04-06", signed_date="2026-04-08",
                      recorded_at="2026-04-08", parent_contract_id="KK-MPARENT", lines=[
                          line("IKU-MC", cascade_type="direct", parent_iku_code="IKU-MA",
                               **traj(None, 80, 80, 80, 80))]))
    SCENARIOS["cascade_mid_year_child"] = ({"KK-MPARENT", "KK-MIDYEAR"}, set())

    # REALISATION_UNKNOWN_IKU: a report for an IKU the KK does not have.
    z.kk(signed_event("EV-UNK", "KK-UNK"))
    z.report("KK-UNK", "IKU-NOPE", 1, 5.0, report_id="RP-UNK")
    SCENARIOS["realisation_unknown_iku"] = ({"KK-UNK"}, {
        ("REALISATION_UNKNOWN_IKU", "KK-UNK", "IKU-NOPE", "Q1", "RP-UNK"),
    })

    # REALISATION_MISSING: only Q1 reported; Q2 and Q3 are overdue at 31 December, Q4 is not due
    # before 15 January.
    z.kk(signed_event("EV-MISS", "KK-MISS", lines=[line("IKU-M")]), quarters=(1,))
    SCENARIOS["realisation_missing"] = ({"KK-MISS"}, {
        ("REALISATION_MISSING", "KK-MISS", "IKU-M", "Q2", None),
        ("REALISATION_MISSING", "KK-MISS", "IKU-M", "Q3", None),
    })
    return z


def clean_zone() -> Zone:
    """Everything right: cascading, an in-time addendum, an in-time komplemen whose declared
    targets agree with the rule, every due report."""
    z = Zone()
    z.kk(signed_event("EV-C-ROOT", "KK-C-ROOT", position_level=0, supervisor_nip=None, lines=[
        line("IKU-A", weight=50.0),
        line("IKU-B", weight=50.0, consolidation="sum", unit_of_measure="dokumen",
             **traj(10, 10, 10, 10, 40)),
    ]))
    z.kk(signed_event("EV-C-DIR", "KK-C-DIR", parent_contract_id="KK-C-ROOT", lines=[
        line("IKU-DA", cascade_type="direct", parent_iku_code="IKU-A")]))
    for i in (1, 2):
        z.kk(signed_event(f"EV-C-IND{i}", f"KK-C-IND{i}", parent_contract_id="KK-C-ROOT", lines=[
            line(f"IKU-IB{i}", cascade_type="indirect", parent_iku_code="IKU-B", consolidation="sum",
                 unit_of_measure="dokumen", **traj(5, 5, 5, 5, 20))]))
    z.events.append(addendum_event("EV-C-ADD", "KK-C-IND1", reason="other", lines=[
        line("IKU-IB1", cascade_type="indirect", parent_iku_code="IKU-B", consolidation="sum",
             unit_of_measure="dokumen", **traj(5, 5, 6, 6, 22))]))
    z.reports = [r for r in z.reports if r["report_id"] != "RP-KK-C-IND1-IKU-IB1-Q3"]
    z.report("KK-C-IND1", "IKU-IB1", 3, 6.0)
    sum_line = dict(consolidation="sum", polarity="maximize")
    z.kk(signed_event("EV-C-OLD", "KK-C-OLD", lines=[line("IKU-S", **sum_line, **traj(10, 20, 25, 35, 90))]),
         quarters=(1, 2), values={("IKU-S", 2): 15})
    z.kk(komplemen_event("EV-C-NEW", "KK-C-NEW", "KK-C-OLD", effective_date="2026-07-01",
                         signed_date="2026-07-22", recorded_at="2026-07-22", lines=[
                             line("IKU-S", **sum_line, **traj(None, None, 25, 35, 60))]), quarters=(3,))
    return z


# ---------------------------------------------------------------------------------------------
# Builds (once per session)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def audit_landing(tmp_path_factory) -> Path:
    return scenario_zone().write(tmp_path_factory.mktemp("audit") / "landing")


@pytest.fixture(scope="session")
def audit_warehouse(audit_landing, tmp_path_factory) -> Path:
    return build_warehouse(audit_landing, tmp_path_factory.mktemp("audit_wh") / "wh.duckdb", AS_OF)


@pytest.fixture(scope="session")
def audit_warehouse_july(audit_landing, tmp_path_factory) -> Path:
    return build_warehouse(audit_landing, tmp_path_factory.mktemp("audit_wh_july") / "wh.duckdb",
                           EARLY_AS_OF)


def findings(wh: Path, contracts: set[str]) -> set[tuple]:
    rows = query(wh, "select rule, contract_id, iku_code, period, event_id from marts.audit_findings "
                     "where list_contains(?, contract_id)", [sorted(contracts)])
    assert len(rows) == len(set(rows)), f"duplicate findings: {rows}"
    return set(rows)


def test_scenarios_cover_every_rule():
    scenario_zone()
    covered = {f[0] for _contracts, expected in SCENARIOS.values() for f in expected}
    assert covered == ALL_RULES


@pytest.mark.parametrize("name", [
    "trajectory", "weights", "target_not_scorable", "kk_signed_late", "kk_after_cutoff",
    "missing_approval", "addendum_late", "addendum_not_allowed", "addendum_revises_past",
    "addendum_out_of_order",
    "addendum_required", "komplemen_late", "komplemen_after_cutoff", "komplemen_target_mismatch",
    "cascade_multi_orphan", "cascade_targets_realisations", "cascade_mid_year_child",
    "realisation_unknown_iku",
    "realisation_missing",
])
def test_scenario_raises_exactly_its_findings(audit_warehouse, name):
    contracts, expected = SCENARIOS[name]
    assert findings(audit_warehouse, contracts) == expected


def test_severity_and_detail(audit_warehouse):
    rows = query(audit_warehouse, "select rule, severity, year, detail from marts.audit_findings")
    assert rows
    severities = dict(query(audit_warehouse, "select rule, severity from reference.audit_rules"))
    assert len(severities) == len(ALL_RULES) and set(severities) == ALL_RULES
    for rule, severity, year, detail in rows:
        assert severity == severities[rule]
        assert year == 2026
        assert detail and len(detail) > 40
    # the detail names the event, the deadline and the date found
    (detail,) = query(audit_warehouse, "select detail from marts.audit_findings "
                                       "where rule = 'KK_SIGNED_LATE' and contract_id = 'KK-CPNS'")[0]
    assert "EV-CPNS" in detail and "2026-04-09" in detail and "2026-04-08" in detail


def test_no_finding_outside_the_scenarios(audit_warehouse):
    known = set().union(*(contracts for contracts, _ in SCENARIOS.values()))
    others = query(audit_warehouse, "select rule, contract_id from marts.audit_findings "
                                    "where not list_contains(?, contract_id)", [sorted(known)])
    assert others == []


def test_finding_id_unique_and_stable_across_rebuilds(audit_warehouse):
    from kinerja.dbt_build import run_dbt

    sql = ("select finding_id, rule, contract_id, iku_code, period, event_id "
           "from marts.audit_findings order by finding_id")
    before = query(audit_warehouse, sql)
    assert len({r[0] for r in before}) == len(before) > 20
    run_dbt("build", audit_warehouse, AS_OF, ["--select", "audit_findings"])
    assert query(audit_warehouse, sql) == before


def test_rules_judged_at_the_as_of_date(audit_warehouse_july):
    """As of 20 July: ADDENDUM_REQUIRED not yet (only after 20 July); Q2 reports (due 15 July)
    are missing, Q3 (due 15 October) not yet; events recorded later are not known."""
    assert findings(audit_warehouse_july, {"KK-REQ"}) == set()
    assert findings(audit_warehouse_july, {"KK-MISS"}) == {
        ("REALISATION_MISSING", "KK-MISS", "IKU-M", "Q2", None)}
    assert findings(audit_warehouse_july, {"KK-KAC", "KK-KAC-OLD", "KK-CUTOFF"}) == set()


def test_clean_landing_raises_no_finding(tmp_path_factory):
    landing = clean_zone().write(tmp_path_factory.mktemp("audit_clean") / "landing")
    wh = build_warehouse(landing, tmp_path_factory.mktemp("audit_clean_wh") / "wh.duckdb", AS_OF)
    assert query(wh, "select count(*) from marts.contract_lines")[0][0] == 7
    assert query(wh, "select rule, contract_id, iku_code, period, detail from marts.audit_findings") == []


def test_working_day_calendar(audit_warehouse):
    rows = dict(query(audit_warehouse, "select calendar_date, is_working_day "
                                       "from intermediate.int_calendar_working_days "
                                       "where calendar_date between '2026-03-18' and '2026-03-23'"))
    assert [rows[date(2026, 3, d)] for d in range(18, 24)] == [True, False, True, False, False, True]
    assert query(audit_warehouse, "select is_working_day from intermediate.int_calendar_working_days "
                                  "where calendar_date = '2026-08-17'") == [(False,)]
