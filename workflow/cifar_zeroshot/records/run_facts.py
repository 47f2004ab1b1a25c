"""What an inference run records about itself: its facts and its timing summary, typed once.

Both travel as JSON in the Parquet metadata of the run's logits and timing files. Inference
writes them, metrics and run_info read them, and the tests compare them, all through these two
classes, so every key is named in one place.
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from cifar_zeroshot.core.errors import UserError

T = TypeVar("T")


def dataclass_from_mapping(
    cls: type[T], raw: Mapping[str, Any], source: str | Path, what: str
) -> T:
    """Build ``cls`` from decoded JSON; a file of another layout is refused, naming the keys."""
    names = {field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    missing, unknown = sorted(names - set(raw)), sorted(set(raw) - names)
    if missing or unknown:
        details = "; ".join(
            f"{label}: {', '.join(keys)}"
            for label, keys in (("missing", missing), ("unexpected", unknown))
            if keys
        )
        raise UserError(
            f"{source} records {what} in another layout than this workflow writes ({details}). "
            "Delete it and rerun snakemake to recreate it."
        )
    return cls(**{name: raw[name] for name in names})


def fact_text(value: Any) -> str:
    """A recorded fact as a message shows it (digests shortened: 12 hex digits tell them apart)."""
    if isinstance(value, str) and len(value) == 64 and set(value) <= set("0123456789abcdef"):
        return repr(value[:12] + "...")
    return repr(value)


def fact_differences(held: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """'name is X, expected Y' for every fact of ``expected`` that ``held`` records otherwise."""
    return [
        f"{name} is {fact_text(held[name])}, expected {fact_text(wanted)}"
        for name, wanted in expected.items()
        if held[name] != wanted
    ]


@dataclass(frozen=True)
class RunFacts:
    """Who ran what, where: identical in a run's logits and timing files."""

    model: str
    weights: str  # the resolved weights, e.g. "ResNet50_Weights.IMAGENET1K_V2", or "none"
    variant: str  # Variant.name, e.g. "bf16-compile"
    precision: str
    compile: bool
    preprocess: str
    preprocess_spec: dict[str, Any]  # PreprocessSpec.to_facts()
    device: str  # "cuda" or "cpu"
    device_name: str
    gpu_index: int | None
    torch_version: str
    torchvision_version: str
    batch_size: int | None  # the size used (after any out-of-memory halving)
    batch_size_requested: int
    image_count: int
    dataset: str
    threads: int
    limit: int | None
    # test_set.images_digest of the images and labels this run scored (after the limit).
    test_set_sha256: str
    # The model's size and forward compute at this run's input size (models.complexity; a
    # multiply-add counts as 2 FLOPs); None where they could not be counted.
    parameters: int | None
    gflops_per_image: float | None
    # The SHA-256 of the user's weights file the model was loaded from (models.weights_file);
    # None for published or untrained weights.
    weights_sha256: str | None = None
    # Why parameters and gflops_per_image are None: the count's error line; None when counted.
    complexity_error: str | None = None
    # The torch model's memory format: "channels_last", or "contiguous" where it was not asked
    # for or does not apply (a rank-5 parameter or buffer); None for ONNX Runtime.
    memory_format: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str | Path) -> Self:
        # Files written before these keys existed: published weights, no such record.
        defaults = {"weights_sha256": None, "complexity_error": None, "memory_format": None}
        return dataclass_from_mapping(cls, {**defaults, **raw}, source, "run facts")

    def with_batch_size(self, batch_size: int) -> Self:
        return dataclasses.replace(self, batch_size=batch_size)


@dataclass(frozen=True)
class TimingSummary:
    """Throughput, latency and memory of one run. None where a figure does not apply."""

    images_per_second: float | None  # timed real images / timed seconds
    # Images over the time from the first timed batch until the logits file is on disk.
    end_to_end_images_per_second: float | None
    ms_per_image: float | None
    latency_p50_ms: float | None  # percentiles of the per-batch wall time
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    timed_images: int
    timed_batches: int
    warmup_batches: int
    # From the job's process start to its work: interpreter, imports, Snakemake's preamble.
    startup_seconds: float
    model_load_seconds: float
    compile_seconds: float | None
    batch_size: int
    batch_size_requested: int
    oom_retries: int
    torch_peak_allocated_bytes: int | None  # CUDA only
    torch_peak_reserved_bytes: int | None  # CUDA only
    nvml_process_bytes: int | None  # CUDA only, where NVML can see this process
    host_peak_rss_bytes: int
    # The GPU's energy over the timed batches (NVML's counter); None on the CPU or where NVML
    # cannot say.
    gpu_energy_joules: float | None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str | Path) -> Self:
        return dataclass_from_mapping(cls, raw, source, "a timing summary")


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))
