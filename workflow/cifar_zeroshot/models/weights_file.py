"""Weights from the user's own file for a torchvision or timm architecture, loaded strictly.

A config entry `{name: squeezenet1_0, weights_file: my.safetensors}` runs the architecture with
the file's tensors. The file is a safetensors file (tensors only) or a PyTorch state dict read
with torch's weights-only loader (a file that needs a full unpickle is refused: it could run
code). A state dict wrapped as {"state_dict": ...} or {"model": ...} is unwrapped. The file must
fit the architecture exactly (``load_state_dict(strict=True)``): planning compares its keys and
shapes with the architecture built on the meta device, and the job loads strictly again.

The file's SHA-256 names the run: its weights setting and label are ``file-sha256:<digest>``
(what the run facts record), and its results folder (slug) is the architecture's with
``.file-<first 8 hex digits>`` after it, which no published weights' folder has. torch,
safetensors and the builders are imported only when a file is read.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.models.load_failures import WEIGHTS_FILE_ERRORS, load_failure

if TYPE_CHECKING:
    import torch

# The weights setting (and label) of a file's weights: this prefix and the file's SHA-256.
FILE_WEIGHTS_PREFIX = "file-sha256:"
# What a file's slug has after the architecture's: a Snakemake wildcard constraint's part.
SLUG_SUFFIX_PATTERN = r"\.file-[0-9a-f]{8}"
_SLUG_SUFFIX = re.compile(rf"(.*){SLUG_SUFFIX_PATTERN}")
_SETTING = re.compile(rf"{re.escape(FILE_WEIGHTS_PREFIX)}([0-9a-f]{{64}})")
# The keys a checkpoint may wrap its state dict in (training scripts' usual layouts).
WRAPPER_KEYS = ("state_dict", "model")
_SAFETENSORS_SUFFIX = ".safetensors"
_LISTED = 5  # keys named per kind of mismatch

Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class WeightsFile:
    """A user's weights file as planning checked it."""

    path: str
    sha256: str
    # The torchvision weights (member name) or timm tag whose preprocessing the runs take; ''
    # for the architecture's default.
    preprocess_from: str = ""
    # How figures and tables name the weights (the entry's title; '': the file's name).
    title: str = ""

    @property
    def setting(self) -> str:
        """The weights as the plan, the rules and the run facts name them."""
        return file_weights_setting(self.sha256)

    def slug(self, architecture_slug: str) -> str:
        return f"{architecture_slug}.file-{self.sha256[:8]}"

    def to_params(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256, "preprocess_from": self.preprocess_from}

    @classmethod
    def from_params(cls, raw: Mapping[str, str] | None) -> "WeightsFile | None":
        """The file a job's param (``to_params``) names; None for published weights."""
        return None if raw is None else cls(**raw)


def file_weights_setting(sha256: str) -> str:
    return f"{FILE_WEIGHTS_PREFIX}{sha256}"


def setting_sha256(weights: str) -> str | None:
    """The digest a weights setting names: a file's SHA-256; None for published weights."""
    match = _SETTING.fullmatch(weights) if isinstance(weights, str) else None
    return match.group(1) if match else None


def architecture_slug(slug: str) -> str:
    """The slug without its weights file's suffix ('alexnet.file-1a2b3c4d' -> 'alexnet')."""
    match = _SLUG_SUFFIX.fullmatch(slug)
    return match.group(1) if match else slug


def with_file_weights(label: Callable[[str, str], str]) -> Callable[[str, str], str]:
    """A family's (slug, weights) -> label, where a file's setting is its own label."""

    def labelled(slug: str, weights: str) -> str:
        return weights if setting_sha256(weights) else label(slug, weights)

    return labelled


def _unwrap(loaded: object, path: Path) -> Mapping[str, Any]:
    if isinstance(loaded, Mapping):
        for key in WRAPPER_KEYS:
            inner = loaded.get(key)
            if isinstance(inner, Mapping):  # a state dict's values are tensors, never mappings
                return inner
        return loaded
    raise UserError(
        f"The weights file {path} holds a {type(loaded).__name__}, not a state dict (a mapping "
        "of parameter names to tensors). Fix: save model.state_dict(), not the model."
    )


def _refuse_unreadable(path: Path, error: BaseException) -> UserError:
    return UserError(
        f"Could not read the weights file {path} ({load_failure(error)}). It must be a "
        "safetensors file or a PyTorch state dict of tensors (torch.save(model.state_dict(), "
        "path)); a pickled model or other objects are not read, as unpickling can run code. "
        "Fix: save the state dict alone, e.g. with safetensors.torch.save_file."
    )


def read_state_dict(path: str | Path, *, meta: bool = False) -> dict[str, "torch.Tensor"]:
    """The file's tensors by name. ``meta``: only their shapes matter (no data is read where
    the format allows)."""
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    try:
        if path.suffix == _SAFETENSORS_SUFFIX:
            if meta:
                return {k: torch.empty(s, device="meta") for k, s in _safetensors_shapes(path)}
            return load_file(path, device="cpu")
        loaded = torch.load(path, map_location="meta" if meta else "cpu", weights_only=True)
    except WEIGHTS_FILE_ERRORS as error:
        raise _refuse_unreadable(path, error) from error
    state = _unwrap(loaded, path)
    wrong = [str(k) for k, v in state.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if wrong:
        wrappers = " or ".join(repr(key) for key in WRAPPER_KEYS)
        raise UserError(
            f"The weights file {path} holds entries that are not tensors "
            f"({', '.join(wrong[:_LISTED])}): it is not a state dict. Fix: save "
            f"model.state_dict() alone (a {{{wrappers}: state dict}} wrapper is unwrapped)."
        )
    return dict(state)


def _safetensors_shapes(path: Path) -> list[tuple[str, tuple[int, ...]]]:
    """Names and shapes from the file's header alone."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return [(key, tuple(handle.get_slice(key).get_shape())) for key in handle.keys()]  # noqa: SIM118


def shapes_of(state: Mapping[str, "torch.Tensor"]) -> Shapes:
    return {key: tuple(value.shape) for key, value in state.items()}


def mismatch_message(path: str | Path, architecture: str, expected: Shapes, found: Shapes) -> str:
    """One message for every way ``found`` (the file) misses ``expected`` (the architecture);
    '' when they match."""
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    shapes = [
        f"{key} {list(found[key])} (expected {list(expected[key])})"
        for key in expected
        if key in found and found[key] != expected[key]
    ]
    parts = [
        f"{len(items)} {what} ({', '.join(items[:_LISTED])}"
        f"{f' and {len(items) - _LISTED} more' if len(items) > _LISTED else ''})"
        for what, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", shapes),
        )
        if items
    ]
    if not parts:
        return ""
    return (
        f"The weights file {path} does not fit architecture {architecture} (loaded strictly): "
        f"{'; '.join(parts)}. The file is for another architecture (or another head): name the "
        "architecture it was saved from, or save the weights of this one."
    )


def check_fits(path: str | Path, architecture: str, build: Callable[[], "torch.nn.Module"]) -> None:
    """Refuse a file whose keys or shapes differ from the architecture's, without loading its
    tensors (``build`` builds the untrained architecture; it runs on the meta device)."""
    import torch

    with torch.device("meta"):
        expected = shapes_of(build().state_dict())
    message = mismatch_message(
        path, architecture, expected, shapes_of(read_state_dict(path, meta=True))
    )
    if message:
        raise UserError(message)


def load_weights_file(
    model: "torch.nn.Module", weights_file: WeightsFile, architecture: str
) -> "torch.nn.Module":
    """``model`` (the untrained architecture) with the file's tensors, loaded strictly. The file
    must still be the one planning digested."""
    path = Path(weights_file.path)
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise UserError(
            f"The weights file {path} of {architecture} cannot be read ({error.strerror}). "
            "Fix: restore it, or change the config's weights_file, then rerun snakemake."
        ) from error
    if actual != weights_file.sha256:
        raise UserError(
            f"The weights file {path} has SHA-256 {actual[:12]}..., but the run was planned for "
            f"{weights_file.sha256[:12]}...: it changed since snakemake started. Rerun "
            "snakemake, which plans the runs of the file as it is now."
        )
    state = read_state_dict(path)
    message = mismatch_message(path, architecture, shapes_of(model.state_dict()), shapes_of(state))
    if message:
        raise UserError(message)
    model.load_state_dict(state, strict=True)
    return model
