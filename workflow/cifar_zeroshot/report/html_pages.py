"""The report's tables as HTML pages: Snakemake's report shows an HTML result inside the page,
where a CSV or Markdown file would only be offered for download.

Every value is escaped; the pages carry no script and no outside resource, so the report stays
self-contained.
"""

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.report.provenance import (
    SOURCE_COLOUR,
    WARNING_COLOUR,
    is_warning,
    provenance_note,
)
from cifar_zeroshot.report.summary import MISSING, summary_table

log = logging.getLogger(__name__)

_STYLE = (
    "body{font-family:sans-serif;font-size:14px;margin:12px}"
    "table{border-collapse:collapse}"
    "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}"
    "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}"
    f".note{{color:{WARNING_COLOUR};font-weight:bold}}"
    f".source{{color:{SOURCE_COLOUR}}}"
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(markdown_text: str) -> str:
    """Escaped text with Markdown's **bold** as <b> (the summary's header uses only that)."""
    return _BOLD.sub(r"<b>\1</b>", html.escape(markdown_text))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n<h2>{html.escape(title)}</h2>\n{body}\n</body></html>\n"
    )


def _note(note: str | None) -> str:
    """The provenance line: a warning, or what the runs were made from."""
    if not note:
        return ""
    if is_warning(note):
        return f"<p class='note'>{html.escape(note)}</p>\n"
    return f"<p class='source'>Made from: {html.escape(note)}</p>\n"


def summary_html(metrics: pd.DataFrame) -> str:
    """results/summary.md's table as a page."""
    if metrics.empty:
        return _page("Summary", "<p>No runs.</p>")
    table = summary_table(metrics)
    frame = pd.DataFrame(table.rows, columns=table.columns)
    body = f"{_note(table.note)}<p>{_inline(table.header)}</p>\n" + frame.to_html(
        index=False, escape=True, border=0
    )
    return _page("Summary", body)


def metrics_html(metrics: pd.DataFrame) -> str:
    """Every column of results/metrics.csv, one row per model, variant and method."""
    shown = metrics.dropna(axis="columns", how="all")  # columns no method filled
    body = _note(provenance_note(metrics)) + shown.to_html(
        index=False, escape=True, border=0, na_rep=MISSING, float_format=lambda v: f"{v:.4g}"
    )
    return _page("All metrics (results/metrics.csv)", body)


def write_html(text: str, path: str | Path) -> None:
    with atomic_path(path) as temp:
        Path(temp).write_text(text, encoding="utf-8")
    log.info("wrote %s", path)


def sections_html(sections: Sequence[Sequence[str]], note: str | None) -> str:
    """The summary's sections in words (paired comparisons, few-shot probes) as a page: each
    "## " line a heading, each "- " line an item of a list, other lines paragraphs."""
    parts = [_note(note)]
    for section in sections:
        items: list[str] = []
        for line in [*section, ""]:
            if line.startswith("- "):
                items.append(f"<li>{_inline(line[2:])}</li>")
                continue
            if items:
                parts.append("<ul>" + "".join(items) + "</ul>")
                items = []
            if line.startswith("## "):
                parts.append(f"<h3>{_inline(line[3:])}</h3>")
            elif line:
                parts.append(f"<p>{_inline(line)}</p>")
    return _page("Paired comparisons and few-shot probes", "\n".join(parts))
