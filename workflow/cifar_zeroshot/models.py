"""Torchvision classifiers by name: checked names, weights choices, and loading with clear errors.

Weights come through torchvision's own weights API, so they land in the torch hub cache
(``torch.hub.get_dir()/checkpoints``) and are read with torch's weights-only loader.
"""

import difflib
import hashlib
import logging
import os
import pickle
import re
from pathlib import Path

import torch
import torchvision
from torchvision.models import WeightsEnum

from cifar_zeroshot.errors import UserError

log = logging.getLogger(__name__)

# A model name becomes a folder under results/: only plain identifiers can never escape it.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
_NONE_WEIGHTS = "none"
UNTRAINED_SEED = 0
_MODEL_LIST_HINT = (
    "See all names with: python -c 'import torchvision; "
    "print(torchvision.models.list_models(module=torchvision.models))'"
)
# torchvision.models.<subpackage> -> what the user is told the model is.
_OTHER_KINDS = {
    "detection": "an object-detection model",
    "segmentation": "a semantic-segmentation model",
    "video": "a video-classification model (it takes clips, not images)",
    "optical_flow": "an optical-flow model",
    "quantization": "a quantized (int8, CPU-only) classification model",
}


def classification_model_names() -> list[str]:
    """The ImageNet classifiers torchvision can build (its top-level models module)."""
    return torchvision.models.list_models(module=torchvision.models)


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a torchvision ImageNet classifier; else a UserError with the fix."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name):
        raise UserError(
            f"Model name {name!r} is not a plain identifier (letters, digits, '_'): it would "
            "escape the results folder. Use a torchvision model name such as 'resnet50'."
        )
    classifiers = classification_model_names()
    if name in classifiers:
        return name
    if name in torchvision.models.list_models():
        module = torchvision.models.get_model_builder(name).__module__
        subpackage = module.split(".")[2] if module.count(".") >= 2 else ""
        kind = _OTHER_KINDS.get(subpackage, "not an ImageNet classifier")
        raise UserError(
            f"Model {name!r} is {kind}, not a classification model: it cannot be scored on "
            f"CIFAR-10 images. Use an ImageNet classification model. {_MODEL_LIST_HINT}"
        )
    close = difflib.get_close_matches(name.lower(), classifiers, n=5, cutoff=0.5)
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    raise UserError(
        f"Unknown model {name!r}: torchvision has no classification model of that name."
        f"{suggestion} {_MODEL_LIST_HINT}"
    )


def resolve_weights(model: str, weights: str) -> WeightsEnum | None:
    """'DEFAULT', a member name ('IMAGENET1K_V1'), 'ResNet50_Weights.IMAGENET1K_V1' or 'none'."""
    check_model_name(model)
    enum = torchvision.models.get_model_weights(model)
    # __members__ also lists the DEFAULT alias; keep it first and once.
    allowed = ["DEFAULT", *(m for m in enum.__members__ if m != "DEFAULT"), _NONE_WEIGHTS]
    text = str(weights).strip()
    if text.lower() == _NONE_WEIGHTS:
        return None
    member = text
    if "." in text:
        prefix, _, member = text.partition(".")
        if prefix != enum.__name__:
            member = ""  # another model's weights: reported below
    if member in enum.__members__:
        return enum[member]
    raise UserError(
        f"Unknown weights {weights!r} for model {model!r}. Use one of: {', '.join(allowed)} "
        f"(or the full name, e.g. '{enum.__name__}.{next(iter(enum)).name}'); 'none' means "
        "untrained."
    )


def weights_label(weights: WeightsEnum | None) -> str:
    """The weights' full name for the run facts, e.g. 'ResNet50_Weights.IMAGENET1K_V2'."""
    if weights is None:
        return _NONE_WEIGHTS
    return f"{type(weights).__name__}.{weights.name}"


def cached_weights_path(weights: WeightsEnum) -> Path:
    """Where torch's hub cache keeps (or will keep) this weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def _warn_if_not_published(path: Path) -> None:
    """torch checks the hash only when it downloads; a file placed by hand is checked here."""
    match = torch.hub.HASH_REGEX.search(path.name)
    if match is None or not match.group(1):
        return
    expected = match.group(1)
    with path.open("rb") as handle:
        actual = hashlib.file_digest(handle, "sha256").hexdigest()
    if not actual.startswith(expected):
        log.warning(
            "%s has SHA-256 %s..., but its published name says %s...: it is not the published "
            "weights; results may differ. Delete it to download the published file again.",
            path,
            actual[: len(expected)],
            expected,
        )


def load_model(name: str, weights: WeightsEnum | None) -> torch.nn.Module:
    """Build the model with its weights (from the hub cache, downloading once), in eval mode.

    ``weights`` None gives an untrained model, initialised from a fixed seed.
    """
    check_model_name(name)
    if weights is None:
        # Untrained: the same random initialisation every time, so 'none' runs are repeatable
        # and comparable across variants. fork_rng leaves the caller's random state alone.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(UNTRAINED_SEED)
            return torchvision.models.get_model(name, weights=None).eval()
    cached = cached_weights_path(weights)
    if cached.exists():
        _warn_if_not_published(cached)
    try:
        model = torchvision.models.get_model(name, weights=weights)
    except (OSError, RuntimeError, pickle.UnpicklingError, EOFError) as error:
        if cached.exists():
            raise UserError(
                f"Could not load the weights file {cached} for {name} ({error}). It is "
                f"damaged or not {weights_label(weights)}: delete it to download it again, or "
                f"replace it with the file from {weights.url}."
            ) from error
        raise UserError(
            f"Could not download the weights of {name} ({weights_label(weights)}) from "
            f"{weights.url} ({error}). Without network access, download that file elsewhere and "
            f"place it at {cached} (the torch hub cache; set TORCH_HOME to move it), then rerun."
        ) from error
    return model.eval()
