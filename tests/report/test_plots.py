"""Tests for report.plots: what each figure draws, read back from matplotlib objects."""

import math

import numpy as np
import pandas as pd
import pytest
from figure_checks import overlapping_texts
from matplotlib.container import BarContainer

from cifar_zeroshot.core.labels import CIFAR10_CLASSES
from cifar_zeroshot.report import plots
from cifar_zeroshot.report.plot_parts import (
    decimals_format,
    remove_stale_pngs,
    save_figure,
    zero_shot_method,
)

RUNS = [("resnet50", "fp32"), ("resnet50", "bf16-compile"), ("mobilenet_v3_large", "fp32")]
LABELS = ["resnet50 · fp32", "resnet50 · bf16-compile", "mobilenet_v3_large · fp32"]
SPEED = [800.0, 3100.0, 95.0]


@pytest.fixture
def metrics():
    rows = []
    for i, (model, variant) in enumerate(RUNS):
        gpu = i < 2  # the last run is CPU-only: only host RSS exists
        top1, top5 = 0.55 + 0.1 * i, 0.9 + 0.03 * i
        rows.append(
            {
                "model": model,
                "variant": variant,
                "method": "class_mapping",
                "device": "cuda" if gpu else "cpu",
                "device_name": "NVIDIA H100 80GB HBM3" if gpu else "AMD EPYC",
                "images": 200,
                "pooling": "max_logit",
                "top1": top1,
                "top1_ci_low": top1 - 0.07,
                "top1_ci_high": top1 + 0.06,
                "top5": top5,
                "top5_ci_low": top5 - 0.04,
                "top5_ci_high": min(1.0, top5 + 0.03),
                "images_per_second": SPEED[i],
                "ms_per_image": 1000 / SPEED[i],
                "torch_peak_allocated_mb": 2100.0 / (i + 1) if gpu else math.nan,
                "torch_peak_reserved_mb": 2600.0 / (i + 1) if gpu else math.nan,
                "nvml_process_mb": 3200.0 / (i + 1) if gpu else math.nan,
                "host_peak_rss_mb": 2900.0,
            }
        )
    return pd.DataFrame(rows)


def _with_second_method(frame):
    """The same runs scored by a second method (lower accuracy, no pooling), rows interleaved."""
    halved = {column: frame[column] / 2 for column in ("top1", "top1_ci_low", "top1_ci_high")}
    other = frame.assign(method="linear_probe", pooling=math.nan, **halved)
    return pd.concat([frame, other]).sort_index(kind="stable")


@pytest.fixture
def confusion():
    rng = np.random.default_rng(0)
    rows = []
    for model, variant in RUNS:
        counts = rng.integers(0, 5, (10, 10)) + np.diag(np.full(10, 15))
        for t, true in enumerate(CIFAR10_CLASSES):
            for p, predicted in enumerate(CIFAR10_CLASSES):
                rows.append((model, variant, "class_mapping", true, predicted, int(counts[t, p])))
    columns = ["model", "variant", "method", "true_class", "predicted_class", "count"]
    return pd.DataFrame(rows, columns=columns)


def _ticks(labels):
    return [label.get_text() for label in labels]


def _widths(container):
    return [bar.get_width() for bar in container]


def _bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _texts(ax):
    return [text.get_text() for text in ax.texts]


def test_speed_draws_throughput_and_latency_per_run(metrics):
    figure = plots.speed_figure(metrics)
    throughput, latency = figure.axes
    assert figure.get_suptitle() == (
        "Inference speed on AMD EPYC, NVIDIA H100 80GB HBM3 (warm-up batches excluded)"
    )
    assert _ticks(throughput.get_yticklabels()) == LABELS
    assert _widths(_bars(throughput)[0]) == pytest.approx(SPEED)
    assert _widths(_bars(latency)[0]) == pytest.approx([1000 / s for s in SPEED])
    assert _texts(throughput) == ["800", "3,100", "95"]
    # One number format per panel: the smallest value's three significant digits set it.
    assert _texts(latency) == ["1.250", "0.323", "10.526"]
    assert throughput.get_xlabel() == "throughput (images/s, higher is better)"
    assert latency.get_xlabel() == "time per image (ms, lower is better)"
    assert throughput.yaxis_inverted()  # first run at the top


def test_speed_adds_images_per_joule_where_the_gpu_energy_was_measured(metrics):
    measured = metrics.assign(images_per_joule=[40.0, 125.0, float("nan")])  # the CPU run: none
    figure = plots.speed_figure(measured)
    assert len(figure.axes) == 3
    energy = figure.axes[2]
    assert energy.get_xlabel() == "images per joule of GPU energy (higher is better)"
    assert _widths(_bars(energy)[0]) == pytest.approx([40.0, 125.0, 0.0])
    assert _texts(energy) == ["40.0", "125.0", "n/a"]
    nothing = metrics.assign(images_per_joule=float("nan"))  # CPU runs: two panels, as before
    assert len(plots.speed_figure(nothing).axes) == 2


def test_speed_draws_each_run_once_whatever_the_methods(metrics):
    figure = plots.speed_figure(_with_second_method(metrics))
    throughput = figure.axes[0]
    assert _ticks(throughput.get_yticklabels()) == LABELS
    assert len(_bars(throughput)[0]) == 3


def test_memory_with_gpu_and_cpu_runs(metrics):
    figure = plots.memory_figure(metrics)
    ax = figure.axes[0]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == list(
        plots.MEMORY_SERIES.values()
    )
    assert len(_bars(ax)) == 4
    nvml = _bars(ax)[2]
    assert _widths(nvml) == pytest.approx([3200.0, 1600.0, 0.0])  # nothing for the CPU run
    assert _widths(_bars(ax)[3]) == pytest.approx([2900.0] * 3)
    assert "" in _texts(ax) and "3,200" in _texts(ax)
    assert _ticks(ax.get_yticklabels()) == LABELS
    assert ax.get_title() == "Peak memory during inference on AMD EPYC, NVIDIA H100 80GB HBM3"


def test_memory_cpu_only_draws_host_rss_alone(metrics):
    cpu = metrics.assign(
        torch_peak_allocated_mb=math.nan, torch_peak_reserved_mb=math.nan, nvml_process_mb=math.nan
    )
    figure = plots.memory_figure(cpu)
    ax = figure.axes[0]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["host peak RSS (CPU RAM)"]
    assert len(_bars(ax)) == 1 and _widths(_bars(ax)[0]) == pytest.approx([2900.0] * 3)


def test_memory_without_any_figure_says_so(metrics):
    nothing = metrics.drop(columns=list(plots.MEMORY_SERIES))
    figure = plots.memory_figure(nothing)
    assert _texts(figure.axes[0]) == ["no memory figures were recorded"]
    assert not figure.legends


def _error_extents(container: BarContainer):
    """(low, high) x ends of each bar's error bar."""
    segments = container.errorbar.lines[2][0].get_segments()
    return [(segment[0][0], segment[1][0]) for segment in segments]


def test_accuracy_bars_and_wilson_error_bars(metrics):
    figure = plots.accuracy_figure(metrics)
    ax = figure.axes[0]
    assert ax.get_title() == "Zero-shot accuracy on CIFAR-10 (ImageNet logits pooled by max_logit)"
    assert _ticks(ax.get_yticklabels()) == LABELS
    top1, top5 = _bars(ax)
    assert _widths(top1) == pytest.approx(100 * metrics["top1"])
    assert _widths(top5) == pytest.approx(100 * metrics["top5"])
    for k, bars in ((1, top1), (5, top5)):
        bounds = metrics[[f"top{k}_ci_low", f"top{k}_ci_high"]].to_numpy()
        np.testing.assert_allclose(_error_extents(bars), 100 * bounds)
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["top-1", "top-5"]
    assert _texts(ax)[:3] == ["55.0", "65.0", "75.0"]  # top-1 values beside the bars


def test_accuracy_names_the_method_when_there_are_several(metrics):
    both = _with_second_method(metrics)
    ax = plots.accuracy_figure(both).axes[0]
    assert _ticks(ax.get_yticklabels())[:2] == [
        "resnet50 · fp32 · class_mapping",
        "resnet50 · fp32 · linear_probe",
    ]
    assert _widths(_bars(ax)[0]) == pytest.approx(100 * both["top1"])
    # The second method is the linear probe, trained on CIFAR-10: no longer all zero-shot.
    assert ax.get_title() == "Accuracy on CIFAR-10 (per scoring method)"


def test_accuracy_vs_speed_one_point_per_run(metrics):
    figure = plots.accuracy_vs_speed_figure(metrics)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    offsets = [collection.get_offsets()[0] for collection in ax.collections]
    np.testing.assert_allclose(offsets, [[800.0, 55.0], [3100.0, 65.0], [95.0, 75.0]])
    # Colour: the architecture family (two resnet50 runs share one); marker: the variant.
    edges = [tuple(collection.get_edgecolor()[0]) for collection in ax.collections]
    assert edges[0] == edges[1] != edges[2]
    paths = [collection.get_paths()[0].vertices.tolist() for collection in ax.collections]
    assert paths[0] == paths[2] != paths[1]  # fp32, bf16-compile, fp32
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "architecture family",
        "mobilenet",
        "resnet",
        "variant",
        "fp32",
        "bf16-compile",
        "Pareto front, named",
        "class_mapping",
    ]  # one method: no method section
    # resnet50 fp32 (800/s, 55 %) is beaten by its bf16 run (3,100/s, 65 %): off the front,
    # unnamed; the front is a staircase through the other two.
    assert sorted(_texts(ax)) == ["mobilenet_v3_large · fp32", "resnet50 · bf16-compile"]
    (front,) = ax.lines
    assert front.get_drawstyle() == "steps-pre"
    np.testing.assert_allclose(front.get_xydata(), [[95.0, 75.0], [3100.0, 65.0]])
    assert ax.get_xlim() == pytest.approx((95.0 / 1.6, 3100.0 * 1.6))
    assert ax.get_ylabel() == "top-1 accuracy (%)"


def test_accuracy_vs_speed_tells_the_method_by_the_fill(metrics):
    figure = plots.accuracy_vs_speed_figure(_with_second_method(metrics))
    ax = figure.axes[0]
    faces = [collection.get_facecolor() for collection in ax.collections]
    methods = list(_with_second_method(metrics)["method"])
    for face, method in zip(faces, methods, strict=True):
        hollow = face.size == 0 or face[0][3] == 0
        assert hollow == (method == "linear_probe"), method
    texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert texts[-6:] == [
        "method (filled: zero-shot)",
        "class_mapping",
        "linear_probe",
        "Pareto front per method",
        "class_mapping",
        "linear_probe",
    ]
    assert len(ax.lines) == 2  # each method's front: the probe's rows beat no zero-shot row


def test_accuracy_vs_speed_with_twelve_runs_has_no_overlapping_text():
    """Four models in three variants, with close speeds and accuracies: the worst case for labels
    on points; the figure has none, and no two texts of the figure overlap."""
    rng = np.random.default_rng(1)
    models = ["resnet50", "vgg16", "alexnet", "squeezenet1_1"]
    variants = ["fp32", "bf16-compile", "fp32-onnxruntime"]
    rows = [
        {
            "model": model,
            "variant": variant,
            "method": "class_mapping",
            "device": "cpu",
            "device_name": "AMD EPYC",
            "top1": 0.40 + 0.01 * rng.random(),
            "images_per_second": 100.0 * (1 + 0.05 * rng.random()),
        }
        for model in models
        for variant in variants
    ]
    figure = plots.accuracy_vs_speed_figure(pd.DataFrame(rows))
    assert len(figure.axes[0].collections) == 12
    assert overlapping_texts(figure) == []


def test_per_class_heatmap_values_and_labels():
    rows = [
        (model, variant, "class_mapping", name, 20, 10 + k, (10 + k) / 20)
        for model, variant in RUNS
        for k, name in enumerate(CIFAR10_CLASSES)
    ]
    columns = ["model", "variant", "method", "cifar_class", "images", "correct", "accuracy"]
    per_class = pd.DataFrame(rows, columns=columns)
    ax = plots.per_class_figure(per_class).axes[0]
    expected = np.tile(100 * (10 + np.arange(10)) / 20, (3, 1))
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert _ticks(ax.get_yticklabels()) == LABELS
    assert _ticks(ax.get_xticklabels()) == list(CIFAR10_CLASSES)
    assert _texts(ax)[:3] == ["50", "55", "60"]
    assert ax.get_title() == "Per-class top-1 accuracy (%)"


def test_confusion_counts_and_shares(confusion):
    figure = plots.confusion_figure(confusion, "resnet50", "bf16-compile", "class_mapping")
    ax = figure.axes[0]
    rows = confusion[confusion["variant"] == "bf16-compile"]
    counts = rows["count"].to_numpy().reshape(10, 10)
    assert _texts(ax) == [str(c) for c in counts.reshape(-1)]
    shares = counts / counts.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ax.images[0].get_array(), shares)
    assert _ticks(ax.get_xticklabels()) == list(CIFAR10_CLASSES)
    assert _ticks(ax.get_yticklabels()) == list(CIFAR10_CLASSES)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_title() == "Confusion matrix: resnet50 · bf16-compile (counts)"


def test_confusion_picks_the_method_and_names_it_among_several(confusion):
    other = confusion.assign(method="linear_probe", count=1)
    both = pd.concat([confusion, other])
    ax = plots.confusion_figure(both, "resnet50", "fp32", "linear_probe").axes[0]
    assert set(_texts(ax)) == {"1"}
    assert ax.get_title() == "Confusion matrix: resnet50 · fp32 · linear_probe (counts)"


def test_a_run_the_probe_alone_scores_gets_the_probes_confusion_matrix(confusion):
    """A timm head that is not ImageNet-1k's has linear_probe rows only (docs/timm.md)."""
    probe_only = confusion.assign(model="timm-x.in21k", method="linear_probe")
    both = pd.concat([confusion, probe_only])
    assert zero_shot_method(both, "resnet50", "fp32") == "class_mapping"
    assert zero_shot_method(both, "timm-x.in21k", "fp32") == "linear_probe"


def test_confusion_of_unknown_run_is_refused(confusion):
    with pytest.raises(ValueError, match=r"no confusion rows for vit fp32 \(class_mapping\)"):
        plots.confusion_figure(confusion, "vit", "fp32", "class_mapping")


def test_saved_png_is_deterministic_and_whole(confusion, tmp_path):
    paths = [tmp_path / d / "resnet50-fp32.png" for d in "ab"]
    for path in paths:
        save_figure(plots.confusion_figure(confusion, "resnet50", "fp32", "class_mapping"), path)
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert not list(paths[0].parent.glob(".*tmp"))


def test_a_panel_writes_every_value_with_the_same_decimals():
    assert decimals_format(np.array([7.4, 186.0])) == "{:,.2f}"  # 7.40 and 186.00, never 186.
    assert decimals_format(np.array([1234.0, 56789.0])) == "{:,.0f}"
    assert decimals_format(np.array([0.0004, 2.0])) == "{:,.3f}"  # at most three decimals
    assert decimals_format(np.array([np.nan, 0.0])) == "{:,.0f}"
    assert decimals_format(np.array([6.5, 372.5]), digits=2) == "{:,.1f}"  # throughput


def test_confusion_matrices_of_runs_no_longer_configured_are_removed(tmp_path):
    folder = tmp_path / "confusion"
    folder.mkdir()
    current = [folder / "alexnet-fp32.png", folder / "vgg16-fp32.png"]
    stale = folder / "resnet18-fp32.png"
    for path in [*current, stale, folder / "notes.txt"]:
        path.write_bytes(b"x")
    assert remove_stale_pngs(folder, [str(p) for p in current]) == [stale]
    assert sorted(p.name for p in folder.iterdir()) == [
        "alexnet-fp32.png",
        "notes.txt",
        "vgg16-fp32.png",
    ]
