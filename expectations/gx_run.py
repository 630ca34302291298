"""Run the suites as one Great Expectations checkpoint over the summary row; write the data docs.

The GE context is ephemeral (in memory): nothing of GE lives in the repository or next to the
warehouse except the data docs site. GE is imported here, lazily, because importing it costs
several seconds that the rest of the CLI should not pay; `preload()` starts that import on a
background thread so it overlaps other work (the batch calls it before the dbt build; run_checks
calls it before the DuckDB summary), and `run_checkpoint` waits for it.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .rules import Rule, Suite
from .summary import COMPUTABLE, column

SITE = "kinerja_data_quality"

_preload_lock = threading.Lock()
_preload_thread: threading.Thread | None = None


def _quiet_ge() -> None:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # before the import: GE reads it at import time
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _import_ge() -> None:
    _quiet_ge()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations  # noqa: F401
            import great_expectations.expectations  # noqa: F401
            import pandas  # noqa: F401
            from great_expectations.data_context.types import base  # noqa: F401
    except Exception:  # noqa: BLE001 - run_checkpoint imports again and reports the error
        pass


def preload() -> threading.Thread:
    """Start importing Great Expectations on a daemon thread, once per process; returns it.

    The import is seconds of Python work that needs nothing from the warehouse, so it can run
    while the process waits for something else (the dbt build's child process, the DuckDB
    summary). Calling it again, or never, is harmless: run_checkpoint waits for a started import
    and otherwise imports GE itself."""
    global _preload_thread
    with _preload_lock:
        if _preload_thread is None:
            _preload_thread = threading.Thread(target=_import_ge, name="gx-import", daemon=True)
            _preload_thread.start()
        return _preload_thread


def _wait_for_preload() -> None:
    with _preload_lock:
        thread = _preload_thread
    if thread is not None:
        thread.join()


@dataclass(frozen=True)
class ExpectationOutcome:
    column: str  # "<suite>.<rule>", or "<suite>.computable"
    success: bool
    observed: Any
    error: str | None  # an exception GE raised evaluating it (counted as a failure)


def _computable_rule(suite: Suite) -> Rule:
    return Rule(name=COMPUTABLE, min_value=1, max_value=1, value_sql="",
                description=f"all tables of {suite.name} exist and its queries ran",
                why="a public table that is missing or has lost a column cannot be checked, "
                    "so it cannot be published")


def _expectation(suite: Suite, rule: Rule, computed_over: str | None = None):
    import great_expectations.expectations as gxe

    if not suite.blocking:
        severity = "info" if rule.max_value is None else "warning"
    else:
        severity = "critical"
    label = "blocking" if suite.blocking else ("info" if severity == "info" else "warning")
    # On a one-row frame the column's max is the figure itself; unlike a values-between check,
    # "max" shows the observed figure in the data docs even when it passes.
    return gxe.ExpectColumnMaxToBeBetween(
        column=column(suite, rule.name),
        min_value=rule.min_value,
        max_value=rule.max_value,
        # the severity leads the text: it is what a reader of the data docs needs first
        description=f"[{label}] {rule.description}: expected {rule.bounds_text()}",
        severity=severity,
        meta={"rule": rule.name, "why": rule.why,
              "severity": "blocking" if suite.blocking else "warning",
              **({"computed_over": computed_over} if computed_over else {})},
    )


def _context(docs_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (DataContextConfig,
                                                            InMemoryStoreBackendDefaults,
                                                            ProgressBarsConfig)

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_checkpoint(suites: Sequence[Suite], summary_row: dict[str, Any], docs_dir: Path,
                   run_name: str, computed_over: dict[str, str] | None = None
                   ) -> dict[str, list[ExpectationOutcome]]:
    """Validate the one summary row against every suite; return outcomes per suite.
    `computed_over`: per column, what its figure was computed over (expectation meta)."""
    computed_over = computed_over or {}
    _wait_for_preload()
    _quiet_ge()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        import pandas as pd  # imported by GE already: not paid before the checks need it

        frame = pd.DataFrame([summary_row])

        context = _context(docs_dir)
        asset = context.data_sources.add_pandas("kinerja").add_dataframe_asset("night_summary")
        batch = asset.add_batch_definition_whole_dataframe("night")
        definitions = []
        for suite in suites:
            # Expectations are given at creation: add_expectation() re-saves the suite each time.
            gx_suite = context.suites.add(gx.ExpectationSuite(
                name=suite.name,
                expectations=[_expectation(suite, rule, computed_over.get(column(suite, rule.name)))
                              for rule in (_computable_rule(suite), *suite.rules)],
                meta={"blocking": suite.blocking, "purpose": suite.purpose},
                # shown on the suite's page of the data docs
                notes=("**Blocking**: a failure stops publication. " if suite.blocking else
                       "**Warning**: reported and published. ") + f"Checks that {suite.purpose}."))
            definitions.append(context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)))
        # No UpdateDataDocsAction: it rebuilds the site once per suite (quadratic in the number
        # of suites, seconds each); one build after the run renders every page once.
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="kinerja_nightly", validation_definitions=definitions, result_format="SUMMARY"))
        result = checkpoint.run(batch_parameters={"dataframe": frame},
                                run_id=gx.RunIdentifier(run_name=run_name))
        context.build_data_docs(site_names=[SITE])

    outcomes: dict[str, list[ExpectationOutcome]] = {}
    for validation in result.run_results.values():
        rows = outcomes.setdefault(validation.suite_name, [])
        for r in validation.results:
            info = r.exception_info or {}
            raised = info.get("raised_exception") if isinstance(info, dict) else False
            rows.append(ExpectationOutcome(
                column=r.expectation_config.kwargs["column"],
                success=bool(r.success),
                observed=(r.result or {}).get("observed_value"),
                error=(info.get("exception_message") or "raised an exception") if raised else None,
            ))
    return outcomes
