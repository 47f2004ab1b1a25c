"""Synthetic images and untrained weights are said on every figure and in the summary."""

import pandas as pd
from figure_checks import overlapping_texts
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
    assert figure.get_suptitle() == "" and figure._supxlabel is None


def test_the_demo_says_synthetic_images_and_untrained_weights():
    metrics = _metrics("synthetic", {"alexnet": "none", "clip:ViT-B-32/openai": "none"})
    note = provenance_note(metrics)
    assert note == (
        "synthetic images, not CIFAR-10; untrained weights. "
        "These figures check the workflow, not the models."
    )
    assert mark_provenance(Figure(), note)._supxlabel.get_text() == note
    legend_below = Figure(layout="constrained")
    legend_below.subplots().plot([1], label="top-1")
    legend_below.legend(loc="outside lower center")
    assert mark_provenance(legend_below, note).get_suptitle() == note  # the bottom is taken
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


def test_the_note_covers_no_text_of_any_figure():
    """Each figure of the plots job, marked, drawn: no text box overlaps another."""
    from cifar_zeroshot.report import plots

    rows = []
    for i, (model, method) in enumerate(
        [("alexnet", "class_mapping"), ("alexnet", "linear_probe")]
    ):
        rows.append(
            {
                "model": model,
                "variant": "fp32",
                "method": method,
                "dataset": "synthetic",
                "weights": "none",
                "device": "cpu",
                "device_name": "AMD EPYC",
                "images": 200,
                "pooling": "max_logit" if i == 0 else float("nan"),
                **{f"top{k}{s}": 0.5 for k in (1, 5) for s in ("", "_ci_low", "_ci_high")},
                "images_per_second": 120.0,
                "ms_per_image": 8.3,
                "host_peak_rss_mb": 1100.0,
            }
        )
    metrics = pd.DataFrame(rows)
    note = provenance_note(metrics)
    for draw in (
        plots.speed_figure,
        plots.memory_figure,
        plots.accuracy_figure,
        plots.accuracy_vs_speed_figure,
        probe_vs_zero_shot_figure,
    ):
        figure = mark_provenance(draw(metrics), note)
        assert overlapping_texts(figure) == [], draw.__name__


def test_saving_a_figure_writes_its_note_on_it(tmp_path):
    from cifar_zeroshot.report.plot_parts import save_figure

    figure = Figure(layout="constrained")
    figure.subplots().plot([0, 1])
    save_figure(figure, tmp_path / "a.png", "synthetic images, not CIFAR-10.")
    assert figure._supxlabel.get_text() == "synthetic images, not CIFAR-10."
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")


def test_real_runs_name_their_images_and_weights_on_every_figure():
    metrics = pd.DataFrame(
        {
            "model": ["squeezenet1_0.file-57b29c03"] * 2,
            "method": ["class_mapping", "class_mapping+balanced"],
            "dataset": ["cifar10"] * 2,
            "weights": ["file-sha256:57b29c03"] * 2,
            "images": [1000, 1000],
            "test_set_title": ["real CIFAR-10 test images"] * 2,
            "weights_title": ["SqueezeNet 1.0 (Deep Compression)"] * 2,
        }
    )
    note = provenance_note(metrics)
    assert note == "1,000 real CIFAR-10 test images; SqueezeNet 1.0 (Deep Compression) weights"
    assert images_name(metrics) == "real CIFAR-10 test images"
    label = mark_provenance(Figure(), note)._supxlabel
    assert label.get_text() == note and label.get_color() != "firebrick"  # not a warning
