"""Copy the night's Great Expectations data docs into the publication, NIPs masked.

GE renders sample and unexpected values into its HTML/JSON, and those can be NIPs. Every text
file is therefore passed through `masking.mask_text` (any 18-digit run) unless masking is off.
When the check report has no docs folder, a placeholder page keeps the dashboard's link valid.
"""
from __future__ import annotations

import html
import shutil
from pathlib import Path

from kinerja.publish.masking import mask_text

TEXT_SUFFIXES = {".html", ".htm", ".json", ".js", ".css", ".txt", ".csv", ".md", ".svg", ".xml"}


def copy_data_docs(check_report, dest: Path, mask_nip: bool = True) -> bool:
    """True when real data docs were copied, False when a placeholder was written."""
    src = getattr(check_report, "docs_dir", None) if check_report is not None else None
    src = Path(src) if src else None
    dest.mkdir(parents=True, exist_ok=True)
    if src is None or not (src / "index.html").is_file():
        verdict = getattr(check_report, "verdict", None) or "unknown"
        (dest / "index.html").write_text(
            "<!doctype html><meta charset='utf-8'><title>Data docs</title>"
            "<body style='font-family:sans-serif;margin:3em'>"
            "<h1>Data-quality report not available</h1>"
            f"<p>The checks of this night reported verdict <b>{html.escape(str(verdict))}</b>, "
            "but no Great Expectations data docs were produced.</p>"
            "<p><a href='../index.html'>Back to the dashboard</a></p></body>",
            encoding="utf-8")
        return False
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        target = dest / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if mask_nip and path.suffix.lower() in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            target.write_text(mask_text(text), encoding="utf-8", errors="surrogateescape")
        else:
            shutil.copyfile(path, target)
    return True
