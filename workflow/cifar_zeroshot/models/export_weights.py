"""The weights an export job is run with, resolved without importing torch (Snakemake params).

The export is remade when its model's weights change, not when their spelling does: 'DEFAULT'
becomes the weights' own name ('ResNet50_Weights.IMAGENET1K_V2'; a timm model's tag), which the
export job reads as the config's value would be read.
"""

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.models.timm.names import spec_from_slug, untrained_weights
from cifar_zeroshot.models.timm.slugs import is_timm_slug
from cifar_zeroshot.models.torchvision.catalog import resolved_weights_label


def export_weights(model: str, weights: str) -> str:
    """``weights`` of ``model`` (a torchvision name or a timm slug) as the export job takes them."""
    if is_timm_slug(model):
        spec = spec_from_slug(model)
        return NONE_WEIGHTS if untrained_weights(spec, weights) else spec.tag
    return resolved_weights_label(model, weights)
