"""The figures of the report, drawn from the metrics CSVs.

Figures are built on matplotlib's object API (no pyplot state, Agg renderer) with fixed sizes,
dpi and no "Software" metadata, so a rerun on the same tables writes identical PNG bytes. Each
``*_figure`` function builds one figure; ``plot_parts.save_figure`` writes it as a PNG.

Speed and memory belong to a run (model and variant); accuracy to a run and a scoring method.
Labels name the method only when the tables hold more than one.
"""

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from cifar_zeroshot.analysis.leaderboard import peak_memory
from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.methods.registry import ZERO_SHOT_METHODS
from cifar_zeroshot.models.architecture_family import architecture_family
from cifar_zeroshot.report.model_families import OTHER, bounded_groups, group_order
from cifar_zeroshot.report.plot_parts import (
    COLOURS,
    MOST_ROWS,
    annotated_heatmap,
    bar_height_figure,
    best_rows,
    decimals_format,
    device_title,
    hbar,
    interval_bars,
    percent_axes,
    row_labels,
    run_labels,
    runs_only,
    scores_text,
    several_methods,
    titled,
)
from cifar_zeroshot.report.point_labels import pareto_front, place_labels
from cifar_zeroshot.report.provenance import accuracy_title, images_name

# metrics column -> legend text (what the figure means), in MiB.
MEMORY_SERIES: dict[str, str] = {
    "torch_peak_allocated_mb": "torch peak allocated (live tensors)",
    "torch_peak_reserved_mb": "torch peak reserved (allocator cache)",
    "nvml_process_mb": "NVML process (GPU memory incl. CUDA context)",
    "host_peak_rss_mb": "host peak RSS (CPU RAM)",
}


def speed_figure(metrics: pd.DataFrame) -> Figure:
    """Throughput (images/s) and per-image latency (ms) per model and variant; where NVML
    measured the GPU's energy, images per joule as a third panel. Beyond MOST_ROWS runs, the
    fastest."""
    runs = runs_only(metrics)
    runs, note = best_rows(
        runs, runs["images_per_second"], "runs by throughput", "results/metrics.csv"
    )
    labels = run_labels(runs)
    energy = runs.get("images_per_joule", pd.Series(dtype=float)).to_numpy(float)
    panels = 3 if np.isfinite(energy).any() else 2
    figure = bar_height_figure(len(labels), width=11.0 * panels / 2)
    axes = figure.subplots(1, panels, sharey=True)
    throughput, latency = axes[0], axes[1]
    rates = runs["images_per_second"].to_numpy(float)
    # Two significant digits for the slowest run: 6.5 beside 372.5, whole numbers on a GPU.
    hbar(throughput, labels, rates, decimals_format(rates, digits=2), COLOURS[0])
    throughput.set_xlabel("throughput (images/s, higher is better)")
    ms_per_image = runs["ms_per_image"].to_numpy(float)
    hbar(latency, labels, ms_per_image, decimals_format(ms_per_image), COLOURS[1])
    latency.set_xlabel("time per image (ms, lower is better)")
    if panels == 3:
        hbar(axes[2], labels, energy, decimals_format(energy), COLOURS[2])
        axes[2].set_xlabel("images per joule of GPU energy (higher is better)")
    figure.suptitle(
        titled(f"Inference speed on {device_title(runs)} (warm-up batches excluded)", note)
    )
    return figure


def memory_figure(metrics: pd.DataFrame) -> Figure:
    """Grouped bars: every memory figure that was measured for at least one run, in MiB.
    Beyond MOST_ROWS runs, those of least peak memory (the leaderboard's peak_memory_mb)."""
    runs = runs_only(metrics)
    peaks = [peak_memory(row) for _, row in runs.iterrows()]
    peak = pd.Series([np.nan if p is None else p[0] for p in peaks], index=runs.index)
    present = [c for c in MEMORY_SERIES if c in runs and runs[c].notna().any()]
    runs, note = best_rows(
        runs,
        peak,
        "runs by least peak memory",
        "results/metrics.csv",
        # As many bars as two series of MOST_ROWS runs: each run is a group of them.
        most=2 * MOST_ROWS // max(2, len(present)),
        higher_is_better=False,
    )
    labels = run_labels(runs)
    figure = bar_height_figure(len(labels) * max(1, len(present)) // 2 + 2)
    ax = figure.subplots()
    y = np.arange(len(labels))
    height = 0.8 / max(1, len(present))
    for i, column in enumerate(present):
        values = runs[column].to_numpy(float)
        bars = ax.barh(
            y - 0.4 + height * (i + 0.5),
            np.where(np.isfinite(values), values, 0.0),
            height=height,
            color=COLOURS[i % len(COLOURS)],
            label=MEMORY_SERIES[column],
        )
        ax.bar_label(
            bars,
            labels=[f"{v:,.0f}" if math.isfinite(v) else "" for v in values],
            padding=3,
            fontsize=7,
        )
    if present:
        left, right = ax.get_xlim()
        ax.set_xlim(left, right + 0.15 * (right - left))
        figure.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no memory figures were recorded", ha="center", transform=ax.transAxes)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("peak memory (MiB = 2^20 bytes)")
    ax.set_title(titled(f"Peak memory during inference on {device_title(runs)}", note))
    return figure


def accuracy_figure(metrics: pd.DataFrame) -> Figure:
    """Top-1 and top-5 accuracy (%) with 95 % Wilson intervals as error bars; beyond MOST_ROWS
    results, each method's best by top-1."""
    title = f"{accuracy_title(metrics['method'], images_name(metrics))} ({scores_text(metrics)})"
    metrics, note = best_rows(
        metrics,
        metrics["top1"],
        "results by top-1",
        "results/leaderboard.csv",
        per_method=True,
    )
    labels = row_labels(metrics)
    figure = bar_height_figure(len(labels) + 1)
    ax = figure.subplots()
    y = np.arange(len(labels))
    for offset, (k, colour) in zip((-0.2, 0.2), ((1, COLOURS[0]), (5, COLOURS[2])), strict=True):
        values, low, high = (
            100 * metrics[column].to_numpy(float)
            for column in (f"top{k}", f"top{k}_ci_low", f"top{k}_ci_high")
        )
        interval_bars(ax, y + offset, values, (low, high), colour, f"top-{k}")
    xlabel = "accuracy over the 10 CIFAR-10 classes (%), error bars: 95 % Wilson interval"
    percent_axes(ax, labels, xlabel)
    ax.set_title(titled(title, note))
    return figure


def per_class_figure(per_class: pd.DataFrame) -> Figure:
    """Heatmap: per-class top-1 accuracy (%), one row per model, variant and method; beyond
    MOST_ROWS rows, each method's best by mean per-class accuracy."""
    key_columns = ["model", "variant", "method"]
    rows = per_class.drop_duplicates(key_columns)
    means = per_class.groupby(key_columns, sort=False)["accuracy"].mean()
    mean = pd.Series(
        means.reindex(pd.MultiIndex.from_frame(rows[key_columns])).to_numpy(), index=rows.index
    )
    rows, note = best_rows(
        rows, mean, "results by mean per-class accuracy", "results/per_class.csv", per_method=True
    )
    keys = list(zip(*(rows[c] for c in key_columns), strict=True))
    classes = [c for c in CIFAR10_CLASSES if c in set(per_class["cifar_class"])]
    table = per_class.set_index([*key_columns, "cifar_class"])["accuracy"]
    values = np.array([[100 * table.get((*key, c), np.nan) for c in classes] for key in keys])
    figure = Figure(figsize=(11, max(3.0, 1.8 + 0.45 * len(keys))), layout="constrained")
    ax = figure.subplots()
    texts = [[f"{x:.0f}" if np.isfinite(x) else "-" for x in row] for row in values]
    image = annotated_heatmap(ax, values, texts, "viridis", 100.0)
    # Vertical: slanted labels' boxes overlap their neighbours'.
    ax.set_xticks(np.arange(len(classes)), classes, rotation=90)
    ax.set_yticks(np.arange(len(keys)), row_labels(rows))
    figure.colorbar(image, ax=ax, label="top-1 accuracy (%)")
    ax.set_title("Per-class top-1 accuracy (%)")
    if note:  # over the colour bar too: the axes alone are narrower than the note
        figure.suptitle(note, fontsize=10)
    return figure


def confusion_figure(confusion: pd.DataFrame, model: str, variant: str, method: str) -> Figure:
    """10x10 confusion matrix of one run and method: counts written in, colour = share of the
    true class."""
    rows = confusion[
        (confusion["model"] == model)
        & (confusion["variant"] == variant)
        & (confusion["method"] == method)
    ]
    if rows.empty:
        raise ValueError(f"no confusion rows for {model} {variant} ({method})")
    classes = [c for c in CIFAR10_CLASSES if c in set(rows["true_class"])]
    counts = (
        rows.pivot(index="true_class", columns="predicted_class", values="count")
        .reindex(index=classes, columns=classes)
        .fillna(0)
        .to_numpy(int)
    )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    figure = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = figure.subplots()
    texts = [[str(x) for x in row] for row in counts]
    image = annotated_heatmap(ax, shares, texts, "Blues", 1.0)
    # On Blues, light cells want dark text: flip the viridis rule used above.
    for text, share in zip(ax.texts, shares.reshape(-1), strict=True):
        text.set_color("white" if share > 0.6 else "black")
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, classes, rotation=35, ha="right")
    ax.set_yticks(ticks, classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    figure.colorbar(image, ax=ax, label="share of the true class's images")
    name = (
        f"{model} · {variant} · {method}" if several_methods(confusion) else f"{model} · {variant}"
    )
    ax.set_title(f"Confusion matrix: {name} (counts)")
    return figure


def failed_run_figure(model: str, variant: str, error: str) -> Figure:
    """In place of a failed run's confusion matrix: that it failed, and why."""
    figure = Figure(figsize=(7.5, 2.5), layout="constrained")
    ax = figure.subplots()
    ax.set_axis_off()
    ax.set_title(f"{model} · {variant}: no confusion matrix, the run failed")
    wrapped = "\n".join(error[i : i + 90] for i in range(0, min(len(error), 450), 90))
    ax.text(0.5, 0.5, wrapped, ha="center", va="center", wrap=True, fontsize=9)
    return figure


# A marker per variant (the colour is the architecture family's, the fill the method's).
VARIANT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
# tab10 without its grey, which marks the families left out of the legend ("other").
FAMILY_COLOURS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9")
OTHER_COLOUR = "0.6"
# The Pareto front of each method: a line style each, in the order the methods come.
FRONT_STYLES = ("-", "--", ":", "-.")


def _key_legend(figure: Figure, sections: list[tuple[str, list[tuple[str, dict]]]]) -> None:
    """One legend outside the axes, on the right: a heading per section (family, variant,
    method, front), then its (text, marker or line style) entries. One box, so no legend covers
    another."""
    handles: list[Line2D] = []
    headings = []
    for heading, entries in sections:
        headings.append(len(handles))
        handles.append(Line2D([], [], linestyle="none", label=heading))
        handles.extend(
            Line2D([], [], **({"linestyle": "none", "markersize": 7} | style), label=text)
            for text, style in entries
        )
    legend = figure.legend(handles=handles, loc="outside right upper", fontsize=8)
    texts = legend.get_texts()
    for index in headings:
        texts[index].set_fontweight("bold")


def _colours(models: pd.Series) -> tuple[dict[str, str], dict[str, str]]:
    """(model -> colour, legend group -> colour): one colour per architecture family, the
    commonest ones named and the rest grey as "other", so the legend stays short."""
    family = {model: architecture_family(model) for model in dict.fromkeys(models)}
    # One fewer than the palette: bounded_groups names one more where only one would be left.
    families = [family[m] for m in models.drop_duplicates()]
    groups = bounded_groups(families, most=len(FAMILY_COLOURS) - 1)
    named = [g for g in group_order(groups) if g != OTHER]
    colour = {g: FAMILY_COLOURS[i] for i, g in enumerate(named)} | {OTHER: OTHER_COLOUR}
    return {m: colour[groups[f]] for m, f in family.items()}, {
        g: colour[g] for g in group_order(groups)
    }


def _markers(variants: pd.Series) -> tuple[dict[str, str], dict[str, str]]:
    """(variant -> marker, legend group -> marker): the commonest variants their own marker,
    the rest "other" (a cross)."""
    groups = bounded_groups(list(variants), most=len(VARIANT_MARKERS) - 1)
    named = [v for v in dict.fromkeys(variants) if groups[v] != OTHER]
    marker = {v: VARIANT_MARKERS[i] for i, v in enumerate(named)} | {OTHER: "x"}
    order = named + ([OTHER] if OTHER in groups.values() else [])
    return {v: marker[groups[v]] for v in groups}, {g: marker[g] for g in order}


def _clear_corner(ax) -> None:
    """Lower the y axis a little where a y tick would sit at its very bottom: its label would
    meet the first x tick's label in the corner."""
    bottom, top = ax.get_ylim()
    ticks = ax.get_yticks()
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else top - bottom
    if any(abs(tick - bottom) < 0.15 * step for tick in ticks):
        ax.set_ylim(bottom - 0.35 * step, top)


def front_labels(metrics: pd.DataFrame) -> list[str]:
    """How a point on the Pareto front is named: its model, and its variant where the table
    holds several variants."""
    if metrics["variant"].nunique() > 1:
        return [f"{m} · {v}" for m, v in zip(metrics["model"], metrics["variant"], strict=True)]
    return [str(m) for m in metrics["model"]]


def fronts(metrics: pd.DataFrame, x_values: np.ndarray, x_higher_is_better: bool) -> np.ndarray:
    """Per row: whether it is on its method's Pareto front of top-1 against ``x_values``
    (each method's scores are compared among themselves: a probe trained on CIFAR-10 would
    otherwise push every zero-shot run off the front)."""
    accuracy = metrics["top1"].to_numpy(float)
    usable = np.isfinite(x_values) & (x_values > 0)
    on_front = np.zeros(len(metrics), dtype=bool)
    for method in dict.fromkeys(metrics["method"]):
        rows = (metrics["method"] == method).to_numpy() & usable
        on_front[rows] = pareto_front(x_values[rows], accuracy[rows], x_higher_is_better)
    return on_front


def accuracy_scatter(
    metrics: pd.DataFrame,
    x_values: np.ndarray,
    x_label: str,
    x_format: str,
    title: str,
    lacking: str,
    x_higher_is_better: bool = True,
) -> Figure:
    """Top-1 accuracy against ``x_values`` (log scale), one point per run and method: colour
    tells the architecture family (report.model_families; the commonest nine named, the rest grey),
    the marker the variant, the fill the method (filled: zero-shot; hollow: the linear probe).
    Each method's Pareto front (no run of the method is both more accurate and better on x) is a
    stepped line, and only its runs are named, where their labels overlap no other text. Rows
    without a positive finite x are left out, and the figure says how many (``lacking``: "a
    FLOP count")."""
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    ax = figure.subplots()
    accuracy = 100 * metrics["top1"].to_numpy(float)
    methods = list(dict.fromkeys(metrics["method"]))
    colour, family_colours = _colours(metrics["model"])
    marker, variant_markers = _markers(metrics["variant"])
    finite = np.isfinite(x_values) & np.isfinite(accuracy) & (x_values > 0)
    for model, variant, method, x, y, drawn in zip(
        metrics["model"],
        metrics["variant"],
        metrics["method"],
        x_values,
        accuracy,
        finite,
        strict=True,
    ):
        if not drawn:
            continue
        hollow = method not in ZERO_SHOT_METHODS
        ax.scatter(
            [x],
            [y],
            s=45,
            marker=marker[variant],
            facecolors="none" if hollow else colour[model],
            edgecolors=colour[model],
            linewidths=1.4,
            alpha=0.85,
            zorder=3,
        )
    on_front = fronts(metrics, x_values, x_higher_is_better) & finite
    front_styles = {m: FRONT_STYLES[i % len(FRONT_STYLES)] for i, m in enumerate(methods)}
    fronted = [m for m in methods if (on_front & (metrics["method"] == m).to_numpy()).any()]
    for method in fronted:
        rows = np.flatnonzero(on_front & (metrics["method"] == method).to_numpy())
        order = rows[np.argsort(x_values[rows])]
        ax.plot(
            x_values[order],
            accuracy[order],
            drawstyle="steps-pre" if x_higher_is_better else "steps-post",
            color="0.25",
            linestyle=front_styles[method],
            linewidth=1.0,
            zorder=2,
        )
    if finite.any():
        ax.set_xscale("log")
        ax.set_xlim(x_values[finite].min() / 1.6, x_values[finite].max() * 1.6)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format(v, x_format)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(y=0.15)
        _clear_corner(ax)
    if not finite.all():
        ax.text(
            0.01,
            0.01,
            f"{int((~finite).sum())} row(s) without {lacking} left out",
            transform=ax.transAxes,
            fontsize=8,
            color="0.35",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.grid(alpha=0.3, which="both")
    ax.set_xlabel(x_label)
    ax.set_ylabel("top-1 accuracy (%)")
    # Outside the axes: the upper right, where the best runs land, stays free.
    grey = {"color": "0.35"}
    sections = [
        (
            "architecture family",
            [(f, {"marker": "o", "color": c}) for f, c in family_colours.items()],
        ),
        ("variant", [(v, {"marker": m, **grey}) for v, m in variant_markers.items()]),
    ]
    if len(methods) > 1:
        fills = [
            (m, {"marker": "o", **grey, **({} if m in ZERO_SHOT_METHODS else {"mfc": "none"})})
            for m in methods
        ]
        sections.append(("method (filled: zero-shot)", fills))
    lines = [(m, {"linestyle": front_styles[m], "color": "0.25"}) for m in fronted]
    sections.append(
        ("Pareto front, named" if len(methods) == 1 else "Pareto front per method", lines)
    )
    _key_legend(figure, sections)
    ax.set_title(title)
    labelled = np.flatnonzero(on_front)
    names = front_labels(metrics.iloc[labelled])
    place_labels(ax, list(zip(x_values[labelled], accuracy[labelled], strict=True)), names)
    return figure


def accuracy_vs_speed_figure(metrics: pd.DataFrame) -> Figure:
    """Top-1 accuracy against throughput (log scale); see accuracy_scatter."""
    return accuracy_scatter(
        metrics,
        metrics["images_per_second"].to_numpy(float),
        "throughput (images/s, log scale)",
        ",.0f",
        f"Accuracy vs speed on {device_title(metrics)}",
        "a measured throughput",
    )
