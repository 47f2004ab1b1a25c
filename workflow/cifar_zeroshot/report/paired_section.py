"""The summary's paragraph on the paired tests (analysis/paired_tests.py), in words."""

from collections.abc import Sequence

import pandas as pd

from cifar_zeroshot.analysis.paired_statistics import SIGNIFICANCE
from cifar_zeroshot.analysis.paired_tests import result_label


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


# Significant pairs the summary names one by one; beyond, it counts them and points to the files.
MAX_SENTENCES = 20


def paired_summary_lines(
    table: pd.DataFrame,
    unpaired: Sequence[str],
    significance: float = SIGNIFICANCE,
    max_sentences: int = MAX_SENTENCES,
) -> list[str]:
    """The summary's paragraph on the pairs, in words (Markdown): a sentence per significant
    pair of a test set scored whole where there are at most ``max_sentences``, else their
    count and where they are."""
    lines = ["## Paired comparisons", ""]
    if table.empty:
        lines.append("No two runs were scored on the same images, so no pair was compared.")
    else:
        significant = table[table["significant"].astype(bool)]
        lines.append(
            f"{len(table)} pairs of runs scored on the same images (results/paired_tests.csv): "
            "McNemar's exact test on the images only one of the two got right, Holm-corrected "
            f"across the {len(table)} pairs at {100 * significance:g} %; differences in top-1 "
            "percentage points with Newcombe's 95 % interval for paired proportions."
            + (
                " Pairs form within each test set (and each CIFAR-10-C corruption and severity)."
                if table["test_set"].nunique() > 1 or table["corruption"].fillna("").ne("").any()
                else ""
            )
        )
        lines.append("")
        if significant.empty:
            lines.append("**No difference is significant after correction.**")
        # CIFAR-10-C's blocks (one group per corruption and severity) as counts, not pair by pair.
        blocks = significant["corruption"].fillna("").astype(str) != ""
        if blocks.any():
            lines.append(
                f"- On CIFAR-10-C's corruption and severity blocks, {int(blocks.sum())} of "
                f"{int((table['corruption'].fillna('').astype(str) != '').sum())} pairs differ "
                "significantly (each listed in results/paired_tests.csv)."
            )
        several_sets = table["test_set"].nunique() > 1
        whole = significant[~blocks]
        if len(whole) > max_sentences:
            lines.append(
                f"- On the test sets scored whole, {len(whole)} of "
                f"{int((~table['corruption'].fillna('').astype(str).ne('')).sum())} pairs differ "
                "significantly: each is listed in results/paired_tests.csv, and the "
                "leaderboard's letters (results/leaderboard.csv) group the results of each "
                "ranking that do not."
            )
            whole = whole.iloc[:0]
        for _, row in whole.iterrows():
            first = result_label(row["model_a"], row["variant_a"], row["method_a"])
            second = result_label(row["model_b"], row["variant_b"], row["method_b"])
            difference, low, high = (
                row[c] for c in ("difference", "difference_ci_low", "difference_ci_high")
            )
            better, worse = first, second
            if difference < 0:  # said from the better one's side
                better, worse, difference, low, high = second, first, -difference, -high, -low
            on = f"on {row['test_set']}, " if several_sets else ""
            lines.append(
                f"- {on}**{better}** is right more often than **{worse}**: by "
                f"{100 * difference:.1f} percentage points [95 % CI {_points(low)}, "
                f"{_points(high)}], Holm-corrected p = {row['holm_p']:.2g}."
            )
        if len(significant) < len(table):
            lines.append(
                f"- The other {len(table) - len(significant)} pairs do not differ significantly."
            )
    lines += [f"- Not compared: {reason}" for reason in unpaired]
    return lines
