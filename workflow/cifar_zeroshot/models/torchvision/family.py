"""torchvision's classifiers as a model family: named plainly ('resnet50', or
'resnet50:IMAGENET1K_V1' with its weights), their name is their results folder (with a user's
weights file, that file's suffix after it)."""

from cifar_zeroshot.models.family import CollectionSource, ModelFamily
from cifar_zeroshot.models.torchvision.catalog import (
    MODEL_LIST_COMMAND,
    imagenet_classifiers,
    resolved_weights_label,
    torchvision_published,
)
from cifar_zeroshot.models.weights_file import SLUG_SUFFIX_PATTERN, with_file_weights

TORCHVISION = ModelFamily(
    name="torchvision",
    config_prefix="",
    slug_prefix="",
    # A user's weights file adds its suffix (models.weights_file).
    slug_pattern=rf"[a-z0-9_]+(?:{SLUG_SUFFIX_PATTERN})?",
    output_kind="logits",
    exports_onnx=True,
    only_runtime=None,
    only_preprocess=None,
    features="measured",
    parse=None,
    weights_label=with_file_weights(resolved_weights_label),
    export_weights=with_file_weights(resolved_weights_label),
    # 'torchvision:all' or 'torchvision:<pattern>': its classifiers with DEFAULT weights.
    collection=CollectionSource(
        prefix="torchvision:",
        needs_wildcard=False,
        names=imagenet_classifiers,
        listing_hint=MODEL_LIST_COMMAND,
        params_unknown=lambda: None,  # every weights enum publishes them
    ),
    published=torchvision_published,
)
