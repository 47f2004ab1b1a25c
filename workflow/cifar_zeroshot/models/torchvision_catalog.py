"""torchvision model and weights names, checked without importing torch on every snakemake start.

Planning checks every model and weights name, and the metrics rule records each run's resolved
weights ("DEFAULT" -> "ResNet50_Weights.IMAGENET1K_V2"). Importing torchvision for that costs
3-5 s on each snakemake start, dry runs included. So torchvision's classifier names and weights
enums are read once per installed torchvision version into a small JSON catalog (in
``$CIFAR_ZEROSHOT_CACHE``, by default ``~/.cache/cifar-zeroshot``) and read from there after.
Where the cache cannot be written, the catalog is built afresh each time.
"""

import difflib
import importlib.metadata
import json
import logging
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cifar_zeroshot.core.atomic import atomic_path
from cifar_zeroshot.core.errors import UserError

log = logging.getLogger(__name__)

# A model name becomes a folder under results/: only plain identifiers can never escape it.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
NONE_WEIGHTS = "none"
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


@dataclass(frozen=True)
class Catalog:
    torchvision: str  # the version it was read from
    classifiers: list[str]
    others: dict[str, str]  # every other model -> its torchvision.models subpackage
    # classifier -> [weights enum name, [member names], the member DEFAULT stands for]
    weights: dict[str, tuple[str, list[str], str]]


def _build(version: str) -> Catalog:
    import torchvision  # the seconds this module exists to spend once

    classifiers = sorted(torchvision.models.list_models(module=torchvision.models))
    others = {}
    for name in torchvision.models.list_models():
        if name not in classifiers:
            module = torchvision.models.get_model_builder(name).__module__
            others[name] = module.split(".")[2] if module.count(".") >= 2 else ""
    weights = {}
    for name in classifiers:
        enum = torchvision.models.get_model_weights(name)
        members = [member for member in enum.__members__ if member != "DEFAULT"]
        weights[name] = (enum.__name__, members, enum.DEFAULT.name)
    return Catalog(version, classifiers, others, weights)


def _cache_file(version: str) -> Path:
    root = os.environ.get("CIFAR_ZEROSHOT_CACHE") or Path.home() / ".cache" / "cifar-zeroshot"
    return Path(root) / f"torchvision-{version}-models.json"


def _read(path: Path, version: str) -> Catalog | None:
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        catalog = Catalog(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if catalog.torchvision != version:
        return None
    weights = {
        name: (enum, list(members), default)
        for name, (enum, members, default) in catalog.weights.items()
    }
    return Catalog(catalog.torchvision, list(catalog.classifiers), dict(catalog.others), weights)


_loaded: Catalog | None = None


def catalog() -> Catalog:
    """torchvision's model names and weights, from the cache (or read from torchvision once)."""
    global _loaded
    version = importlib.metadata.version("torchvision")
    if _loaded is not None and _loaded.torchvision == version:
        return _loaded
    path = _cache_file(version)
    found = _read(path, version)
    if found is None:
        found = _build(version)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as temp:
                temp.write_text(json.dumps(asdict(found)), encoding="utf-8")
        except OSError as error:
            log.info("could not cache torchvision's model names in %s (%s)", path, error)
    _loaded = found
    return found


def classification_model_names() -> list[str]:
    """The ImageNet classifiers torchvision can build (its top-level models module)."""
    return list(catalog().classifiers)


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a torchvision ImageNet classifier; else a UserError with the fix."""
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name):
        raise UserError(
            f"Model name {name!r} is not a plain identifier (letters, digits, '_'): it would "
            "escape the results folder. Use a torchvision model name such as 'resnet50'."
        )
    known = catalog()
    if name in known.classifiers:
        return name
    if name in known.others:
        kind = _OTHER_KINDS.get(known.others[name], "not an ImageNet classifier")
        raise UserError(
            f"Model {name!r} is {kind}, not a classification model: it cannot be scored on "
            f"CIFAR-10 images. Use an ImageNet classification model. {_MODEL_LIST_HINT}"
        )
    close = difflib.get_close_matches(name.lower(), known.classifiers, n=5, cutoff=0.5)
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    raise UserError(
        f"Unknown model {name!r}: torchvision has no classification model of that name."
        f"{suggestion} {_MODEL_LIST_HINT}"
    )


def weights_member(model: str, weights: str) -> str | None:
    """The weights enum member 'DEFAULT', 'IMAGENET1K_V1', 'ResNet50_Weights.IMAGENET1K_V1' or
    'none' stands for (None: untrained); checks the model name too."""
    check_model_name(model)
    enum_name, members, default = catalog().weights[model]
    text = str(weights).strip()
    if text.lower() == NONE_WEIGHTS:
        return None
    member = text
    if "." in text:
        prefix, _, member = text.partition(".")
        if prefix != enum_name:
            member = ""  # another model's weights: reported below
    if member == "DEFAULT":
        return default
    if member in members:
        return member
    allowed = ["DEFAULT", *members, NONE_WEIGHTS]
    raise UserError(
        f"Unknown weights {weights!r} for model {model!r}. Use one of: {', '.join(allowed)} "
        f"(or the full name, e.g. '{enum_name}.{members[0]}'); 'none' means untrained."
    )


def resolved_weights_label(model: str, weights: str) -> str:
    """The weights' full name as run facts record it, e.g. 'ResNet50_Weights.IMAGENET1K_V2'."""
    member = weights_member(model, weights)
    return NONE_WEIGHTS if member is None else f"{catalog().weights[model][0]}.{member}"
