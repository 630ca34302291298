"""`make bench` / `python -m kinerja.bench`: ministry-scale performance figures (docs/BENCHMARKS.md).

Every measured step runs in a fresh child process (`kinerja.bench.step`); the parent samples the
resident memory of the child and all its descendants (dbt runs as a grandchild) and reads the
child's own `getrusage` maxima, so the peak RSS includes dbt. Speed is measured, never asserted.
"""
