"""Tests for report.transfer_plot: CIFAR-10 top-1 against published ImageNet-1k top-1."""

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts
from scipy import stats

from cifar_zeroshot.analysis.transfer import TransferFit, one_per_model, transfer_fit
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.report.transfer_plot import imagenet_vs_transfer_figure, read_transfer_table

# model -> (published ImageNet top-1 or None, CIFAR-10 top-1 of the class mapping)
MODELS = {
    "alexnet": (0.565, 0.31),
    "resnet50": (0.761, 0.52),
    "vgg16": (0.716, 0.47),
    "vit_b_16": (0.811, 0.66),
    "timm-test_vit.r160_in1k": (None, 0.11),
}


def _table(models=MODELS) -> pd.DataFrame:
    rows = []
    for model, (imagenet, top1) in models.items():
        for variant, shift in (("bf16-compile", -0.02), ("fp32", 0.0)):
            for test_set, drop in (("cifar10", 0.0), ("cifar10.1", 0.08)):
                rows.append(
                    {
                        "model": model,
                        "variant": variant,
                        "method": "class_mapping",
                        "test_set": test_set,
                        "top1": top1 + shift - drop,
                        "published_imagenet_top1": imagenet,
                    }
                )
    return pd.DataFrame(rows)


def test_the_fit_is_scipys_least_squares_line_and_correlations():
    rng = np.random.default_rng(4)
    x = rng.uniform(55, 88, 40)
    y = 0.8 * x - 3 + rng.normal(0, 5, 40)
    fit = transfer_fit(x, y)
    assert isinstance(fit, TransferFit)
    line = stats.linregress(x, y)
    assert fit.slope == pytest.approx(line.slope)
    assert fit.intercept == pytest.approx(line.intercept)
    assert fit.pearson == pytest.approx(line.rvalue)
    assert fit.spearman == pytest.approx(stats.spearmanr(x, y).statistic)
    assert fit.models == 40


def test_no_fit_below_three_models_or_without_spread():
    assert "fewer than 3" in transfer_fit(np.array([60.0, 70.0]), np.array([40.0, 50.0]))
    assert "same accuracy" in transfer_fit(np.full(4, 70.0), np.array([1.0, 2.0, 3.0, 4.0]))


def test_one_point_per_model_its_fp32_variant_on_cifar10():
    rows = one_per_model(_table())
    assert list(rows["model"]) == list(MODELS)
    assert set(rows["variant"]) == {"fp32"}
    assert list(rows["top1"]) == pytest.approx([top1 for _, top1 in MODELS.values()])


def test_the_figure_prints_the_fit_and_counts_models_without_a_published_figure():
    figure = imagenet_vs_transfer_figure(_table())
    (ax,) = figure.axes
    assert ax.get_title() == "class_mapping"
    np.testing.assert_allclose(
        ax.collections[0].get_offsets(),
        [[100 * i, 100 * t] for i, t in MODELS.values() if i is not None],
    )
    published = [(100 * i, 100 * t) for i, t in MODELS.values() if i is not None]
    x, y = np.array(published).T
    fit = stats.linregress(x, y)
    note = ax.texts[0].get_text()
    assert f"Pearson r = {fit.rvalue:.2f}" in note
    assert f"= {stats.spearmanr(x, y).statistic:.2f} (4 models)" in note
    assert f"y = {fit.slope:.2f} x" in note
    assert note.endswith("1 model(s) without a published ImageNet top-1 left out")
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), fit.slope * line.get_xdata() + fit.intercept)
    # Few models: each point is named, and no text covers another.
    assert sorted(t.get_text() for t in ax.texts[1:]) == sorted(list(MODELS)[:4])
    assert overlapping_texts(figure) == []


def test_a_panel_per_method_and_no_line_where_too_few_models():
    two = {model: MODELS[model] for model in ("alexnet", "resnet50")}
    table = pd.concat([_table(), _table(two).assign(method="linear_probe")], ignore_index=True)
    figure = imagenet_vs_transfer_figure(table)
    zero_shot, probe = figure.axes
    assert (zero_shot.get_title(), probe.get_title()) == ("class_mapping", "linear_probe")
    assert len(probe.lines) == 0
    assert probe.texts[0].get_text().startswith("fewer than 3 models")


@pytest.mark.parametrize("count", [50, 200])
def test_many_models_are_not_named_and_no_text_overlaps(count):
    rng = np.random.default_rng(count)
    models = {f"resnet{i}": (rng.uniform(0.55, 0.88), rng.uniform(0.3, 0.8)) for i in range(count)}
    figure = imagenet_vs_transfer_figure(_table(models))
    (ax,) = figure.axes
    assert len(ax.collections[0].get_offsets()) == count
    assert len(ax.texts) == 1  # the fit's text alone
    assert overlapping_texts(figure) == []


def test_a_table_without_the_published_column_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "leaderboard.csv"
    _table().drop(columns="published_imagenet_top1").to_csv(path, index=False)
    with pytest.raises(UserError, match="no column published_imagenet_top1.*Rerun the workflow"):
        read_transfer_table(path)
    _table().to_csv(path, index=False)
    assert len(read_transfer_table(path)) == len(_table())


def test_the_figure_reads_the_columns_the_leaderboard_writes():
    from cifar_zeroshot.analysis.leaderboard import LEADERBOARD_COLUMNS
    from cifar_zeroshot.report.transfer_plot import TRANSFER_COLUMNS

    assert set(TRANSFER_COLUMNS) <= set(LEADERBOARD_COLUMNS)
