"""Helpers of the `kinerja_nightly` DAG: run-time settings and the dbt manifest cosmos renders from."""
