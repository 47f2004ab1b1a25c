"""The 1000 ImageNet-1k category names, as torchvision's weights name them."""

import functools
from collections.abc import Mapping

from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES

__all__ = ["all_imagenet_names", "imagenet_categories"]


@functools.cache
def _categories() -> tuple[str, ...]:
    # Imported here: torchvision is slow to import and only this lookup needs it. The names ship
    # inside torchvision (no download) and are shared by all its ImageNet-1k weights.
    from torchvision.models import AlexNet_Weights

    return tuple(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_categories() -> list[str]:
    """The 1000 ImageNet-1k category names of torchvision's weights, in class-index order."""
    return list(_categories())


def all_imagenet_names(mapped_names: Mapping[int, str]) -> list[str]:
    """All 1000 ImageNet-1k category names (torchvision's), mapped names taking precedence."""
    try:
        categories = imagenet_categories()
    except Exception:  # the names are decoration; fall back rather than fail the metrics
        categories = [f"imagenet_{i}" for i in range(NUM_IMAGENET_CLASSES)]
    for index, name in mapped_names.items():
        categories[index] = name
    return categories
