"""The model families and the one place that tells a model's family from its name.

A config name goes to the family whose prefix starts it (in any case), else to torchvision, whose
own checks then name what is wrong with it. A slug (results folder name) goes to the family whose
slug prefix starts it, else to torchvision if it is a plain identifier; any other is refused.
The Snakemake rules constrain their model wildcard with the patterns here.
"""

import re

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.clip.family import CLIP
from cifar_zeroshot.models.family import ModelFamily, OutputKind
from cifar_zeroshot.models.timm.family import TIMM
from cifar_zeroshot.models.torchvision.family import TORCHVISION
from cifar_zeroshot.models.weights_file import SLUG_SUFFIX_PATTERN

__all__ = [
    "CLIP",
    "EMBEDDINGS_SLUG_PATTERN",
    "EXPORT_SLUG_PATTERN",
    "FAMILIES",
    "LOGITS_SLUG_PATTERN",
    "MODEL_SLUG_PATTERN",
    "TIMM",
    "TORCHVISION",
    "family_of_collection",
    "family_of_config_name",
    "family_of_slug",
    "slug_pattern",
]

FAMILIES: tuple[ModelFamily, ...] = (TORCHVISION, TIMM, CLIP)
# The families a name is tested against by its prefix; the unprefixed one is the fallback.
_PREFIXED = tuple(family for family in FAMILIES if family.config_prefix)
# A torchvision name, with a user's weights file's suffix where it has one.
# fnmatch's wildcards: a timm name holding one names a collection.
_WILDCARDS = re.compile(r"[*?\[]")
_PLAIN_NAME = re.compile(rf"[A-Za-z0-9_]+(?:{SLUG_SUFFIX_PATTERN})?")


def family_of_config_name(name: str) -> ModelFamily:
    """The family of a model as the config names it ('timm:resnet50.a1_in1k', 'resnet50')."""
    lowered = name.lower() if isinstance(name, str) else ""
    for family in _PREFIXED:
        if lowered.startswith(family.config_prefix):
            return family
    return TORCHVISION


def family_of_collection(text: object) -> ModelFamily | None:
    """The family whose models a `models:` name collects ('torchvision:all', 'timm:resnet*');
    None for a single model's name."""
    lowered = text.strip().lower() if isinstance(text, str) else ""
    for family in FAMILIES:
        source = family.collection
        if (
            source is not None
            and lowered.startswith(source.prefix)
            and (not source.needs_wildcard or _WILDCARDS.search(lowered))
        ):
            return family
    return None


def family_of_slug(slug: str) -> ModelFamily:
    """The family of a results folder name ('timm-resnet50.a1_in1k', 'resnet50')."""
    for family in _PREFIXED:
        if isinstance(slug, str) and slug.startswith(family.slug_prefix):
            return family
    if isinstance(slug, str) and _PLAIN_NAME.fullmatch(slug):
        return TORCHVISION
    prefixes = " or ".join(family.slug_prefix for family in _PREFIXED)
    raise UserError(
        f"{slug!r} is the folder name of no model family: expected a torchvision model name "
        f"(letters, digits and '_') or a name starting with {prefixes}. Rename the folder or "
        "rerun the workflow."
    )


def slug_pattern(families: tuple[ModelFamily, ...] | list[ModelFamily]) -> str:
    """A regex (Snakemake wildcard constraint) matching exactly the slugs of ``families``."""
    return "|".join(family.slug_pattern for family in families)


def _of_kind(kind: OutputKind) -> str:
    return slug_pattern([family for family in FAMILIES if family.output_kind == kind])


MODEL_SLUG_PATTERN = slug_pattern(FAMILIES)
# The models whose runs write logits (rule inference), and image embeddings (clip_inference).
LOGITS_SLUG_PATTERN = _of_kind("logits")
EMBEDDINGS_SLUG_PATTERN = _of_kind("embeddings")
# The models an ONNX Runtime variant runs from an export (rule export_onnx).
EXPORT_SLUG_PATTERN = slug_pattern([family for family in FAMILIES if family.exports_onnx])
