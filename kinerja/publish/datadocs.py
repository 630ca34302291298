"""Copy the night's Great Expectations data docs into the publication, NIPs masked.

GE renders sample and unexpected values into its HTML/JSON, and those can be NIPs. Every text
file is therefore passed through `masking.mask_text` (any 18-digit run) unless masking is off.
When the check report has no docs folder, a placeholder page keeps the dashboard's link valid.

GE's own index page builds its tables with JavaScript from public CDNs, so offline it shows no
suite at all. The publication therefore keeps it as `ge-index.html` and puts an offline
`index.html` in front: every suite, blocking or warning, its result and a link to its validation
page (plain HTML that GE renders in Python, readable offline).
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
    (dest / "index.html").replace(dest / "ge-index.html")
    _write_offline_index(check_report, dest)
    return True


def _validation_page(dest: Path, suite: str) -> str | None:
    pages = sorted((dest / "validations" / suite).rglob("*.html"))
    return pages[-1].relative_to(dest).as_posix() if pages else None


def _write_offline_index(check_report, dest: Path) -> None:
    verdict = str(getattr(check_report, "verdict", None) or "unknown")
    rows = []
    for name, success, blocking in getattr(check_report, "suites", None) or ():
        page = _validation_page(dest, name)
        label = html.escape(name)
        link = f"<a href='{html.escape(page)}'>{label}</a>" if page else label
        result = "Success" if success else "Failed"
        colour = "#1e7b34" if success else ("#b42318" if blocking else "#b54708")
        rows.append(f"<tr><td>{link}</td><td>{'blocking' if blocking else 'warning'}</td>"
                    f"<td style='color:{colour};font-weight:600'>{result}</td></tr>")
    (dest / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Data quality of the night</title>"
        "<body style='font-family:sans-serif;margin:2em;max-width:60em'>"
        f"<h1>Data quality of the night: {html.escape(verdict.upper())}</h1>"
        "<table style='border-collapse:collapse' cellpadding='6' border='1'>"
        "<tr><th>suite</th><th>severity</th><th>result</th></tr>" + "".join(rows) + "</table>"
        "<p><a href='ge-index.html'>Great Expectations index</a> (needs internet for its tables)"
        " &middot; <a href='../index.html'>Back to the dashboard</a></p></body>",
        encoding="utf-8")
