"""The 1000 ImageNet-1k category names, as torchvision's weights name them."""

import ast
import functools
import importlib.util
from collections.abc import Mapping
from pathlib import Path

from cifar_zeroshot.core.labels import NUM_IMAGENET_CLASSES

__all__ = ["all_imagenet_names", "imagenet_categories"]

# Where torchvision keeps the list its ImageNet-1k weights' meta["categories"] hold.
_SOURCE_FILE = ("models", "_meta.py")
_SOURCE_NAME = "_IMAGENET_CATEGORIES"


def _categories_from_source() -> tuple[str, ...] | None:
    """torchvision's list read from its source file, without importing torchvision: the import
    takes about 0.6 GB and seconds, which every metrics job would pay for these names alone.
    None where the file or the list is not as expected (the caller then imports torchvision)."""
    spec = importlib.util.find_spec("torchvision")  # finds the package, imports nothing
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *_SOURCE_FILE)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    assignments = (node for node in tree.body if isinstance(node, ast.Assign))
    for node in assignments:
        if any(
            isinstance(target, ast.Name) and target.id == _SOURCE_NAME for target in node.targets
        ):
            try:
                names = ast.literal_eval(node.value)
            except ValueError:
                return None
            well_formed = (
                isinstance(names, list)
                and len(names) == NUM_IMAGENET_CLASSES
                and all(isinstance(name, str) for name in names)
            )
            return tuple(names) if well_formed else None
    return None


def _categories_from_weights() -> tuple[str, ...]:
    # The names ship inside torchvision (no download), shared by all its ImageNet-1k weights.
    from torchvision.models import AlexNet_Weights

    return tuple(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


@functools.cache
def _categories() -> tuple[str, ...]:
    return _categories_from_source() or _categories_from_weights()


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
