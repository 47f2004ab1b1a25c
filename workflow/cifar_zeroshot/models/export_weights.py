"""The weights an export job is run with, resolved without importing torch (Snakemake params).

The export is remade when its model's weights change, not when their spelling does: 'DEFAULT'
becomes the weights' own name ('ResNet50_Weights.IMAGENET1K_V2'; a timm model's tag), which the
export job reads as the config's value would be read.
"""

from cifar_zeroshot.core.errors import UserError
from cifar_zeroshot.models.family_registry import family_of_slug


def export_weights(model: str, weights: str) -> str:
    """``weights`` of ``model`` (a torchvision name or a timm slug) as the export job takes them."""
    family = family_of_slug(model)
    if family.export_weights is None:
        raise UserError(f"{model!r} is a {family.name} model, which is never exported to ONNX.")
    return family.export_weights(model, weights)
