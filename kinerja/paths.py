"""Where the repository's parts live, relative to this package (an editable install of the repo)."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DAGS_DIR = REPO_ROOT / "dags"
EXAMPLES_DIR = REPO_ROOT.parent / "shared" / "examples"


def dbt_work_dir(warehouse: Path) -> Path:
    """dbt's target/ and logs/ for one warehouse file, so parallel builds never share them."""
    return warehouse.parent / f".{warehouse.name}.dbt"
