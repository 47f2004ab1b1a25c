"""How CLIP models are named in the config and in results folders (without importing open_clip).

`clip:<architecture>/<tag>` in the config; `clip-<architecture>.<tag>` as the folder name (the
slug). names.py checks the names against open_clip; planning only needs these patterns,
and importing open_clip (and torch) costs seconds on every snakemake start.
"""

CLIP_PREFIX = "clip:"
CLIP_SLUG_PREFIX = "clip-"
ARCHITECTURE_PATTERN = r"[A-Za-z0-9_-]+"
TAG_PATTERN = r"[A-Za-z0-9_]+"
# A Snakemake wildcard constraint: matches exactly the slugs of names.ClipSpec.
CLIP_SLUG_PATTERN = rf"{CLIP_SLUG_PREFIX}{ARCHITECTURE_PATTERN}\.{TAG_PATTERN}"


def is_clip_slug(model: str) -> bool:
    """Whether a results folder name is a CLIP model's (torchvision names have no '-')."""
    return model.startswith(CLIP_SLUG_PREFIX)
