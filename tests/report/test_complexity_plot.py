"""Tests for report.complexity_plot: accuracy against GFLOPs per image."""

import math

import numpy as np
import pandas as pd
from figure_checks import overlapping_texts

from cifar_zeroshot.report.complexity_plot import accuracy_vs_gflops_figure


def _metrics() -> pd.DataFrame:
    rows = [
        ("resnet50", "fp32", "class_mapping", 0.60, 8.18),
        ("resnet50", "fp32", "linear_probe", 0.90, 8.18),
        ("timm-test_vit.r160_in1k", "fp32", "class_mapping", 0.10, 0.075),
        ("clip-RN50.openai", "fp32", "clip_prompts", 0.70, math.nan),  # not counted
    ]
    columns = ["model", "variant", "method", "top1", "gflops_per_image"]
    return pd.DataFrame(rows, columns=columns).assign(device="cpu", device_name="CPU")


def test_one_point_per_counted_row_at_its_gflops():
    figure = accuracy_vs_gflops_figure(_metrics())
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    offsets = [collection.get_offsets()[0] for collection in ax.collections]
    np.testing.assert_allclose(offsets, [[8.18, 60.0], [8.18, 90.0], [0.075, 10.0]])
    faces = [collection.get_facecolor() for collection in ax.collections]
    hollow = [face.size == 0 or face[0][3] == 0 for face in faces]
    assert hollow == [False, True, False]  # the probe is hollow, as in accuracy_vs_speed
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == "1 row(s) without a FLOP count left out"
    # Fewer FLOPs is better here: the tiny ViT is on the class mapping's front beside
    # resnet50, which is also the probe's whole front.
    assert sorted(texts[1:]) == ["resnet50", "resnet50", "timm-test_vit.r160_in1k"]
    assert [line.get_drawstyle() for line in ax.lines] == ["steps-post", "steps-post"]
    assert "GFLOPs per image" in ax.get_xlabel()
    assert overlapping_texts(figure) == []


def test_metrics_without_the_column_draw_an_empty_figure():
    ax = accuracy_vs_gflops_figure(_metrics().drop(columns="gflops_per_image")).axes[0]
    assert len(ax.collections) == 0
    assert ax.texts[0].get_text() == "4 row(s) without a FLOP count left out"
