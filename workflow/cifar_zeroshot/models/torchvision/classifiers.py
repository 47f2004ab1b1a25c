"""Torchvision classifiers by name: weights, and loading with clear errors.

Names are checked by catalog.py (without importing torch); this module loads.

Weights come from torch's hub cache (``torch.hub.get_dir()/checkpoints``), downloaded there once
with their hash checked. Anyone who can write to that folder could put a pickle there that runs
code when unpickled, so a file there is read only with torch's weights-only loader, and only if
its SHA-256 starts with the hash in its published name (torch checks that only when it
downloads). torchvision's builders would read the file themselves without the weights-only
loader, so they are handed the state dict read here.
"""

import contextlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torchvision
from torchvision.models import WeightsEnum

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.models.load_failures import load_failure
from cifar_zeroshot.models.torchvision.catalog import check_model_name, weights_member

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


def _published_hash(weights: WeightsEnum) -> str:
    """The SHA-256 prefix in the weights' published file name ('alexnet-owt-7be5be79.pth')."""
    match = torch.hub.HASH_REGEX.search(os.path.basename(weights.url))
    return match.group(1) if match is not None else ""


def _refuse_unless_published(path: Path, name: str, weights: WeightsEnum) -> None:
    """A file whose hash is not its name's is refused before torch reads a byte of it."""
    expected = _published_hash(weights)
    if not expected:
        return
    actual = file_sha256(path)
    if not actual.startswith(expected):
        raise UserError(
            f"The weights file {path} for {name} has SHA-256 {actual[: len(expected)]}..., but its "
            f"published name says {expected}...: it is damaged or not {weights_label(weights)}, "
            "so it is not loaded: delete it to download it again, or replace it with the file "
            f"from {weights.url}."
        )


def _read_state_dict(name: str, weights: WeightsEnum) -> dict[str, Any]:
    """The published weights, from the hub cache (downloaded once), read as tensors only."""
    cached = cached_weights_path(weights)
    if cached.exists():
        _refuse_unless_published(cached, name, weights)
    return torch.hub.load_state_dict_from_url(
        weights.url, map_location="cpu", check_hash=True, weights_only=True
    )


def _load_failed(name: str, weights: WeightsEnum, error: BaseException) -> UserError:
    cached = cached_weights_path(weights)
    if cached.exists():
        return UserError(
            f"Could not load the weights file {cached} for {name} ({load_failure(error)}). It "
            f"is damaged or not {weights_label(weights)}: delete it to download it again, or "
            f"replace it with the file from {weights.url}."
        )
    return UserError(
        f"Could not download the weights of {name} ({weights_label(weights)}) from "
        f"{weights.url} ({load_failure(error)}). Without network access, download that file "
        f"elsewhere and place it at {cached} (the torch hub cache; set TORCH_HOME to move it), "
        "then rerun."
    )


@contextlib.contextmanager
def _serving(weights: WeightsEnum, state: dict[str, Any]) -> Iterator[list[str]]:
    """While building, ``weights.get_state_dict`` hands the builder ``state``, not the file.

    Every torchvision builder reads its weights through that method, which unpickles the file
    without the weights-only loader. Yields a list with an entry per call: empty afterwards, the
    builder read its weights some other way.
    """
    asked: list[str] = []

    def get_state_dict(*args: object, **kwargs: object) -> dict[str, Any]:
        asked.append(weights.name)
        return state

    # On the member, not its class: an instance attribute wins over the method, for this one.
    weights.get_state_dict = get_state_dict  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        del weights.get_state_dict


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
    try:
        with _serving(weights, _read_state_dict(name, weights)) as asked:
            model = torchvision.models.get_model(name, weights=weights)
    except (OSError, RuntimeError, pickle.UnpicklingError, EOFError) as error:
        raise _load_failed(name, weights, error) from error
    if not asked:
        raise RuntimeError(
            f"torchvision built {name} without asking get_state_dict for its weights, so they "
            "were not read through the weights-only loader: this torchvision is not supported"
        )
    return model.eval()
