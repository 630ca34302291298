"""The shared worked examples (../shared/examples/*/EXPECTED.md) as tests: every line's SQL is run
against the warehouse built from that example's landing zone, and its result compared."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_LANDING, query

EXPECTED_MD = EXAMPLE_LANDING.parent / "EXPECTED.md"
LINE = re.compile(r"^- (?P<label>.+?): `(?P<sql>select .+?)` -> `(?P<value>.+)`$")


def expected_lines(path: Path) -> list[tuple[str, str, object]]:
    cases = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        match = LINE.match(raw.strip())
        if match:
            cases.append((match["label"], match["sql"], json.loads(match["value"])))
    return cases


CASES = expected_lines(EXPECTED_MD)


def test_expected_md_was_parsed():
    # EXPECTED.md holds 49 checks; a format change must not silently skip them
    assert len(CASES) >= 45


def _close(actual, expected) -> bool:
    if isinstance(expected, list):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(
            _close(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return actual is not None and not isinstance(actual, str) and math.isclose(
            float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)
    return actual == expected


def _shape(rows: list[tuple], expected):
    """EXPECTED.md writes one scalar as a value, one row as a list, several rows as a list of lists."""
    if isinstance(expected, list) and expected and isinstance(expected[0], list):
        return [list(r) for r in rows]
    if isinstance(expected, list):
        assert len(rows) == 1, f"expected one row, got {rows}"
        return list(rows[0])
    assert len(rows) == 1 and len(rows[0]) == 1, f"expected one value, got {rows}"
    return rows[0][0]


@pytest.mark.parametrize("label,sql,expected", CASES, ids=[c[0] for c in CASES])
def test_worked_example(example_warehouse, label, sql, expected):
    actual = _shape(query(example_warehouse, sql), expected)
    if isinstance(expected, list) and expected and isinstance(expected[0], list) and "has exactly" in label:
        # a set of periods: the report order is not part of the contract
        assert sorted(map(json.dumps, actual)) == sorted(map(json.dumps, expected)), label
    else:
        assert _close(actual, expected), f"{label}: got {actual!r}, expected {expected!r}"
