"""torchvision's classifiers as a model family: named plainly ('resnet50', or
'resnet50:IMAGENET1K_V1' with its weights), their name is their results folder."""

from cifar_zeroshot.models.family import ModelFamily
from cifar_zeroshot.models.torchvision.catalog import resolved_weights_label

TORCHVISION = ModelFamily(
    name="torchvision",
    config_prefix="",
    slug_prefix="",
    slug_pattern=r"[a-z0-9_]+",
    output_kind="logits",
    exports_onnx=True,
    only_runtime=None,
    only_preprocess=None,
    features="measured",
    parse=None,
    weights_label=resolved_weights_label,
    export_weights=resolved_weights_label,
)
