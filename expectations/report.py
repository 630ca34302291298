"""The night's verdict, as the batch and the publication read it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .gx_run import ExpectationOutcome
from .rules import Suite
from .summary import COMPUTABLE, Summary, column


@dataclass(frozen=True)
class SuiteResult:
    name: str
    success: bool
    blocking: bool
    evaluated: int = 0
    failed: tuple[str, ...] = ()  # rule names that failed

    def __iter__(self) -> Iterator:  # so `for name, success, blocking in report.suites` works
        return iter((self.name, self.success, self.blocking))


@dataclass
class CheckReport:
    blocking_failures: list[str] = field(default_factory=list)  # one line each; non-empty: no publish
    warnings: list[str] = field(default_factory=list)
    suites: list[SuiteResult] = field(default_factory=list)
    docs_dir: Path | None = None  # the GE data docs site (contains index.html)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    figures: dict[str, float | int | None] = field(default_factory=dict)  # the summary row
    # what the figures were computed over: {"scope": whole | changed, "reason", ...}
    scope: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.blocking_failures:
            return "fail"
        return "warn" if self.warnings else "pass"

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "blocking_failures": list(self.blocking_failures),
            "warnings": list(self.warnings),
            "suites": [{"name": s.name, "success": s.success, "blocking": s.blocking,
                        "evaluated": s.evaluated, "failed": list(s.failed)} for s in self.suites],
            "seconds": self.seconds,
            "timings": dict(self.timings),
            "scope": dict(self.scope),
        }


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "null" if value is None else str(value)


def build_report(suites: tuple[Suite, ...], summary: Summary,
                 outcomes: dict[str, list[ExpectationOutcome]]) -> CheckReport:
    """Turn GE's outcomes (the verdict) and the summary's samples (the evidence) into lines."""
    report = CheckReport(figures=dict(summary.values))
    for suite in suites:
        results = outcomes.get(suite.name)
        rules = {column(suite, r.name): r for r in suite.rules}
        lines: list[str] = []
        failed: list[str] = []
        if results is None:  # GE did not report the suite at all: treat as a failure
            lines.append(f"{suite.name}: not validated by the checkpoint")
            failed.append(COMPUTABLE)
            results = []
        broken = suite.name in summary.problems
        for outcome in results:
            if outcome.success:
                continue
            rule = rules.get(outcome.column)
            if rule is None:  # the suite's `computable` expectation
                why = summary.problems.get(suite.name, outcome.error or "unknown")
                lines.append(f"{suite.name}: cannot be checked ({why})")
                failed.append(COMPUTABLE)
            elif broken:
                continue  # the line above says why; the suite's figures are all missing
            else:
                failed.append(rule.name)
                line = f"{suite.name}: {rule.description} = {_fmt(outcome.observed)}, expected " \
                       f"{rule.bounds_text()}"
                if outcome.error:
                    line += f" (GE error: {outcome.error})"
                sample = summary.samples.get(outcome.column)
                if sample:
                    line += f" [e.g. {sample}]"
                lines.append(line)
        (report.blocking_failures if suite.blocking else report.warnings).extend(lines)
        report.suites.append(SuiteResult(suite.name, not failed, suite.blocking,
                                         evaluated=len(results), failed=tuple(failed)))
    return report
