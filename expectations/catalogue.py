"""Print the expectation catalogue (markdown) that docs/DATA_QUALITY.md carries.

    python -m expectations.catalogue

The doc is regenerated from the suites rather than written by hand, and a test checks that every
rule is in it, so the catalogue cannot drift from the code.
"""
from __future__ import annotations

from .suites import ALL_SUITES


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


BEGIN = "<!-- catalogue:begin (python -m expectations.catalogue) -->"
END = "<!-- catalogue:end -->"


def catalogue() -> str:
    out = []
    for suite in ALL_SUITES:
        severity = "blocking" if suite.blocking else "warning"
        out.append(f"### `{suite.name}` ({severity})\n\nChecks that {suite.purpose}.\n")
        out.append("| expectation (summary column) | figure | expected | why |")
        out.append("| --- | --- | --- | --- |")
        out.append(f"| `{suite.name}.computable` | all tables of the suite exist and its queries "
                   f"ran | = 1 | a table that is missing or lost a column cannot be checked |")
        for rule in suite.rules:
            out.append(f"| `{suite.name}.{rule.name}` | {_cell(rule.description)} | "
                       f"{_cell(rule.bounds_text())} | {_cell(rule.why)} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(catalogue())
