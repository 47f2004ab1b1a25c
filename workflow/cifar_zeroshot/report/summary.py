"""results/summary.md: the metrics table as Markdown, for the README."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cifar_zeroshot.analysis.leaderboard import peak_memory
from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.methods.registry import method_class
from cifar_zeroshot.report.provenance import (
    accuracy_title,
    images_name,
    is_warning,
    provenance_note,
)

log = logging.getLogger(__name__)

MISSING = "n/a"

# The headline table's rows at most (those with the highest top-1); results/metrics.csv holds
# every row and results/leaderboard.csv ranks them.
SUMMARY_ROWS = 20


def _percent(value: float) -> str:
    return MISSING if _missing(value) else f"{100 * value:.1f}"


def _missing(value: object) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _peak_memory(row: pd.Series) -> str:
    """The GPU's peak where one was measured, else the host's peak RSS."""
    memory = peak_memory(row)
    return MISSING if memory is None else f"{memory[0]:,.0f} MiB ({memory[1]})"


def _millions(value: object) -> str:
    return MISSING if _missing(value) else f"{float(value) / 1e6:,.2f}"  # type: ignore[arg-type]


def _gflops(value: object) -> str:
    return MISSING if _missing(value) else f"{float(value):,.3f}"  # type: ignore[arg-type]


def _worst_class(row: pd.Series) -> str:
    """The lowest per-class recall and its class, e.g. "0.9 (frog)"."""
    recall, name = row.get("worst_class_recall"), row.get("worst_class")
    return MISSING if _missing(recall) else f"{_percent(recall)} ({_text(name)})"


def _text(value: object) -> str:
    return MISSING if _missing(value) else str(value)


def _methods_text(metrics: pd.DataFrame) -> str:
    """How each scoring method made its scores; named only when there are several."""
    firsts = metrics.drop_duplicates("method")
    texts = []
    for _, row in firsts.iterrows():
        method = method_class(row["method"])
        text = method.describe_markdown({c: row[c] for c in method.setting_columns})
        texts.append(text if len(firsts) == 1 else f"method {row['method']}: {text}")
    return "; ".join(texts)


@dataclass(frozen=True)
class SummaryTable:
    """The headline table, before it is written as Markdown or HTML."""

    header: str  # one line; **bold** marks what a reader must not miss
    columns: list[str]
    rows: list[list[str]]  # cell texts, MISSING where a figure does not apply
    note: str | None  # synthetic images or untrained weights (report.provenance)


def summary_table(metrics: pd.DataFrame) -> SummaryTable:
    """A one-line header (dataset, images, how scores were made) and one row per model+variant
    (and method, where there are several)."""
    first = metrics.iloc[0]
    images = int(first["images"])
    header = (
        f"{accuracy_title(metrics['method'], images_name(metrics))} "
        f"(dataset **{first['dataset']}**, {images} test images), "
        f"{_methods_text(metrics)}; "
        "95 % Wilson intervals in brackets; timings exclude warm-up batches."
    )
    several_methods = metrics["method"].nunique() > 1
    columns = [
        "model",
        "variant",
        *(["method"] if several_methods else []),
        "weights",
        "device",
        "top-1 % [95 % CI]",
        "top-5 %",
        "balanced acc. %",
        "worst class %",
        "unrestricted top-1 %",
        "images/s",
        "ms/image",
        "peak memory",
        "parameters (M)",
        "GFLOPs/image",
    ]
    rows = []
    for _, row in metrics.iterrows():
        top1 = (
            f"{_percent(row['top1'])} [{_percent(row['top1_ci_low'])}, "
            f"{_percent(row['top1_ci_high'])}]"
        )
        speed = (
            MISSING if _missing(row["images_per_second"]) else f"{row['images_per_second']:,.1f}"
        )
        latency = MISSING if _missing(row["ms_per_image"]) else f"{row['ms_per_image']:.3f}"
        rows.append(
            [
                _text(row["model"]),
                _text(row["variant"]),
                *([_text(row["method"])] if several_methods else []),
                _text(row["weights"]),
                _text(row["device_name"] if not _missing(row["device_name"]) else row["device"]),
                top1,
                _percent(row["top5"]),
                _percent(row.get("balanced_accuracy")),
                _worst_class(row),
                _percent(row["unrestricted_top1"]),
                speed,
                latency,
                _peak_memory(row),
                _millions(row.get("parameters")),
                _gflops(row.get("gflops_per_image")),
            ]
        )
    return SummaryTable(header, columns, rows, provenance_note(metrics))


def summary_markdown(
    metrics: pd.DataFrame,
    sections: Sequence[Sequence[str]] = (),
    closing_sections: Sequence[Sequence[str]] = (),
) -> str:
    """The summary as Markdown (results/summary.md, and the README's results table); each of
    ``sections`` (lines: the paired comparisons, the few-shot probes) follows the table, each
    of ``closing_sections`` (the robustness table, which carries its own note) the note."""
    if metrics.empty:
        return "No runs.\n"
    shown = metrics
    if len(metrics) > SUMMARY_ROWS:  # the best rows; the files hold the rest
        shown = metrics.sort_values("top1", ascending=False, kind="stable").head(SUMMARY_ROWS)
    table = summary_table(shown)
    lines = [
        table.header,
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    for cells in table.rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if len(shown) < len(metrics):
        lines += [
            "",
            f"The {len(shown)} of {len(metrics)} rows with the highest top-1; every row: "
            "results/metrics.csv, ranked per test set and method: results/leaderboard.csv.",
        ]
    for section in sections:
        lines += ["", *section]
    # A summary copied without its figures must not pass for real results, nor lose what real
    # results were made from.
    if table.note and is_warning(table.note):
        lines += ["", f"**Note: {table.note}**"]
    elif table.note:
        lines += ["", f"Made from: {table.note}."]
    for section in closing_sections:
        if section:
            lines += ["", *section]
    return "\n".join(lines) + "\n"


def write_summary_markdown(
    metrics: pd.DataFrame,
    path: str | Path,
    sections: Sequence[Sequence[str]] = (),
    closing_sections: Sequence[Sequence[str]] = (),
) -> None:
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write(summary_markdown(metrics, sections, closing_sections))
    log.info("wrote the summary of %d result rows to %s", len(metrics), path)
