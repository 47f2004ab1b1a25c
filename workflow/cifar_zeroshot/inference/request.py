"""What one inference job is asked to do, and the checks that refuse a request before any work.

The config-fed fields have no defaults here: workflow/schemas/config.schema.yaml holds every
default, so a caller that forgets one gets a TypeError instead of a second, silent default.
"""

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cifar_zeroshot.core.choices import DEVICES
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.variants import Variant
from cifar_zeroshot.data.image_set import ImageSet
from cifar_zeroshot.models.weights_file import WeightsFile


class JobKind(Enum):
    """The jobs the workflow runs: the image set each reads and the files each writes beside its
    timing file. A request must ask for exactly one of these combinations."""

    # A classifier on the test set: its ImageNet logits (the zero-shot methods score them) ...
    LOGITS = (ImageSet.TEST, frozenset({"logits"}))
    # ... and, for the linear probe, its penultimate features from the same pass.
    LOGITS_AND_FEATURES = (ImageSet.TEST, frozenset({"logits", "features"}))
    # A classifier on the training set: features only, of every image (the probe's training data).
    TRAINING_FEATURES = (ImageSet.TRAINING, frozenset({"features"}))
    # A CLIP image tower on the test set: unit image embeddings.
    EMBEDDINGS = (ImageSet.TEST, frozenset({"embeddings"}))
    # A classifier whose head is not ImageNet-1k's (a timm in21k tag) on the test set: features
    # only, which the linear probe alone scores (the class mapping needs ImageNet-1k logits).
    TEST_FEATURES = (ImageSet.TEST, frozenset({"features"}))

    @property
    def image_set(self) -> ImageSet:
        return self.value[0]

    @property
    def outputs(self) -> frozenset[str]:
        return self.value[1]

    @property
    def forward_output(self) -> str:
        """What the job's forward returns per image, as messages name it."""
        return {
            JobKind.LOGITS: "ImageNet logits",
            JobKind.LOGITS_AND_FEATURES: "ImageNet logits and features",
            JobKind.TRAINING_FEATURES: "features",
            JobKind.EMBEDDINGS: "image embeddings",
            JobKind.TEST_FEATURES: "features",
        }[self]


@dataclass(frozen=True)
class InferenceRequest:
    model: str
    weights: str  # "DEFAULT", "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V1" or "none"
    variant: Variant
    images: Path  # the images file (.npz) of ``image_set``
    dataset: str
    logits_path: Path | None
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
    image_set: ImageSet = ImageSet.TEST
    embeddings_path: Path | None = None  # a CLIP model's image embeddings (instead of logits)
    # The user's weights file (weights is then its setting, models.weights_file).
    weights_file: WeightsFile | None = None
    # The images are a selection of blocks (CIFAR-10-C's): checked to record its blocks before
    # any model runs, so another set's image file in its place is named, not scored.
    blocked: bool = False

    @property
    def kind(self) -> JobKind:
        """The job this request describes; ValueError for a combination no job writes."""
        asked = frozenset(
            name
            for name, path in (
                ("logits", self.logits_path),
                ("features", self.features_path),
                ("embeddings", self.embeddings_path),
            )
            if path is not None
        )
        for kind in JobKind:
            if (kind.image_set, kind.outputs) == (self.image_set, asked):
                return kind
        raise ValueError(
            f"no inference job writes {sorted(asked)} for the {self.image_set} set; the jobs are "
            + "; ".join(f"{k.name}: {sorted(k.outputs)} ({k.image_set})" for k in JobKind)
        )


def check_request(request: InferenceRequest) -> JobKind:
    """Refuse values the schema would refuse too, for callers that bypass Snakemake; return the
    request's job kind."""
    if request.device not in DEVICES:
        raise UserError(f"device {request.device!r} is not one of {', '.join(DEVICES)}.")
    for key, value, minimum in (
        ("batch_size", request.batch_size, 1),
        ("threads", request.threads, 1),
        ("warmup_batches", request.warmup_batches, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UserError(f"{key} must be an integer >= {minimum}, not {value!r}.")
    kind = request.kind
    if kind is JobKind.TRAINING_FEATURES and request.limit is not None:
        raise ValueError("a training-features job takes every image of the training set")
    limit = request.limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UserError(f"limit must be a positive integer or null (all images), not {limit!r}.")
    return kind
