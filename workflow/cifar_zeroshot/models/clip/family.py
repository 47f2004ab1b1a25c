"""CLIP models as a model family: `clip:<architecture>/<tag>`, slug `clip-<architecture>.<tag>`.

Their image tower writes embeddings, scored by prompt similarity (no linear probe, by design:
docs/clip.md); they run on torch with their weights' own preprocessing only, never exported.
"""

from cifar_zeroshot.models.clip.names import (
    CLIP_PREFIX,
    CLIP_SLUG_PATTERN,
    ClipSpec,
    check_clip_spec,
    clip_weights_label,
    parse_clip_name,
    spec_from_slug,
)
from cifar_zeroshot.models.family import ModelFamily, ParsedName


def _parse(name: str, weights: str) -> ParsedName:
    spec = parse_clip_name(name)
    assert spec is not None  # the registry hands it CLIP names only
    check_clip_spec(spec, weights)
    return ParsedName(spec.slug, spec.config_name)


CLIP = ModelFamily(
    name="clip",
    config_prefix=CLIP_PREFIX,
    slug_prefix=ClipSpec.SLUG_PREFIX,
    slug_pattern=CLIP_SLUG_PATTERN,
    output_kind="embeddings",
    exports_onnx=False,
    only_runtime="torch",
    only_preprocess="weights",
    features="none",
    parse=_parse,
    weights_label=lambda slug, weights: clip_weights_label(spec_from_slug(slug), weights),
    export_weights=None,
)
