"""The report's tables as HTML pages: Snakemake's report shows an HTML result inside the page,
where a CSV or Markdown file would only be offered for download.

Every value is escaped; the pages load no outside resource, so the report stays self-contained.
Only the leaderboard page carries a script: a few inline lines that sort its tables by the
column whose heading is clicked.
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


# Sorts a table.sortable by the clicked heading's column: by each cell's data-value where it has
# one (numbers; an empty one last), else by its text. The first click sorts numbers highest
# first and text A to Z; the next reverses. Array.sort is stable, so ties keep their order.
_SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (heading, column) {
    heading.addEventListener('click', function () {
      var numeric = heading.hasAttribute('data-numeric');
      var order = heading.dataset.order ? -Number(heading.dataset.order) : (numeric ? -1 : 1);
      heading.dataset.order = order;
      var body = table.tBodies[0];
      var key = function (row) {
        var cell = row.cells[column], value = cell.getAttribute('data-value');
        return value === null ? cell.textContent : (value === '' ? NaN : Number(value));
      };
      Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        if (!numeric) return order * String(x).localeCompare(String(y));
        if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
        return order * (x - y);
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
_SORTABLE_STYLE = (
    "table.sortable th{cursor:pointer;position:sticky;top:0}"
    "table.sortable tbody tr:nth-child(even){background:#fafafa}"
)
# Heading -> (leaderboard column, how a cell shows it); numbers sort by the column's value.
_LEADERBOARD_CELLS: tuple[tuple[str, str, str], ...] = (
    ("method", "method", "text"),
    ("rank", "rank", "integer"),
    ("model", "model", "text"),
    ("variant", "variant", "text"),
    ("top-1 % [95 % CI]", "top1", "top1"),
    ("letters", "letters", "text"),
    ("balanced acc. %", "balanced_accuracy", "percent"),
    ("images/s", "images_per_second", "speed"),
    ("ms/image", "ms_per_image", "latency"),
    ("peak memory (MiB)", "peak_memory_mb", "memory"),
    ("parameters (M)", "parameters", "millions"),
    ("GFLOPs/image", "gflops_per_image", "gflops"),
    ("published ImageNet top-1 %", "published_imagenet_top1", "percent"),
)


def _missing_value(value: object) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _cell_text(row: pd.Series, column: str, kind: str) -> str:
    value = row.get(column)
    if kind == "top1":
        if _missing_value(value):
            return MISSING
        return (
            f"{100 * value:.1f} [{100 * row['top1_ci_low']:.1f}, {100 * row['top1_ci_high']:.1f}]"
        )
    if _missing_value(value):
        return "" if kind == "text" else MISSING
    formats = {
        "integer": lambda v: f"{int(v)}",
        "percent": lambda v: f"{100 * v:.1f}",
        "speed": lambda v: f"{v:,.1f}",
        "latency": lambda v: f"{v:.3f}",
        "memory": lambda v: f"{v:,.0f}",
        "millions": lambda v: f"{v / 1e6:,.2f}",
        "gflops": lambda v: f"{v:,.3f}",
    }
    return formats[kind](float(value)) if kind in formats else str(value)  # type: ignore[arg-type]


def _leaderboard_table(rows: pd.DataFrame) -> str:
    headings = "".join(
        f"<th{'' if kind == 'text' else ' data-numeric'}>{html.escape(heading)}</th>"
        for heading, _, kind in _LEADERBOARD_CELLS
    )
    body = []
    for _, row in rows.iterrows():
        cells = []
        for _, column, kind in _LEADERBOARD_CELLS:
            text = html.escape(_cell_text(row, column, kind))
            if kind == "text":
                cells.append(f"<td>{text}</td>")
            else:
                value = row.get(column)
                raw = "" if _missing_value(value) else f"{float(value):.17g}"  # type: ignore[arg-type]
                cells.append(f"<td data-value='{raw}'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table class='sortable'><thead><tr>{headings}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def leaderboard_html(leaderboard: pd.DataFrame, note: str | None) -> str:
    """results/leaderboard.csv as a page: a sortable table per test set (every method's
    ranking in it, best first), what the letters mean, what the runs were made from."""
    title = "Leaderboard (results/leaderboard.csv)"
    if leaderboard.empty:
        return _page(title, "<p>No results to rank.</p>")
    parts = [
        _note(note),
        "<p>Each test set's results ranked by top-1 per scoring method; click a heading to sort "
        "by its column (again to reverse). Results of one ranking that share a letter do not "
        "differ significantly (McNemar's exact test, Holm-corrected). CIFAR-10-C ranks the mean "
        "top-1 over its blocks, without letters: its pairs are tested block by block.</p>",
    ]
    for test_set, rows in leaderboard.groupby("test_set", sort=False):
        titles = rows["test_set_title"].dropna()
        name = f"{test_set} ({titles.iloc[0]})" if len(titles) else str(test_set)
        blocks = int(rows["blocks"].max())
        if blocks:
            name += f": mean over {blocks} blocks of {int(rows['images'].min())} images"
        parts += [f"<h3>{html.escape(name)}</h3>", _leaderboard_table(rows)]
    page = _page(title, "\n".join(parts))
    return page.replace("</style>", f"{_SORTABLE_STYLE}</style>").replace(
        "</body>", f"<script>{_SORT_SCRIPT}</script>\n</body>"
    )
