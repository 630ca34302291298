"""Compute every rule's figure in DuckDB: one summary row for the whole night.

With expectations/scope.py (which rows changed since the last check) the only module that reads
the warehouse. Each rule is one scalar query, so the cost is a few column scans per public table
(or per table of the night's changed rows, see scope.py); nothing row-level leaves DuckDB except the
handful of sample rows of a rule that fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable

import duckdb

from .rules import Rule, Suite

COMPUTABLE = "computable"  # per suite: 1 when all its tables exist and all its queries ran


def column(suite: Suite, rule_name: str) -> str:
    """The summary row's column for one rule (unique across suites: the checkpoint shares one row)."""
    return f"{suite.name}.{rule_name}"


@dataclass
class Summary:
    values: dict[str, float | int | None] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)  # column -> a few offending rows
    problems: dict[str, str] = field(default_factory=dict)  # suite -> why it could not be computed


def _number(value):
    # DuckDB returns HUGEINT sums as int and DECIMAL as Decimal; GE wants plain numbers.
    return float(value) if isinstance(value, Decimal) else value


def _sql(rule_sql: str, as_of: date) -> str:
    return rule_sql.replace("{as_of}", f"date '{as_of.isoformat()}'")


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables")
    return {name for (name,) in rows.fetchall()}


def _sample(con: duckdb.DuckDBPyConnection, rule: Rule, as_of: date) -> str:
    if not rule.sample_sql:
        return ""
    try:
        cur = con.execute(_sql(rule.sample_sql, as_of))
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except duckdb.Error as exc:  # a sample is decoration: never let it hide the failure itself
        return f"(sample unavailable: {str(exc).splitlines()[0]})"
    return "; ".join(", ".join(f"{n}={v}" for n, v in zip(names, row)) for row in rows)


def summarise(con: duckdb.DuckDBPyConnection, suites: Iterable[Suite], as_of: date,
              scope=None) -> Summary:
    """`scope` (expectations.scope.CheckScope): computes a rule over the changed rows when that
    gives the whole table's figure; None: every rule over its whole tables."""
    summary = Summary()
    existing = _existing_tables(con)
    for suite in suites:
        missing = [t for t in suite.tables if t not in existing]
        values: dict[str, float | int | None] = {column(suite, r.name): None for r in suite.rules}
        if missing:
            summary.problems[suite.name] = "missing table " + ", ".join(missing)
        else:
            try:
                for rule in suite.rules:
                    sql = scope.sql_for(con, suite, rule) if scope else rule.value_sql
                    row = con.execute(_sql(sql, as_of)).fetchone()
                    values[column(suite, rule.name)] = _number(row[0]) if row else None
            except duckdb.Error as exc:  # e.g. a public column renamed: the suite fails, loudly
                values = dict.fromkeys(values)
                summary.problems[suite.name] = f"query of rule {rule.name} failed: " \
                                               f"{str(exc).splitlines()[0]}"
        summary.values[column(suite, COMPUTABLE)] = 0 if suite.name in summary.problems else 1
        summary.values.update(values)
        if suite.name not in summary.problems:
            for rule in suite.rules:
                col = column(suite, rule.name)
                if not rule.accepts(values[col]):
                    summary.samples[col] = _sample(con, rule, as_of)
    return summary
