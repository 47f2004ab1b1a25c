"""results/plots/paired_differences.png: the paired top-1 differences, as a matrix while it is
readable, as a ranked list beyond.

Up to MOST_IN_MATRIX results (run and method): cell (row A, column B) is top-1 of A minus top-1
of B in percentage points (so the matrix is antisymmetric), from results/paired_tests.csv; a
star marks a difference significant after Holm's correction. Runs on other images have no pair
and stay blank. With more results an n x n matrix is unreadable, so the figure is each result's
top-1 with its 95 % Wilson interval, ranked (the best MOST_RANKED), each marked by whether its
paired difference from the best result is significant, with its compact letters beside it
(analysis/letters.py, over the whole ranking): two results that share a letter do not differ
significantly, as in results/leaderboard.csv, whose letters rank each method on its own. Either
way the pairs are CIFAR-10's; the shifted test sets' pairs are in the CSV (and counted in the
summary).
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cifar_zeroshot.analysis.leaderboard import RESULT_KEY, significance_matrix
from cifar_zeroshot.analysis.letters import compact_letters
from cifar_zeroshot.analysis.metrics_tables import reference_rows
from cifar_zeroshot.analysis.paired_tests import NAME_COLUMNS, SIDE_COLUMNS, result_label
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET

# The matrix up to this many results (25 x 25 cells stay legible); the ranked list beyond.
MOST_IN_MATRIX = 25
# The ranked list shows at most this many results, the best first.
MOST_RANKED = 100


# The columns of paired_tests.csv the figure reads (the rule reads no others).
FIGURE_COLUMNS: tuple[str, ...] = (
    *NAME_COLUMNS,
    "test_set",
    "difference",
    "significant",
    "significance_level",
)


def _side_labels(table: pd.DataFrame, side: str) -> list[str]:
    columns = (table[f"{name}_{side}"] for name in SIDE_COLUMNS)
    return [result_label(*key) for key in zip(*columns, strict=True)]


def _labels(table: pd.DataFrame) -> list[str]:
    """Every result in the pairs, labelled once: from the distinct (model, variant, method)
    of either side, not a label per pair (4.5 million pairs of 1,000 runs)."""
    sides = [table[[f"{name}_{side}" for name in SIDE_COLUMNS]] for side in "ab"]
    keys = pd.concat(
        [side.set_axis(list(SIDE_COLUMNS), axis=1) for side in sides]
    ).drop_duplicates()
    return sorted({result_label(*key) for key in keys.itertuples(index=False)})


def paired_differences_figure(table: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """The matrix of paired differences, or beyond MOST_IN_MATRIX results the ranked list
    (``metrics``: metrics.csv, whose CIFAR-10 rows give each result's top-1 and interval)."""
    if "test_set" in table.columns:
        table = table[table["test_set"] == REFERENCE_TEST_SET]
    labels = _labels(table)
    if len(labels) > MOST_IN_MATRIX:
        return ranked_figure(table, reference_rows(metrics))
    figure = Figure(figsize=(4 + 0.9 * len(labels), 2.5 + 0.7 * len(labels)), layout="constrained")
    ax = figure.subplots()
    if table.empty:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "No two runs were scored on the same images:\nno pair to compare.",
            ha="center",
            va="center",
        )
        return figure
    where = {label: i for i, label in enumerate(labels)}
    values = np.full((len(labels), len(labels)), np.nan)
    texts = [["" for _ in labels] for _ in labels]
    for _, row in table.iterrows():
        a = where[result_label(row["model_a"], row["variant_a"], row["method_a"])]
        b = where[result_label(row["model_b"], row["variant_b"], row["method_b"])]
        star = "*" if bool(row["significant"]) else ""
        for i, j, sign in ((a, b, 1), (b, a, -1)):
            values[i, j] = sign * 100 * row["difference"] + 0.0  # + 0.0: never "-0.0"
            texts[i][j] = f"{values[i, j]:+.1f}{star}"
    limit = max(float(np.nanmax(np.abs(values))), 0.1)
    image = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for i, row_texts in enumerate(texts):
        for j, text in enumerate(row_texts):
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    # Vertical labels: slanted ones' boxes would overlap their neighbours'.
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("B")
    ax.set_ylabel("A")
    figure.colorbar(image, ax=ax, label="top-1 of A minus top-1 of B (percentage points)")
    ax.set_title(
        f"Paired differences on {REFERENCE_TEST_SET}'s images; * significant (McNemar exact, "
        f"Holm, {100 * float(table['significance_level'].iloc[0]):g} %)",
        fontsize=10,
    )
    return figure


def _significant_against(table: pd.DataFrame, best: tuple[str, ...]) -> dict[str, bool]:
    """Result label -> whether its paired difference from the result ``best`` (model, variant,
    method) is significant (Holm); results never paired with ``best`` are absent."""
    against = {}
    for side, other in (("a", "b"), ("b", "a")):
        is_best = np.logical_and.reduce(
            [
                (table[f"{name}_{side}"] == value).to_numpy(bool)
                for name, value in zip(SIDE_COLUMNS, best, strict=True)
            ]
        )
        pairs = table[is_best]
        against |= dict(
            zip(_side_labels(pairs, other), pairs["significant"].astype(bool).tolist(), strict=True)
        )
    return against


def ranked_figure(table: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """Each result's top-1 with its 95 % Wilson interval, best first (at most MOST_RANKED):
    filled where its paired difference from the best is significant after Holm's correction,
    hollow where it is not, grey where it was not paired with the best (other images); on the
    right, each result's compact letters: over the whole ranking with one method, else among
    the results shown."""
    rows = metrics.sort_values("top1", ascending=False, kind="stable").reset_index(drop=True)
    every_label = [
        result_label(m, v, method)
        for m, v, method in zip(rows["model"], rows["variant"], rows["method"], strict=True)
    ]
    # One method: its whole ranking is lettered, as the leaderboard letters it. Several methods
    # ranked together are no ranking of the leaderboard's: only the results shown are lettered,
    # which keeps the letters of 3,000 results (1,000 runs, 3 methods) from taking hours.
    one_method = rows["method"].nunique() == 1
    lettered = rows if one_method else rows.head(MOST_RANKED)
    # Two results never paired (other images) count as not shown to differ, as in the
    # leaderboard, whose matrix this is with the method in each result's key.
    letters = compact_letters(significance_matrix(lettered, table, (*RESULT_KEY, "method")))
    shown = rows.head(MOST_RANKED)
    labels = every_label[: len(shown)]
    figure = Figure(figsize=(10, 2.2 + 0.19 * len(shown)), layout="constrained")
    ax = figure.subplots()
    y = np.arange(len(shown))
    top1 = 100 * shown["top1"].to_numpy(float)
    low, high = (100 * shown[c].to_numpy(float) for c in ("top1_ci_low", "top1_ci_high"))
    ax.errorbar(
        top1,
        y,
        xerr=np.vstack([np.nan_to_num(top1 - low), np.nan_to_num(high - top1)]),
        fmt="none",
        ecolor="0.4",
        elinewidth=1,
        capsize=2,
    )
    best_key = tuple(str(shown[column].iloc[0]) for column in SIDE_COLUMNS) if len(shown) else ()
    against = _significant_against(table, best_key) if best_key else {}
    for position, (label, value) in enumerate(zip(labels, top1, strict=True)):
        best = position == 0
        paired = best or label in against
        below = against.get(label, False)
        ax.plot(
            [value],
            [position],
            marker="D" if best else "o",
            markersize=5,
            color="C3" if best else "C0" if paired else "0.6",
            markerfacecolor="C3" if best else "C0" if below else "white",
            linestyle="none",
        )
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(y, letters[: len(shown)], fontsize=7, family="monospace")
    right.tick_params(axis="y", length=0)
    right.set_ylabel("letters: results sharing one do not differ significantly", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("top-1 accuracy (%), bars: 95 % Wilson interval")
    level = float(table["significance_level"].iloc[0]) if len(table) else float("nan")
    keys = [
        Line2D([], [], marker="D", color="C3", linestyle="none", label="the best result"),
        Line2D([], [], marker="o", color="C0", linestyle="none", label="significantly below it"),
        Line2D(
            [], [], marker="o", color="C0", mfc="white", linestyle="none", label="not significantly"
        ),
        Line2D([], [], marker="o", color="0.6", mfc="white", linestyle="none", label="not paired"),
    ]
    figure.legend(handles=keys, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    count = len(_labels(table))
    more = f"; the best {len(shown)} of {len(rows)}" if len(rows) > len(shown) else ""
    # Several methods: one ranking here, one per method in the leaderboard, so other letters.
    within = ", as in leaderboard.csv" if one_method else " among the results shown"
    ax.set_title(
        f"Top-1 on {REFERENCE_TEST_SET}'s images, ranked{more}:\n{count} paired results are too "
        "many for a matrix of differences (all pairs in paired_tests.csv);\nagainst the best "
        f"and letters{within}: McNemar exact, Holm, {100 * level:g} %",
        fontsize=10,
    )
    return figure
