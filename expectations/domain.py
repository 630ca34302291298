"""Enumerations of the public tables, written from the spec (DOMAIN.md, WAREHOUSE.md).

Kept here rather than read from the dbt seeds on purpose: the checks must judge the warehouse
against the contract, not against the warehouse's own reference data.
"""
from __future__ import annotations

PERIODS = ("Q1", "Q2", "S1", "Q3", "SDQ3", "Q4", "Y")  # DOMAIN.md 3
PERIOD_LAST_QUARTER = {"Q1": 1, "Q2": 2, "S1": 2, "Q3": 3, "SDQ3": 3, "Q4": 4, "Y": 4}
COLOURS = ("green", "yellow", "red")  # DOMAIN.md 4
GRADES = ("sangat_baik", "baik", "cukup", "kurang", "buruk")  # DOMAIN.md 5
ROLES = ("definitive", "acting")  # WAREHOUSE.md marts.responsibility
LEDGER_STATUSES = ("ingested", "rejected")  # WAREHOUSE.md ingest.ledger
EDGE_CASCADE_TYPES = ("direct", "indirect")  # an edge exists only for a cascaded line
ICI_MAX = 120  # konversi 120, then clamp to [0, 120] (DOMAIN.md 4)
NKO_MAX = 120  # a weighted mean of ICIs cannot leave the ICIs' range

# DOMAIN.md 9: rule code -> severity.
AUDIT_RULES = {
    "TRAJECTORY_INCONSISTENT": "error",
    "WEIGHTS_NOT_100": "error",
    "TARGET_NOT_SCORABLE": "error",
    "KK_SIGNED_LATE": "warning",
    "KK_AFTER_CUTOFF": "warning",
    "MISSING_APPROVAL": "error",
    "ADDENDUM_LATE": "warning",
    "ADDENDUM_NOT_ALLOWED": "error",
    "ADDENDUM_REVISES_PAST": "error",
    "ADDENDUM_REQUIRED": "warning",
    "KOMPLEMEN_LATE": "warning",
    "KOMPLEMEN_AFTER_CUTOFF": "warning",
    "KOMPLEMEN_TARGET_MISMATCH": "warning",
    "CASCADE_ORPHAN": "error",
    "CASCADE_DIRECT_MULTI": "error",
    "CASCADE_TARGET_MISMATCH": "warning",
    "CASCADE_REALISATION_MISMATCH": "warning",
    "REALISATION_UNKNOWN_IKU": "error",
    "REALISATION_MISSING": "warning",
}
FINDING_SEVERITIES = ("error", "warning")

# Thresholds of the warning suite, named so they can be tuned in one place.
MAX_QUARANTINED_SHARE = 0.01
MAX_NULL_ICI_SHARE_DUE = 0.05
REALISATION_DUE_DAYS = 15  # a quarter's report is due 15 days after the quarter (DOMAIN.md 8)
