"""torchvision model and weights names, checked without importing torch on every snakemake start.

Planning checks every model and weights name, and the metrics rule records each run's resolved
weights ("DEFAULT" -> "ResNet50_Weights.IMAGENET1K_V2"). Importing torchvision for that costs
3-5 s on each snakemake start, dry runs included. So torchvision's classifier names and weights
enums are read once per installed torchvision version into a small JSON catalog (in
``$CIFAR_ZEROSHOT_CACHE``, by default ``~/.cache/cifar-zeroshot``) and read from there after.
Where the cache cannot be written, the catalog is built afresh each time. A cache that does not
hold all that planning reads (unreadable, of another shape or version, lacking a weights entry) is
rebuilt, and a name missing from it is looked up in torchvision before it is called unknown.
"""

import difflib
import logging
import re
from dataclasses import asdict, dataclass, fields

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.core.json_cache import PackageFacts, is_text_list
from cifar_zeroshot.models.family import PublishedFigures

log = logging.getLogger(__name__)

# A model name becomes a folder under results/: only plain identifiers can never escape it.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")

MODEL_LIST_COMMAND = (
    "python -c 'import torchvision; "
    "print(torchvision.models.list_models(module=torchvision.models))'"
)
_MODEL_LIST_HINT = f"See all names with: {MODEL_LIST_COMMAND}"
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
    # classifier -> member -> [published ImageNet-1k top-1 in %, parameters, GFLOPs], as the
    # weights' meta gives them (meta["_metrics"]["ImageNet-1K"]["acc@1"], num_params, _ops).
    published: dict[str, dict[str, tuple[float, int, float]]]


def _build(version: str) -> Catalog:
    import torchvision  # the seconds this module exists to spend once

    classifiers = sorted(torchvision.models.list_models(module=torchvision.models))
    others = {}
    for name in torchvision.models.list_models():
        if name not in classifiers:
            module = torchvision.models.get_model_builder(name).__module__
            others[name] = module.split(".")[2] if module.count(".") >= 2 else ""
    weights, published = {}, {}
    for name in classifiers:
        enum = torchvision.models.get_model_weights(name)
        members = [member for member in enum.__members__ if member != "DEFAULT"]
        weights[name] = (enum.__name__, members, enum.DEFAULT.name)
        published[name] = {
            member: (
                float(enum[member].meta["_metrics"]["ImageNet-1K"]["acc@1"]),
                int(enum[member].meta["num_params"]),
                float(enum[member].meta["_ops"]),
            )
            for member in members
            if "ImageNet-1K" in enum[member].meta.get("_metrics", {})
        }
    return Catalog(version, classifiers, others, weights, published)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_published(
    raw: object, weights: dict[str, tuple[str, list[str], str]]
) -> dict[str, dict[str, tuple[float, int, float]]] | None:
    """Each classifier's published figures per weights member, if ``raw`` holds them all."""
    if not isinstance(raw, dict) or set(raw) != set(weights):
        return None
    parsed = {}
    for name, members in raw.items():
        if not isinstance(members, dict) or not set(members) <= set(weights[name][1]):
            return None
        entries = {}
        for member, entry in members.items():
            if not isinstance(entry, list) or len(entry) != 3 or not all(map(_number, entry)):
                return None
            entries[member] = (float(entry[0]), int(entry[1]), float(entry[2]))
        parsed[name] = entries
    return parsed


def _parse(raw: object, version: str) -> Catalog | None:
    """The catalog ``raw`` holds if it has all that planning reads, for ``version``; else None."""
    if not isinstance(raw, dict) or set(raw) != {field.name for field in fields(Catalog)}:
        return None
    classifiers, others, weights = raw["classifiers"], raw["others"], raw["weights"]
    if raw["torchvision"] != version or not is_text_list(classifiers):
        return None
    if not isinstance(others, dict) or not is_text_list([*others, *others.values()]):
        return None
    if not isinstance(weights, dict) or set(weights) != set(classifiers):
        return None
    parsed = {}
    for name in classifiers:
        entry = weights[name]
        if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str):
            return None
        enum, members, default = entry
        if not is_text_list(members) or default not in members:
            return None
        parsed[name] = (enum, list(members), default)
    published = _parse_published(raw["published"], parsed)
    if published is None:
        return None
    return Catalog(version, list(classifiers), dict(others), parsed, published)


CATALOG = PackageFacts("torchvision", "torchvision-{version}-models.json", _build, _parse, asdict)


def catalog(*, fresh: bool = False) -> Catalog:
    """torchvision's model names and weights, from the cache (or read from torchvision once).

    ``fresh``: read from torchvision itself (once per process), and the cache rewritten.
    """
    return CATALOG.get(fresh=fresh)


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
    if name not in known.classifiers:
        # The cache may be stale or edited: only torchvision itself can say it lacks the name.
        known = catalog(fresh=True)
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


def torchvision_published(model: str, weights: str) -> PublishedFigures:
    """The ImageNet-1k top-1 (a fraction; None for untrained weights) and parameters (millions)
    torchvision publishes for the model and the weights ``weights`` stands for."""
    member = weights_member(model, weights)
    figures = catalog().published[model]
    top1 = None if member is None or member not in figures else figures[member][0] / 100
    default = figures.get(catalog().weights[model][2])
    return PublishedFigures(top1, None if default is None else default[1] / 1e6)


def imagenet_classifiers() -> tuple[list[str], dict[str, str]]:
    """The classifiers a collection lists (those with ImageNet-1k figures for their DEFAULT
    weights: every one), and none it leaves out."""
    known = catalog()
    names = [name for name in known.classifiers if known.weights[name][2] in known.published[name]]
    return names, {}


def resolved_weights_label(model: str, weights: str) -> str:
    """The weights' full name as run facts record it, e.g. 'ResNet50_Weights.IMAGENET1K_V2'."""
    member = weights_member(model, weights)
    return NONE_WEIGHTS if member is None else f"{catalog().weights[model][0]}.{member}"
