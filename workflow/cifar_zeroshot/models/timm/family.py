"""timm's classifiers as a model family: `timm:<model name>.<tag>`, slug `timm-<name>.<tag>`."""

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.models.family import CollectionSource, ModelFamily, ParsedName
from cifar_zeroshot.models.timm.names import (
    LIST_COMMAND,
    TIMM_PREFIX,
    TIMM_SLUG_PATTERN,
    TimmSpec,
    check_timm_spec,
    imagenet1k_head,
    parse_timm_name,
    scorable_names,
    spec_from_slug,
    timm_weights_label,
    untrained_weights,
)
from cifar_zeroshot.models.timm.published import table_unavailable, timm_published
from cifar_zeroshot.models.weights_file import SLUG_SUFFIX_PATTERN, with_file_weights


def _parse(name: str, weights: str) -> ParsedName:
    spec = parse_timm_name(name)
    assert spec is not None  # the registry hands it timm names only
    # Its head is checked against the linear probe's setting (planning.plan_workflow).
    check_timm_spec(spec, weights, logits=False)
    return ParsedName(spec.slug, spec.config_name, probe_only=not imagenet1k_head(spec))


def _export_weights(slug: str, weights: str) -> str:
    """The tag (or 'none'): 'DEFAULT' and the tag itself name the same weights."""
    spec = spec_from_slug(slug)
    return NONE_WEIGHTS if untrained_weights(spec, weights) else spec.tag


TIMM = ModelFamily(
    name="timm",
    config_prefix=TIMM_PREFIX,
    slug_prefix=TimmSpec.SLUG_PREFIX,
    # A user's weights file adds its suffix (models.weights_file).
    slug_pattern=rf"(?:{TIMM_SLUG_PATTERN})(?:{SLUG_SUFFIX_PATTERN})?",
    output_kind="logits",
    exports_onnx=True,
    only_runtime=None,
    only_preprocess=None,
    features="every",  # timm's pre-logits path (models.timm.classifier)
    parse=_parse,
    weights_label=with_file_weights(
        lambda slug, weights: timm_weights_label(spec_from_slug(slug), weights)
    ),
    export_weights=with_file_weights(_export_weights),
    # 'timm:<pattern>' (with a wildcard): its pretrained names that match.
    collection=CollectionSource(
        prefix=TIMM_PREFIX,
        needs_wildcard=True,
        names=scorable_names,
        listing_hint=LIST_COMMAND,
        params_unknown=table_unavailable,
    ),
    published=timm_published,
)
