"""How timm models are named in the config and in results folders (without importing timm).

`timm:<architecture>.<tag>` in the config; `timm-<architecture>.<tag>` as the folder name (the
slug), as CLIP models are named. timm's pretrained names are lowercase letters, digits and '_'
around one '.' (tests/models/timm/test_timm_names.py checks this against the installed timm), so
a slug never holds ':' or '/', never equals a torchvision name (no '-') and never a CLIP slug.
"""

TIMM_PREFIX = "timm:"
TIMM_SLUG_PREFIX = "timm-"
PART_PATTERN = r"[a-z0-9_]+"
# A Snakemake wildcard constraint: matches exactly the slugs of names.TimmSpec.
TIMM_SLUG_PATTERN = rf"{TIMM_SLUG_PREFIX}{PART_PATTERN}\.{PART_PATTERN}"


def is_timm_slug(model: str) -> bool:
    """Whether a results folder name is a timm model's."""
    return model.startswith(TIMM_SLUG_PREFIX)
