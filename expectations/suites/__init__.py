"""All suites of the nightly checkpoint, in the order they appear in the report and data docs."""
from __future__ import annotations

from ..rules import Suite
from . import ingest_ledger, marts, quality_signals, raw_store

ALL_SUITES: tuple[Suite, ...] = (
    ingest_ledger.SUITE,
    raw_store.SUITE,
    *marts.SUITES,
    quality_signals.SUITE,
)
