"""What one inference job is asked to do, and the checks that refuse a request before any work.

The config-fed fields have no defaults here: workflow/schemas/config.schema.yaml holds every
default, so a caller that forgets one gets a TypeError instead of a second, silent default.
"""

from dataclasses import dataclass
from pathlib import Path

from cifar_zeroshot.core.choices import DEVICES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant

IMAGE_SETS = ("test", "train")


@dataclass(frozen=True)
class InferenceRequest:
    model: str
    weights: str  # "DEFAULT", "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V1" or "none"
    variant: Variant
    test_set: Path  # the images (.npz): the test set, or the training set for a features job
    dataset: str
    logits_path: Path | None  # None: a features-only job (the training set, for the probe)
    timing_path: Path
    limit: int | None  # the first N images; None = all
    batch_size: int
    device: str  # one of choices.DEVICES
    threads: int
    warmup_batches: int
    gpu_lock_dir: Path
    gpu_wait_seconds: float | None  # how long to wait for a free GPU; None: forever
    # The penultimate features (penultimate.py) too, from the same pass, for the linear probe.
    features_path: Path | None = None
    image_set: str = "test"  # which images ``test_set`` holds: "test" or "train"
    embeddings_path: Path | None = None  # a CLIP model's image embeddings (instead of logits)


def check_request(request: InferenceRequest) -> None:
    """Refuse values the schema would refuse too, for callers that bypass Snakemake."""
    if request.device not in DEVICES:
        raise UserError(f"device {request.device!r} is not one of {', '.join(DEVICES)}.")
    for key, value, minimum in (
        ("batch_size", request.batch_size, 1),
        ("threads", request.threads, 1),
        ("warmup_batches", request.warmup_batches, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UserError(f"{key} must be an integer >= {minimum}, not {value!r}.")
    outputs = (request.logits_path, request.features_path, request.embeddings_path)
    if not any(outputs) or (request.embeddings_path and any(outputs[:2])):
        raise ValueError("an inference request asks for logits and/or features, or embeddings")
    if request.image_set not in IMAGE_SETS:
        raise ValueError(f"image_set must be one of {IMAGE_SETS}, not {request.image_set!r}")
    if request.image_set == "train" and (request.logits_path or request.limit is not None):
        raise ValueError("a training-set request asks for features of every image, no logits")
    limit = request.limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UserError(f"limit must be a positive integer or null (all images), not {limit!r}.")
