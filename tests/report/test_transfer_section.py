"""Tests for report.transfer_section: the summary's ImageNet-against-transfer sentences."""

import numpy as np
import pandas as pd
from scipy import stats

from cifar_zeroshot.report.transfer_section import transfer_summary_lines


def _leaderboard(published: list[float | None], top1: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "test_set": "cifar10",
            "method": "class_mapping",
            "model": [f"model{n}" for n in range(len(top1))],
            "variant": "fp32",
            "top1": top1,
            "published_imagenet_top1": published,
        }
    )


def test_the_summary_gives_each_methods_line_and_correlations_as_scipy_computes_them():
    imagenet, cifar10 = [0.565, 0.716, 0.761, 0.811], [0.31, 0.47, 0.52, 0.66]
    lines = transfer_summary_lines(_leaderboard([*imagenet, None], [*cifar10, 0.1]))
    [sentence] = [line for line in lines if line.startswith("- class_mapping")]
    slope, intercept = np.polyfit(100 * np.array(imagenet), 100 * np.array(cifar10), 1)
    pearson = stats.pearsonr(imagenet, cifar10).statistic
    spearman = stats.spearmanr(imagenet, cifar10).statistic
    assert f"over 4 models, CIFAR-10 top-1 = {slope:.2f} x ImageNet top-1 - " in sentence
    assert f"{abs(intercept):.1f} (in %)" in sentence
    assert f"Pearson r = {pearson:.2f}, Spearman rho = {spearman:.2f}" in sentence
    assert sentence.endswith("; 1 without a published figure left out.")


def test_no_section_without_a_published_figure_and_a_reason_with_too_few():
    assert transfer_summary_lines(_leaderboard([None, None], [0.2, 0.3])) == []
    lines = transfer_summary_lines(_leaderboard([0.7, 0.8, None], [0.2, 0.3, 0.4]))
    assert lines[-1] == (
        "- class_mapping: fewer than 3 models with a published figure: no fit; 1 without a "
        "published figure left out."
    )
