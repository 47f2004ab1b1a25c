"""Test helpers: inference outputs (logits + timing files) written as inference writes them."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.inference.request import InferenceRequest
from cifar_zeroshot.methods.interface import MethodScores, RunOutputs
from cifar_zeroshot.methods.scoring import softmax
from cifar_zeroshot.records.logits import LogitsWriter, write_timing
from cifar_zeroshot.records.run_facts import RunFacts, TimingSummary

# Class k pools ImageNet classes 10k and 10k+1; everything from 100 up is unmapped.
GROUPS = [np.array([10 * k, 10 * k + 1]) for k in range(10)]
NAMES = [f"in{i}" for i in range(1000)]


def make_facts(model: str = "resnet", variant: str = "fp32", **overrides: Any) -> RunFacts:
    """Facts of a CPU run on the synthetic test set; ``overrides`` replace any field."""
    parsed = Variant.parse(variant)
    facts = RunFacts(
        model=model,
        weights=f"{model}_Weights.X",
        variant=variant,
        precision=parsed.precision,
        compile=parsed.compile,
        preprocess=parsed.preprocess,
        preprocess_spec={"resize": 232, "crop": 224},
        device="cpu",
        device_name="Test CPU",
        gpu_index=None,
        torch_version="2.11.0",
        torchvision_version="0.26.0",
        batch_size=8,
        batch_size_requested=8,
        image_count=30,
        dataset="synthetic",
        threads=2,
        limit=None,
        test_set_sha256="5e" * 32,
        parameters=1_000_000,
        gflops_per_image=0.5,
    )
    return dataclasses.replace(facts, **overrides)


def cpu_request(
    model: str, test_set: Path, out: Path, variant: Variant | None = None, **changes: Any
) -> InferenceRequest:
    """An untrained CPU inference job on a synthetic test set, its files under ``out`` named as
    the workflow names them; ``changes`` replace any field."""
    variant = variant or Variant("fp32")
    request = InferenceRequest(
        model=model,
        weights="none",
        variant=variant,
        images=test_set,
        dataset="synthetic",
        logits_path=out / "logits" / model / f"{variant.name}.parquet",
        timing_path=out / "timing" / model / f"{variant.name}.parquet",
        limit=None,
        batch_size=8,
        device="cpu",
        threads=2,
        warmup_batches=1,
        gpu_lock_dir=out / "locks",
        gpu_wait_seconds=None,
    )
    return dataclasses.replace(request, **changes)


def make_summary(seed: int = 0, **overrides: Any) -> TimingSummary:
    """A CPU run's timing summary (no GPU memory figures); ``overrides`` replace any field."""
    summary = TimingSummary(
        images_per_second=100.0 * (seed + 1),
        end_to_end_images_per_second=None,
        ms_per_image=10.0 / (seed + 1),
        latency_p50_ms=1.0,
        latency_p90_ms=2.0,
        latency_p99_ms=3.0,
        timed_images=15,
        timed_batches=1,
        warmup_batches=1,
        startup_seconds=1.5,
        model_load_seconds=0.5,
        compile_seconds=None,
        batch_size=8,
        batch_size_requested=8,
        oom_retries=0,
        torch_peak_allocated_bytes=None,
        torch_peak_reserved_bytes=None,
        nvml_process_bytes=None,
        host_peak_rss_bytes=512 * 2**20,
        gpu_energy_joules=None,
    )
    return dataclasses.replace(summary, **overrides)


def timing_batches(n: int) -> pd.DataFrame:
    """A warm-up batch and a timed one over ``n`` images."""
    return pd.DataFrame(
        {
            "batch_index": [0, 1],
            "warmup": [True, False],
            "images": [n // 2, n - n // 2],
            "padded_images": [n, n],
            "input_seconds": [0.1, 0.1],
            "forward_seconds": [0.2, 0.2],
            "output_seconds": [0.01, 0.01],
            "total_seconds": [0.31, 0.31],
        }
    )


def write_run(
    folder: Path,
    model: str,
    variant: str,
    logits: np.ndarray,
    labels: np.ndarray,
    dataset: str = "synthetic",
    seed: int = 0,
    **fact_overrides: Any,
) -> tuple[Path, Path]:
    """A logits + timing pair as inference writes them (rows in shuffled order);
    ``fact_overrides`` replace any field of the run facts."""
    n = len(labels)
    logits_path = folder / "logits" / model / f"{variant}.parquet"
    timing_path = folder / "timing" / model / f"{variant}.parquet"
    facts = make_facts(model, variant, dataset=dataset, image_count=n, **fact_overrides)
    order = np.random.default_rng(seed).permutation(n)
    with LogitsWriter(logits_path, facts) as writer:
        for chunk in np.array_split(order, 3):
            writer.write_batch(chunk, labels[chunk], logits[chunk])
    write_timing(timing_path, timing_batches(n), facts, make_summary(seed))
    return logits_path, timing_path


def one_hot_logits(winners: Any, n_classes: int = 1000, value: float = 5.0) -> np.ndarray:
    winners = np.asarray(winners)
    logits = np.zeros((len(winners), n_classes), np.float32)
    logits[np.arange(len(winners)), winners] = value
    return logits


def write_three_runs(folder: Path) -> list[tuple[Path, Path]]:
    """resnet fp32 (all 30 right when pooled), resnet bf16 (flips 3 answers to cat), vit fp32
    (always the next class); 30 images, 3 per class."""
    labels = np.arange(30) % 10
    winners = 10 * labels  # correct: the first member of the true class's group
    winners[:10] = 500  # first 10 images: an unmapped ImageNet class wins
    fp32 = one_hot_logits(winners)
    # Among the unmapped winners, pooled scores still favour the true class by a little.
    fp32[np.arange(10), 10 * labels[:10] + 1] = 1.0
    bf16 = fp32.copy()
    bf16[[10, 11, 12]] = one_hot_logits([30, 30, 30])  # now predicts cat (3)
    vit = one_hot_logits(10 * ((labels + 1) % 10))
    return [
        write_run(folder, "resnet", "fp32", fp32, labels, seed=0),
        write_run(folder, "vit", "fp32", vit, labels, seed=2),
        write_run(folder, "resnet", "bf16", bf16, labels, seed=1),
    ]


@dataclass(frozen=True)
class FirstMemberMethod:
    """A second method for the tests: each class scored by its first ImageNet member alone."""

    name: ClassVar[str] = "first_member"
    setting_columns: ClassVar[tuple[str, ...]] = ()
    figure_columns: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, run: RunOutputs) -> bool:
        return run.facts.model != "vit"  # a method that skips a run, as the probe may

    def score(self, run: RunOutputs) -> MethodScores:
        scores = run.logits[:, [int(g[0]) for g in GROUPS]].astype(float)
        return MethodScores(scores, {}, {}, softmax(scores))

    @classmethod
    def describe(cls, settings: Mapping[str, str]) -> str:
        return "first member logits"

    @classmethod
    def describe_markdown(cls, settings: Mapping[str, str]) -> str:
        return "scores from each class's **first member**"
