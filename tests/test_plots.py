import math
import struct

import numpy as np
import pandas as pd
import pytest

from cifar_zeroshot import plots
from cifar_zeroshot.labels import CIFAR10_CLASSES

RUNS = [("resnet50", "fp32"), ("resnet50", "bf16-compile"), ("mobilenet_v3_large", "fp32")]


def _png_size(path):
    """(width, height) from the PNG header; also checks the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _assert_png(path, min_kb=15, min_size=(600, 300)):
    width, height = _png_size(path)
    assert path.stat().st_size > min_kb * 1024
    assert width >= min_size[0] and height >= min_size[1]
    assert not list(path.parent.glob(".*tmp"))


@pytest.fixture
def metrics():
    n = 200
    rows = []
    for i, (model, variant) in enumerate(RUNS):
        gpu = i < 2  # the last run is CPU-only: only host RSS exists
        top1, top5 = 0.55 + 0.1 * i, 0.9 + 0.03 * i
        rows.append(
            {
                "model": model,
                "variant": variant,
                "device": "cuda" if gpu else "cpu",
                "device_name": "NVIDIA H100 80GB HBM3" if gpu else "AMD EPYC",
                "images": n,
                "pooling": "max_logit",
                "top1": top1,
                "top1_ci_low": top1 - 0.07,
                "top1_ci_high": top1 + 0.06,
                "top5": top5,
                "top5_ci_low": top5 - 0.04,
                "top5_ci_high": min(1.0, top5 + 0.03),
                "images_per_second": [800.0, 3100.0, 95.0][i],
                "ms_per_image": 1000 / [800.0, 3100.0, 95.0][i],
                "torch_peak_allocated_mb": 2100.0 / (i + 1) if gpu else math.nan,
                "torch_peak_reserved_mb": 2600.0 / (i + 1) if gpu else math.nan,
                "nvml_process_mb": 3200.0 / (i + 1) if gpu else math.nan,
                "host_peak_rss_mb": 2900.0,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def confusion():
    rng = np.random.default_rng(0)
    rows = []
    for model, variant in RUNS:
        counts = rng.integers(0, 5, (10, 10)) + np.diag(np.full(10, 15))
        for t, true in enumerate(CIFAR10_CLASSES):
            for p, predicted in enumerate(CIFAR10_CLASSES):
                rows.append((model, variant, true, predicted, int(counts[t, p])))
    return pd.DataFrame(
        rows, columns=["model", "variant", "true_class", "predicted_class", "count"]
    )


def test_speed(metrics, tmp_path):
    path = tmp_path / "plots" / "speed.png"
    plots.plot_speed(metrics, path)
    _assert_png(path)


def test_memory_with_gpu_and_cpu_runs(metrics, tmp_path):
    plots.plot_memory(metrics, tmp_path / "memory.png")
    _assert_png(tmp_path / "memory.png")


def test_memory_cpu_only(metrics, tmp_path):
    cpu = metrics.assign(
        torch_peak_allocated_mb=math.nan, torch_peak_reserved_mb=math.nan, nvml_process_mb=math.nan
    )
    plots.plot_memory(cpu, tmp_path / "memory.png")
    _assert_png(tmp_path / "memory.png", min_kb=8)


def test_accuracy(metrics, tmp_path):
    plots.plot_accuracy(metrics, tmp_path / "accuracy.png")
    _assert_png(tmp_path / "accuracy.png")


def test_accuracy_vs_speed(metrics, tmp_path):
    plots.plot_accuracy_vs_speed(metrics, tmp_path / "accuracy_vs_speed.png")
    _assert_png(tmp_path / "accuracy_vs_speed.png")


def test_per_class(tmp_path):
    rows = [
        (model, variant, name, 20, 10 + k, (10 + k) / 20)
        for model, variant in RUNS
        for k, name in enumerate(CIFAR10_CLASSES)
    ]
    per_class = pd.DataFrame(
        rows, columns=["model", "variant", "cifar_class", "images", "correct", "accuracy"]
    )
    plots.plot_per_class(per_class, tmp_path / "per_class.png")
    _assert_png(tmp_path / "per_class.png")


def test_confusion_is_deterministic(confusion, tmp_path):
    paths = [plots.confusion_plot_path(tmp_path / d, "resnet50", "bf16-compile") for d in "ab"]
    for path in paths:
        plots.plot_confusion(confusion, "resnet50", "bf16-compile", path)
    assert paths[0].name == "resnet50-bf16-compile.png"
    _assert_png(paths[0], min_size=(600, 600))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_confusion_of_unknown_run_is_refused(confusion, tmp_path):
    with pytest.raises(ValueError, match="no confusion rows for vit fp32"):
        plots.plot_confusion(confusion, "vit", "fp32", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
