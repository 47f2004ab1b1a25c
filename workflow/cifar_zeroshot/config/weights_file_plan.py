"""A models entry with the user's weights file, checked at planning: the architecture's name,
the file (present, readable as tensors only) and that it fits the architecture strictly.

`{name: squeezenet1_0, weights_file: my.safetensors}` or `{name: timm:resnet18.a1_in1k,
weights_file: my.pt}`, optionally with `preprocess_from` (torchvision weights or a timm tag of
the same architecture; default: the architecture's default weights' preprocessing). CLIP models
take no weights file. The fit is checked here on the meta device (a safetensors file's header,
a state dict's shapes), so a mismatch is refused before any job runs.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.file_digests import file_sha256
from cifar_zeroshot.models.family import ParsedName
from cifar_zeroshot.models.family_registry import TIMM, TORCHVISION, family_of_config_name
from cifar_zeroshot.models.timm.names import TimmSpec, check_timm_spec, parse_timm_name
from cifar_zeroshot.models.torchvision.catalog import check_model_name, weights_member
from cifar_zeroshot.models.weights_file import WeightsFile, check_fits

if TYPE_CHECKING:  # torch is imported only where an entry names a weights file
    import torch

# (config name, preprocess_from) -> its parsed name, its architecture's label in messages and
# a builder of the untrained architecture; the families that read weights files.
Architecture = tuple[ParsedName, str, Callable[[], "torch.nn.Module"]]


def _torchvision(name: str, preprocess_from: str) -> Architecture:
    check_model_name(name)
    if weights_member(name, preprocess_from or "DEFAULT") is None:
        raise UserError(
            f"{name}: preprocess_from 'none' names no weights to take the preprocessing from. "
            "Fix: name weights of the architecture (e.g. DEFAULT), or leave preprocess_from out."
        )

    def build() -> "torch.nn.Module":
        import torchvision

        return torchvision.models.get_model(name, weights=None)

    return ParsedName(name, ""), f"torchvision {name}", build


def _timm(name: str, preprocess_from: str) -> Architecture:
    assert TIMM.parse is not None
    parsed = TIMM.parse(name, "none")
    spec = parse_timm_name(name)
    assert spec is not None  # the registry hands it timm names only
    if preprocess_from:
        check_timm_spec(TimmSpec(spec.architecture, preprocess_from), "none", logits=False)

    def build() -> "torch.nn.Module":
        from cifar_zeroshot.models.timm.weights import build_untrained

        return build_untrained(spec)

    return parsed, f"timm {spec.name}", build


_ARCHITECTURES: dict[str, Callable[[str, str], Architecture]] = {
    TORCHVISION.name: _torchvision,
    TIMM.name: _timm,
}


def parse_file_model(entry: Mapping[str, Any]) -> tuple[ParsedName, WeightsFile]:
    """The slug, config name and checked weights file of a models entry with ``weights_file``."""
    name = entry["name"]
    family = family_of_config_name(name)
    architecture = _ARCHITECTURES.get(family.name)
    if architecture is None:
        raise UserError(
            f"{name}: weights_file is read for torchvision and timm architectures only, not for "
            f"{family.name} models. Fix: remove weights_file, or name a torchvision or timm "
            "architecture."
        )
    if "weights" in entry:
        raise UserError(
            f"{name}: the entry names both weights ({entry['weights']!r}) and weights_file; the "
            "file's tensors are the weights. Fix: remove one of them."
        )
    preprocess_from = str(entry.get("preprocess_from", ""))
    parsed, label, build = architecture(name, preprocess_from)
    path = Path(entry["weights_file"])
    if not path.is_file():
        raise UserError(
            f"{name}: weights_file {path} is not an existing file (relative paths start at "
            f"{Path.cwd()}). Fix: point it at a .safetensors file or a saved state dict."
        )
    check_fits(path, label, build)
    title = str(entry.get("title", ""))
    weights_file = WeightsFile(str(path), file_sha256(path), preprocess_from, title)
    return ParsedName(weights_file.slug(parsed.slug), parsed.config_name, parsed.probe_only), (
        weights_file
    )
