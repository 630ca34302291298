"""The vocabulary the suites are written in: a suite is a list of rules, a rule is one number.

Every rule is a single figure computed by DuckDB over a whole table (a count of violating rows, a
count of duplicated keys, a share): the warehouse never travels to pandas, only one summary row
does. Great Expectations then validates that row, one expectation per rule, and the data docs show
each figure next to its bounds. A rule that counts rows also knows how to fetch a few of them, so a
failure can name what broke.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence


@dataclass(frozen=True)
class Rule:
    name: str  # short, unique within the suite; becomes "<suite>.<name>" in the summary row
    description: str  # what the figure counts, shown in the data docs and in failure messages
    why: str  # the reason the rule exists (DATA_QUALITY.md, expectation meta)
    value_sql: str  # scalar SQL; {as_of} is replaced by the as-of date literal
    sample_sql: str | None = None  # a few offending rows, fetched only when the rule fails
    min_value: float | None = 0
    max_value: float | None = 0  # None: no upper bound (an informational figure)
    tables: tuple[str, ...] = ()  # tables the rule reads; a missing one fails the suite
    # the figure counts offending rows or repeated keys of its one table, so over any rows that
    # hold every row sharing a key with them it is their share of the whole (expectations/scope.py)
    per_row: bool = False

    def bounds_text(self) -> str:
        if self.min_value is not None and self.max_value is not None:
            return f"= {self.min_value:g}" if self.min_value == self.max_value else \
                f"in [{self.min_value:g}, {self.max_value:g}]"
        if self.max_value is not None:
            return f"<= {self.max_value:g}"
        return f">= {self.min_value:g}" if self.min_value is not None else "any value"

    def accepts(self, value) -> bool:
        if value is None:
            return False
        return (self.min_value is None or value >= self.min_value) and \
            (self.max_value is None or value <= self.max_value)


@dataclass(frozen=True)
class Suite:
    name: str
    blocking: bool  # blocking: a failure stops publication; else a warning that is published
    purpose: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def __post_init__(self):
        # Rule names become the summary row's columns: a repeated name would silently hide a rule.
        names = [r.name for r in self.rules]
        repeated = {n for n in names if names.count(n) > 1}
        if repeated:
            raise ValueError(f"suite {self.name}: rule names repeated: {sorted(repeated)}")

    @property
    def tables(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for rule in self.rules:
            for table in rule.tables:
                seen.setdefault(table, None)
        return tuple(seen)


def sql_list(values: Sequence[object]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(columns)


# Rule builders: the shapes that recur across the suites, so a suite module reads as a table.

def rows_where(table: str, name: str, predicate: str, description: str, why: str,
               show: Sequence[str]) -> Rule:
    """Rows of `table` matching `predicate` (the violation) must number 0."""
    return Rule(
        name=name, description=description, why=why, tables=(table,), per_row=True,
        value_sql=f"select count(*) from {table} where {predicate}",
        sample_sql=f"select {_cols(show)} from {table} where {predicate} limit 3",
    )


def null_keys(table: str, keys: Sequence[str], why: str = "a row without its key cannot be "
              "joined, deduplicated or shown; the fold must always fill it") -> Rule:
    predicate = " or ".join(f"{k} is null" for k in keys)
    return rows_where(table, "null_keys", f"({predicate})",
                      f"rows of {table} with a null in ({_cols(keys)})", why, keys)


def duplicate_keys(table: str, keys: Sequence[str], why: str | None = None,
                   name: str = "duplicate_keys") -> Rule:
    """Key values that occur more than once must number 0."""
    k = _cols(keys)
    return Rule(
        name=name, tables=(table,), per_row=True,
        description=f"({k}) values occurring more than once in {table}",
        why=why or f"WAREHOUSE.md promises one row per ({k}); a duplicate double-counts in every "
                   "recap and NKO built on it",
        # Exact, but only rows whose key *hash* repeats reach the text group-by: at 7 M rows this
        # halves the cost of the most expensive check (hash collisions merely let rows through).
        value_sql=f"select count(*) from (select 1 from {table} where hash({k}) in (select h from "
                  f"(select hash({k}) as h from {table}) group by h having count(*) > 1) "
                  f"group by {k} having count(*) > 1)",
        sample_sql=f"select {k}, count(*) as copies from {table} group by {k} "
                   f"having count(*) > 1 limit 3",
    )


def outside_set(table: str, column: str, allowed: Sequence[object], why: str,
                nullable: bool = False) -> Rule:
    predicate = f"{column} not in ({sql_list(allowed)})"
    if not nullable:
        predicate = f"({predicate} or {column} is null)"
    return Rule(
        name=f"{column}_outside_set", tables=(table,), per_row=True,
        description=f"rows of {table} whose {column} is not one of {{{', '.join(map(str, allowed))}}}"
                    + ("" if nullable else " (or is null)"),
        why=why,
        value_sql=f"select count(*) from {table} where {predicate}",
        sample_sql=f"select {column}, count(*) as rows from {table} where {predicate} "
                   f"group by {column} limit 3",
    )


def outside_range(table: str, column: str, low: float, high: float, why: str,
                  show: Sequence[str]) -> Rule:
    """Non-null values of `column` outside [low, high] must number 0 (null is judged elsewhere)."""
    return rows_where(table, f"{column}_out_of_range", f"({column} < {low} or {column} > {high})",
                      f"rows of {table} with {column} outside [{low:g}, {high:g}]", why,
                      [*show, column])


def empty_while(table: str, upstream: str, upstream_sql: str, why: str,
                tables: Sequence[str] = ()) -> Rule:
    """1 when `table` is empty although `upstream_sql` (an EXISTS-able query) has rows.

    Every other rule counts violations, and an empty table has none: without this, a fold that
    silently produced nothing would pass.
    """
    return Rule(
        name="empty_while_upstream_has_rows", tables=(table, *tables),
        description=f"{table} is empty although {upstream} (1 = yes)",
        why=why,
        value_sql=f"select case when exists ({upstream_sql}) and not exists "
                  f"(select 1 from {table}) then 1 else 0 end",
    )
