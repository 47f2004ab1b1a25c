"""Torchvision classifiers by name: weights, and loading with clear errors.

Names are checked by torchvision_catalog.py (without importing torch); this module loads.

Weights come through torchvision's own weights API, so they land in the torch hub cache
(``torch.hub.get_dir()/checkpoints``) and are read with torch's weights-only loader.
"""

import hashlib
import logging
import os
import pickle
from pathlib import Path

import torch
import torchvision
from torchvision.models import WeightsEnum

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.torchvision_catalog import NONE_WEIGHTS, check_model_name, weights_member

log = logging.getLogger(__name__)

UNTRAINED_SEED = 0


def resolve_weights(model: str, weights: str) -> WeightsEnum | None:
    """'DEFAULT', a member name ('IMAGENET1K_V1'), 'ResNet50_Weights.IMAGENET1K_V1' or 'none'."""
    member = weights_member(model, weights)  # checks both names, with the fix
    return None if member is None else torchvision.models.get_model_weights(model)[member]


def weights_label(weights: WeightsEnum | None) -> str:
    """The weights' full name for the run facts, e.g. 'ResNet50_Weights.IMAGENET1K_V2'."""
    if weights is None:
        return NONE_WEIGHTS
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
