"""Synthetic result tables for many runs (8, 50, 200): the figures' readability tests draw them.

Model names cycle through torchvision, timm and CLIP architectures, so the runs fall into many
architecture families; each run is scored by the class mapping and the linear probe (a CLIP run
by its prompts), on CIFAR-10 and on CIFAR-10-C's corruptions at five severities.
"""

import numpy as np
import pandas as pd

from cifar_zeroshot.analysis.metrics_tables import METRICS_COLUMNS

ARCHITECTURES = (
    "resnet{}",
    "timm-resnet{}.a1_in1k",
    "vgg{}_bn",
    "efficientnet_b{}",
    "clip-RN{}.openai",
    "vit_b_{}",
    "timm-convnext_{}.fb_in1k",
    "mobilenet_v{}_large",
    "densenet{}",
    "regnet_y_{}gf",
    "timm-deit_{}_patch16_224.fb_in1k",
    "swin_v{}_t",
    "squeezenet1_{}",
    "timm-eva02_{}.mim",
    "inception_v{}",
    "resnext{}_32x4d",
)
VARIANTS = ("fp32", "bf16-compile", "fp32-onnxruntime")
CORRUPTIONS = ("fog", "snow", "gaussian_noise", "contrast")


def many_runs(count: int) -> list[tuple[str, str]]:
    """``count`` (model, variant) pairs: architectures in turn, one to three variants each."""
    runs: list[tuple[str, str]] = []
    number = 0
    while len(runs) < count:
        pattern = ARCHITECTURES[number % len(ARCHITECTURES)]
        model = pattern.format(10 + 7 * (number // len(ARCHITECTURES)) + number % 5)
        runs += [(model, v) for v in VARIANTS[: 1 + number % 3]][: count - len(runs)]
        number += 1
    return runs


def _row(model, variant, method, top1, **more) -> dict:
    return {
        "model": model,
        "variant": variant,
        "method": method,
        "weights": "DEFAULT",
        "dataset": "cifar10",
        "test_set": "cifar10",
        "corruption": "",
        "severity": None,
        "device": "cuda",
        "device_name": "NVIDIA H100",
        "images": 10_000,
        "top1": top1,
        "top1_ci_low": top1 - 0.01,
        "top1_ci_high": top1 + 0.01,
        **more,
    }


def many_metrics(count: int, seed: int = 0, corruptions: bool = False) -> pd.DataFrame:
    """metrics.csv's rows for ``count`` runs; CIFAR-10-C's blocks too with ``corruptions``."""
    rng = np.random.default_rng(seed)
    rows = []
    for model, variant in many_runs(count):
        accuracy = rng.uniform(0.3, 0.85)
        speed = 10 ** rng.uniform(1.5, 4)
        facts = {
            "images_per_second": speed,
            "ms_per_image": 1000 / speed,
            "gflops_per_image": 10 ** rng.uniform(-1, 1.5),
        }
        clip = model.startswith("clip-")
        for method in ("clip_prompts",) if clip else ("class_mapping", "linear_probe"):
            top1 = min(0.97, accuracy + 0.15) if method == "linear_probe" else accuracy
            ece = rng.uniform(0.01, 0.3)
            rows.append(_row(model, variant, method, top1, ece=ece, **facts))
            if not corruptions:
                continue
            for corruption in CORRUPTIONS:
                for severity in range(1, 6):
                    shifted = max(0.1, top1 - 0.05 * severity * rng.uniform(0.3, 1.2))
                    block = {"test_set": "cifar10-c", "corruption": corruption}
                    rows.append(_row(model, variant, method, shifted, severity=severity, **block))
    return pd.DataFrame(rows).reindex(columns=list(METRICS_COLUMNS))


def many_reliability_bins(metrics: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """reliability.csv's 15 bins for every CIFAR-10 row of ``metrics``: accuracy below the
    confidence by about the row's ECE."""
    rng = np.random.default_rng(seed)
    rows = []
    reference = metrics[metrics["test_set"] == "cifar10"]
    for model, variant, method, ece in reference[["model", "variant", "method", "ece"]].itertuples(
        index=False
    ):
        for number in range(15):
            confidence = (number + 0.5) / 15
            rows.append(
                {
                    "model": model,
                    "variant": variant,
                    "method": method,
                    "bin": number,
                    "images": int(rng.integers(0, 60)),
                    "mean_confidence": confidence,
                    "accuracy": float(np.clip(confidence - ece + rng.normal(0, 0.04), 0, 1)),
                }
            )
    return pd.DataFrame(rows)


def many_paired(metrics: pd.DataFrame, significance: float = 0.05) -> pd.DataFrame:
    """paired_tests.csv's rows for every pair of CIFAR-10 rows of ``metrics``: a difference
    counts as significant beyond 3 points."""
    reference = metrics[metrics["test_set"] == "cifar10"].reset_index(drop=True)
    first, second = np.triu_indices(len(reference), k=1)
    a, b = (
        reference.iloc[first].reset_index(drop=True),
        reference.iloc[second].reset_index(drop=True),
    )
    difference = a["top1"].to_numpy() - b["top1"].to_numpy()
    return pd.DataFrame(
        {
            **{f"{c}_a": a[c] for c in ("model", "variant", "method")},
            **{f"{c}_b": b[c] for c in ("model", "variant", "method")},
            "test_set": "cifar10",
            "top1_a": a["top1"],
            "top1_b": b["top1"],
            "difference": difference,
            "significant": np.abs(difference) > 0.03,
            "significance_level": significance,
        }
    )
