"""Each model's published ImageNet-1k top-1 and parameters, as its family's publisher gives them.

torchvision: the weights' meta (models.torchvision.catalog); timm: its repository's validation
table (models.timm.published). Top-1 is a fraction (0-1), as metrics.csv's accuracy is.
Untrained weights, a user's weights file and CLIP models (whose zero-shot ImageNet figures the
project does not hold) have none.
"""

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.models.family import PublishedFigures
from cifar_zeroshot.models.family_registry import family_of_config_name
from cifar_zeroshot.models.hub_names import DEFAULT_WEIGHTS

_UNKNOWN = PublishedFigures(None, None)


def published_figures(config_name: str, weights: str = DEFAULT_WEIGHTS) -> PublishedFigures:
    """What the publisher reports for the model the config names, with its weights."""
    published = family_of_config_name(config_name).published
    return _UNKNOWN if published is None else published(config_name, weights)


def published_imagenet_top1(config_name: str, weights: str = DEFAULT_WEIGHTS) -> float | None:
    """The publisher's ImageNet-1k top-1 (a fraction) of the model the config names, with the
    weights as configured; None for untrained weights or where none is published or at hand."""
    if str(weights).strip().lower() == NONE_WEIGHTS:
        return None
    return published_figures(config_name, weights).top1


def published_params_m(config_name: str) -> float | None:
    """The parameters (millions) the publisher gives for the architecture; None where unknown."""
    return published_figures(config_name).params_m
