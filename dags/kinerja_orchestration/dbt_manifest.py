"""The dbt manifest cosmos renders the DAG from, regenerated only when the dbt project changes.

Why LoadMode.DBT_MANIFEST with a manifest made here rather than LoadMode.DBT_LS: `dbt ls` would
run (a few seconds, with a profile pointing at some warehouse) every time the DAG processor parses
the file, unless cosmos's cache is used, and that cache lives in Airflow Variables. A manifest keyed
by a hash of the project's files costs one `dbt parse` (~5 s, offline, opens no database) after a
change of the project and a JSON read otherwise; every worker computes the same hash from the same
files, so there is nothing to ship or keep in sync. The project has no packages (`dbt deps` is never
needed).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Build outputs and editor state: not part of what dbt parses.
_SKIP_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}
PARSE_TIMEOUT_SECONDS = 120
KEEP_VERSIONS = 5  # a worker still on the previous code version keeps finding its manifest


def project_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if not path.is_file() or any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts):
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def ensure_manifest(project_dir: Path, cache_dir: Path) -> Path:
    """Return `<cache_dir>/<fingerprint>/manifest.json`, running `dbt parse` if it is not there yet.

    Concurrent parsers (DAG processor, workers) each write a private temporary directory and
    rename the finished manifest into place, so a reader never sees half a file.
    """
    manifest = cache_dir / project_fingerprint(project_dir) / "manifest.json"
    if manifest.exists():
        return manifest
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="parse-", dir=cache_dir))
    try:
        # The profile reads KINERJA_WAREHOUSE; `dbt parse` never opens it, but the variable must be
        # set. A subprocess keeps dbt's global state and logging out of the Airflow process.
        env = {**os.environ, "KINERJA_WAREHOUSE": str(work / "unused.duckdb")}
        done = subprocess.run(
            [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "parse",
             "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
             "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
             "--no-partial-parse", "--quiet", "--no-use-colors"],
            env=env, capture_output=True, text=True, timeout=PARSE_TIMEOUT_SECONDS,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dbt parse of {project_dir} failed (exit {done.returncode}): "
                               + (done.stdout + done.stderr).strip()[-2000:])
        manifest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / "target" / "manifest.json", manifest)
        _prune(cache_dir, keep=manifest.parent)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prune(cache_dir: Path, keep: Path, versions: int = KEEP_VERSIONS) -> None:
    """Drop all but the newest manifests (~1 MB each; one per change of the dbt project)."""
    done = [d for d in cache_dir.iterdir() if (d / "manifest.json").exists() and d != keep]
    done.sort(key=lambda d: (d / "manifest.json").stat().st_mtime, reverse=True)
    for old in done[versions - 1:]:
        shutil.rmtree(old, ignore_errors=True)
