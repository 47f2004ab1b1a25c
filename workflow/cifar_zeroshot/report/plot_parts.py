"""The pieces the report's figures share: PNG writing, row labels, titles, bars and heatmaps."""

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.ticker import MaxNLocator

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.methods.registry import ZERO_SHOT_METHODS, method_class
from cifar_zeroshot.report.point_labels import replace_labels
from cifar_zeroshot.report.provenance import mark_provenance

log = logging.getLogger(__name__)

DPI = 120
COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")
# A bar or heatmap figure draws at most this many rows (the best by its own measure); beyond,
# the figure grows past what a page shows and names nothing a reader can find.
MOST_ROWS = 30


def save_figure(figure: Figure, path: str | Path, note: str | None = None) -> None:
    """Write a PNG via a temp file; no timestamps or version strings in the metadata. ``note``:
    what the figure was made from, where that is not the real thing (provenance_note)."""
    if note:
        mark_provenance(figure, note)
        replace_labels(figure)  # the note moved the axes under the scatter's labels
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=DPI, metadata={"Software": None})
    log.info("drew %s", path)


def remove_stale_pngs(folder: str | Path, current: Iterable[str | Path]) -> list[Path]:
    """Delete the PNGs in ``folder`` that are not among ``current`` (figures of runs an earlier
    configuration listed, which would otherwise pass for this run's); return what was deleted."""
    keep = {Path(path).resolve() for path in current}
    stale = sorted(p for p in Path(folder).glob("*.png") if p.resolve() not in keep)
    for path in stale:
        path.unlink()
        log.info("removed %s: its run is not in this configuration", path)
    return stale


def zero_shot_method(frame: pd.DataFrame, model: str, variant: str) -> str:
    """The zero-shot method that scored this run: the class mapping, or a CLIP model's prompts;
    for a run no zero-shot method scores (a timm head the linear probe alone scores), its
    probe."""
    rows = frame[(frame["model"] == model) & (frame["variant"] == variant)]
    present = set(rows["method"])
    fallback = min(present) if present else ZERO_SHOT_METHODS[0]
    return next((m for m in ZERO_SHOT_METHODS if m in present), fallback)


def several_methods(frame: pd.DataFrame) -> bool:
    return frame["method"].nunique() > 1


def row_labels(frame: pd.DataFrame) -> list[str]:
    """ "model · variant" per row, plus " · method" when the frame holds several methods."""
    keys = zip(frame["model"], frame["variant"], frame["method"], strict=True)
    if several_methods(frame):
        return [f"{m} · {v} · {method}" for m, v, method in keys]
    return [f"{m} · {v}" for m, v, _ in keys]


def run_labels(frame: pd.DataFrame) -> list[str]:
    """ "model · variant" per row, for figures of the runs themselves (speed, memory)."""
    return [f"{m} · {v}" for m, v in zip(frame["model"], frame["variant"], strict=True)]


def runs_only(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per model and variant: speed and memory do not depend on the scoring method."""
    return metrics.drop_duplicates(["model", "variant"])


def scores_text(metrics: pd.DataFrame) -> str:
    """How the scores were made, e.g. "ImageNet logits pooled by max_logit"."""
    if metrics.empty:
        return "?"
    if several_methods(metrics):
        return "per scoring method"
    first = metrics.iloc[0]
    method = method_class(first["method"])
    return method.describe({column: first[column] for column in method.setting_columns})


def device_title(metrics: pd.DataFrame) -> str:
    names = metrics["device_name"].where(metrics["device_name"].notna(), metrics["device"])
    unique = sorted({str(n) for n in names if isinstance(n, str) and n})
    return ", ".join(unique) if unique else "unknown device"


def best_rows(
    frame: pd.DataFrame,
    score: pd.Series | np.ndarray,
    what: str,
    source: str,
    most: int = MOST_ROWS,
    higher_is_better: bool = True,
    per_method: bool = False,
) -> tuple[pd.DataFrame, str | None]:
    """(the rows a bar figure draws, the note saying which) for ``frame``'s rows scored by
    ``score`` (one value per row, in its order; NaN counts as worst). Up to ``most`` rows: all,
    in their order, and no note. Beyond: the best ``most``, best first; with ``per_method`` and
    several methods, each method's best in turn, the places shared out evenly (a probe would
    otherwise take every place). ``what``: "results by top-1"; ``source``: the file that holds
    every row."""
    if len(frame) <= most:
        return frame, None
    values = np.asarray(score, dtype=float)
    # Stable, and NaN last either way (argsort puts NaN after every number).
    ranked = frame.iloc[np.argsort(-values if higher_is_better else values, kind="stable")]
    methods = list(dict.fromkeys(frame["method"])) if per_method else []
    if len(methods) > 1:
        places = method_places(ranked["method"].value_counts().reindex(methods).tolist(), most)
        shown = pd.concat(
            [ranked[ranked["method"] == m].head(n) for m, n in zip(methods, places, strict=True)]
        )
        split = ", each method's best"
    else:
        shown, split = ranked.head(most), ""
    note = f"best {len(shown)} of {len(frame)} {what}{split}; all in {source}"
    return shown.reset_index(drop=True), note


def method_places(counts: list[int], most: int) -> list[int]:
    """How many of ``most`` places each method gets, given how many rows each has: an even
    share, the places a small method leaves going to the others."""
    places = [0] * len(counts)
    left = most
    for number, i in enumerate(sorted(range(len(counts)), key=lambda i: counts[i])):
        places[i] = min(counts[i], left // (len(counts) - number))
        left -= places[i]
    return places


def titled(title: str, note: str | None) -> str:
    """``title`` with ``note`` (best_rows's) under it, where rows were left out: which rows on
    one line, where to find the rest on the next (one line would outgrow a narrow figure)."""
    return "\n".join([title, *note.split("; ")]) if note else title


def bar_height_figure(bars: int, width: float = 11.0) -> Figure:
    return Figure(figsize=(width, max(3.2, 1.6 + 0.42 * bars)), layout="constrained")


def label_bars(ax: Axes, bars: BarContainer, texts: Sequence[str]) -> None:
    """Put each value just right of its (horizontal) bar."""
    ax.bar_label(bars, labels=list(texts), padding=3, fontsize=8)
    left, right = ax.get_xlim()
    ax.set_xlim(left, right + 0.18 * (right - left))  # room for the labels


def decimals_format(values: np.ndarray, digits: int = 3, most: int = 3) -> str:
    """One format for every value of a panel: as many decimals as give the smallest value
    ``digits`` significant digits (at most ``most``), so 7.40 sits beside 186.00, never 186."""
    finite = np.abs(values[np.isfinite(values) & (values != 0)])
    if finite.size == 0:
        return "{:,.0f}"
    places = digits - 1 - math.floor(math.log10(finite.min()))
    return f"{{:,.{min(most, max(0, places))}f}}"


def hbar(ax: Axes, labels: list[str], values: np.ndarray, fmt: str, colour: str) -> None:
    """One horizontal bar per label (a missing value: an empty bar marked "n/a")."""
    y = np.arange(len(labels))
    finite = np.where(np.isfinite(values), values, 0.0)
    bars = ax.barh(y, finite, color=colour)
    label_bars(ax, bars, [fmt.format(v) if math.isfinite(v) else "n/a" for v in values])
    ax.set_yticks(y, labels)
    # No tick at the right end: beside another panel its label would meet that panel's first.
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", prune="upper"))
    if not ax.yaxis_inverted():  # shared axes would flip back on a second call
        ax.invert_yaxis()  # first run at the top, as in the tables
    ax.grid(axis="x", alpha=0.3)


def interval_bars(
    ax: Axes,
    y: np.ndarray,
    values: np.ndarray,
    interval: tuple[np.ndarray, np.ndarray],
    colour: str,
    label: str,
) -> None:
    """Horizontal bars of percentages with their 95 % intervals as error bars. Each value is
    written past its interval's end, so the error bar does not cross it; a missing value is an
    empty bar marked "n/a"."""
    low, high = interval
    bars = ax.barh(
        y,
        np.where(np.isfinite(values), values, 0.0),
        height=0.4,
        color=colour,
        xerr=np.vstack([np.nan_to_num(values - low), np.nan_to_num(high - values)]),
        error_kw={"ecolor": "black", "capsize": 3, "elinewidth": 1},
        label=label,
    )
    for bar, value, end in zip(bars, values, high, strict=True):
        text = f"{value:.1f}" if np.isfinite(value) else "n/a"
        x = end + 1 if np.isfinite(end) else 1
        ax.text(x, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=8)


def percent_axes(ax: Axes, labels: list[str], xlabel: str) -> None:
    """The 0-100 % axis (with room for the values), one row per label, first at the top."""
    ax.set_xlim(0, 112)
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.figure.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    ax.set_xlabel(xlabel)


def annotated_heatmap(
    ax: Axes, colours: np.ndarray, texts: list[list[str]], cmap: str, vmax: float
) -> AxesImage:
    image = ax.imshow(colours, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            value = colours[i, j]
            dark = np.isfinite(value) and value > 0.6 * vmax
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="black" if dark else "white",
            )
    return image
