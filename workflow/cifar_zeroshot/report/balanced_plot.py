"""The balanced methods in the report: per-class recall under each pooling before and after
balancing (results/plots/per_class_balanced.png), and the summary's line on sets without them."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.report.plot_parts import COLOURS

# method (as per_class_poolings.csv names it) -> legend text, in drawing order.
SERIES: dict[str, str] = {
    "class_mapping": "as pooled",
    "class_mapping+balanced": "balanced, cross-fitted",
    "class_mapping+balanced_all": "balanced, fitted on all images",
}
# At most this many models, one row of panels each: beyond, the figure would run to metres.
MOST_MODELS = 12


def _runs(table: pd.DataFrame) -> list[tuple[str, str]]:
    """One run per model: its reference (fp32 eager) variant where present, else its first."""
    runs = []
    for model, rows in table.groupby("model", sort=False):
        variants = list(dict.fromkeys(rows["variant"]))
        references = [v for v in variants if Variant.parse(v).reference.name == v]
        runs.append((str(model), (references or variants)[0]))
    return runs


def best_runs(table: pd.DataFrame, runs: list[tuple[str, str]], most: int) -> list[tuple[str, str]]:
    """The ``most`` of ``runs`` with the highest mean recall as pooled (over every pooling and
    class), in the order of ``runs``."""
    if len(runs) <= most:
        return runs
    pooled = table[table["method"] == next(iter(SERIES))]
    means = pooled.groupby(["model", "variant"], sort=False)["recall"].mean()
    kept = set(sorted(runs, key=lambda run: -means.get(run, -1.0))[:most])
    return [run for run in runs if run in kept]


def per_class_balanced_figure(per_class_poolings: pd.DataFrame, images: str) -> Figure:
    """Per model (one row) and pooling (one panel): each class's recall as pooled and balanced
    both ways; each panel's title gives the mean recall (balanced accuracy) of each. With more
    than MOST_MODELS models, the MOST_MODELS of highest mean recall as pooled, and the title
    says so."""
    table = per_class_poolings[per_class_poolings["method"].isin(list(SERIES))]
    every_run = _runs(table)
    runs = best_runs(table, every_run, MOST_MODELS)
    poolings = list(dict.fromkeys(table["pooling"]))
    figure = Figure(
        figsize=(1.8 + 4.6 * max(1, len(poolings)), 1.2 + 2.6 * max(1, len(runs))),
        layout="constrained",
    )
    figure.suptitle(
        f"Per-class recall on {images}: the class mapping under each pooling,\nas pooled and "
        "balanced to equal classes without labels (transductive)"
        + (
            f"\nthe {len(runs)} of {len(every_run)} models of highest mean recall as pooled"
            if len(runs) < len(every_run)
            else ""
        )
    )
    if not runs:
        ax = figure.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "No class-mapping runs to show.", ha="center", va="center")
        return figure
    axes = np.atleast_2d(figure.subplots(len(runs), len(poolings), sharey=True, squeeze=False))
    recall = table.set_index(["model", "variant", "method", "pooling", "cifar_class"])["recall"]
    positions = np.arange(len(CIFAR10_CLASSES))
    width = 0.8 / len(SERIES)
    for row, (model, variant) in enumerate(runs):
        for column, pooling in enumerate(poolings):
            ax = axes[row, column]
            means = []
            for number, (method, label) in enumerate(SERIES.items()):
                values = np.array(
                    [
                        100 * recall.get((model, variant, method, pooling, name), np.nan)
                        for name in CIFAR10_CLASSES
                    ]
                )
                ax.bar(
                    positions + (number - 1) * width,
                    values,
                    width,
                    color=COLOURS[number],
                    label=label,
                )
                means.append(f"{np.nanmean(values):.0f}" if np.isfinite(values).any() else "-")
            ax.set_title(
                f"{model} · {variant} · {pooling}\nmean recall {' / '.join(means)} %", fontsize=10
            )
            # Vertical: slanted labels' boxes overlap their neighbours'.
            ax.set_xticks(positions, CIFAR10_CLASSES, rotation=90, fontsize=8)
            ax.set_ylim(0, 100)
            ax.grid(axis="y", alpha=0.3)
            if column == 0:
                ax.set_ylabel("recall (%)")
    # Beside the panels: inside one it would cover bars; under them, the provenance note sits.
    figure.legend(
        handles=axes[0, 0].get_legend_handles_labels()[0],
        loc="outside right upper",
        fontsize=8,
        frameon=False,
    )
    return figure


def unbalanced_sets_lines(test_sets: Sequence[str]) -> list[str]:
    """The summary's note on sets scored without balanced rows, and why."""
    return [
        f"No balanced rows for {', '.join(test_sets)}: the balanced methods fit their offsets "
        "to a known equal class prior, and these sets do not declare one "
        "(docs/balanced-zero-shot.md)."
    ]
