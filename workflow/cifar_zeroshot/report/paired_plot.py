"""results/plots/paired_differences.png: the matrix of paired top-1 differences.

Cell (row A, column B) is top-1 of A minus top-1 of B in percentage points (so the matrix is
antisymmetric), from results/paired_tests.csv; a star marks a difference significant after
Holm's correction. Runs on other images have no pair and stay blank. The matrix is CIFAR-10's
pairs; the shifted test sets' pairs are in the CSV (and counted in the summary).
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.analysis.paired_tests import result_label
from cifar_zeroshot.core.choices import REFERENCE_TEST_SET


def _labels(table: pd.DataFrame) -> list[str]:
    labels: dict[str, None] = {}
    for side in ("a", "b"):
        for _, row in table.iterrows():
            labels[
                result_label(row[f"model_{side}"], row[f"variant_{side}"], row[f"method_{side}"])
            ] = None
    return sorted(labels)


def paired_differences_figure(table: pd.DataFrame) -> Figure:
    if "test_set" in table.columns:
        table = table[table["test_set"] == REFERENCE_TEST_SET]
    labels = _labels(table)
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
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
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
