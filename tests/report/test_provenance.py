"""Synthetic images and untrained weights are said on every figure and in the summary."""

import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.report.probe_plot import probe_vs_zero_shot_figure
from cifar_zeroshot.report.provenance import (
    accuracy_title,
    images_name,
    mark_provenance,
    provenance_note,
)


def _metrics(dataset: str, weights: dict[str, str]) -> pd.DataFrame:
    rows = [
        {"model": model, "variant": "fp32", "method": method, "dataset": dataset, "weights": w}
        for model, w in weights.items()
        for method in ("class_mapping", "linear_probe")
    ]
    return pd.DataFrame(rows)


def test_real_runs_get_no_note():
    metrics = _metrics("cifar10", {"resnet50": "ResNet50_Weights.IMAGENET1K_V2"})
    assert provenance_note(metrics) is None
    assert images_name(metrics) == "CIFAR-10"
    figure = Figure()
    assert mark_provenance(figure, provenance_note(metrics)) is figure
    assert figure._supxlabel is None


def test_the_demo_says_synthetic_images_and_untrained_weights():
    metrics = _metrics("synthetic", {"alexnet": "none", "clip:ViT-B-32/openai": "none"})
    note = provenance_note(metrics)
    assert note == (
        "synthetic images, not CIFAR-10; untrained weights. "
        "These figures check the workflow, not the models."
    )
    figure = mark_provenance(Figure(), note)
    assert figure._supxlabel.get_text() == note
    assert images_name(metrics) == "synthetic images"


def test_only_the_untrained_models_are_named_when_some_are_trained():
    metrics = _metrics("cifar10", {"alexnet": "none", "resnet50": "ResNet50_Weights.V2"})
    assert provenance_note(metrics).startswith("untrained weights: alexnet.")


def test_titles_name_the_images_and_whether_every_method_is_zero_shot():
    assert accuracy_title(["class_mapping"], "synthetic images") == (
        "Zero-shot accuracy on synthetic images"
    )
    assert accuracy_title(["class_mapping", "linear_probe"]) == "Accuracy on CIFAR-10"


def test_the_probe_plot_never_says_cifar10_features_on_synthetic_images():
    metrics = _metrics("synthetic", {"alexnet": "none"}).assign(
        top1=0.5, top1_ci_low=0.4, top1_ci_high=0.6
    )
    legend = probe_vs_zero_shot_figure(metrics).axes[0].get_legend_handles_labels()[1]
    assert legend[1] == "linear probe (trained on features of synthetic images)"
    assert not any("CIFAR-10" in text for text in legend)
