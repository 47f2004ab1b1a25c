"""A model's architecture family, read from its name: the leaderboard's ``family`` column and
the figures' colours of many runs (report/model_families.py) are this one reading.

The family comes from the name alone: the family registry's prefix (``timm-``, ``clip-``, or the
config's ``timm:``) is dropped, a CLIP model is ``clip``, and otherwise the family is the leading
letters of the architecture's first word, without a version suffix (``convnextv2_tiny`` ->
``convnext``, ``vgg16_bn`` -> ``vgg``).
"""

import re

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family_registry import family_of_config_name, family_of_slug

CLIP = "clip"
# Leading letters, stopping before a version ("v2"), a number or an underscore.
_STEM = re.compile(r"[a-z]+?(?=v?\d|_|$)")
# Stems that name a variant of a family rather than a family of their own.
_ALIASES: dict[str, str] = {
    "regnetx": "regnet",
    "regnety": "regnet",
    "regnetz": "regnet",
    "wide": "wide_resnet",
    "googlenet": "inception",
}


def _without_prefix(name: str) -> tuple[str, str]:
    """(the model family's registry name or "", the name without its prefix), the family as the
    registry reads a config name ('timm:...') or a results folder name ('timm-...')."""
    config_name = ":" in name
    try:
        family = family_of_config_name(name) if config_name else family_of_slug(name)
    except UserError:  # no family's folder name (a user's label): its letters as they are
        return "", name.lower()
    prefix = family.config_prefix if config_name else family.slug_prefix
    return family.name, name[len(prefix) :].lower()


def architecture_family(model: str) -> str:
    """The architecture family of a model name: ``resnet50``, ``timm-resnet50.a1_in1k`` and
    ``timm:resnet50.a1_in1k`` -> ``resnet``; ``vgg16_bn`` -> ``vgg``; ``efficientnet_b0`` ->
    ``efficientnet``; any CLIP model -> ``clip``. A name with no leading letters is its own
    family."""
    registry_family, rest = _without_prefix(str(model))
    if registry_family == CLIP or CLIP in rest:
        return CLIP
    # timm's tiny test models (test_vit, test_convnext) belong to the architecture they test.
    architecture = rest.split(".", 1)[0].removeprefix("test_")
    match = _STEM.match(architecture)
    stem = match.group(0) if match else architecture
    return _ALIASES.get(stem, stem) or architecture
