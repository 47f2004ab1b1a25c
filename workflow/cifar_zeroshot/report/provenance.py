"""What a figure or table was made from, said on it: the images (CIFAR-10 or synthetic) and,
where any run had no trained weights, which. A plot shared without the summary must not pass
for a benchmark of real models on real images."""

from collections.abc import Iterable

import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.methods.registry import ZERO_SHOT_METHODS

SYNTHETIC_DATASET = "synthetic"
WARNING_COLOUR = "firebrick"


def images_name(metrics: pd.DataFrame) -> str:
    """ "CIFAR-10", or "synthetic images" where the runs scored the synthetic stand-in."""
    synthetic = "dataset" in metrics and (metrics["dataset"] == SYNTHETIC_DATASET).any()
    return "synthetic images" if synthetic else "CIFAR-10"


def accuracy_title(methods: Iterable[str], images: str = "CIFAR-10") -> str:
    """ "Zero-shot accuracy on <images>", unless a method trained on the data is among them."""
    zero_shot = set(methods) <= set(ZERO_SHOT_METHODS)
    return f"{'Zero-shot accuracy' if zero_shot else 'Accuracy'} on {images}"


def provenance_note(metrics: pd.DataFrame) -> str | None:
    """A warning line for runs that measure the workflow rather than the models (synthetic
    images, untrained weights); None when every run is real."""
    parts = []
    if images_name(metrics) != "CIFAR-10":
        parts.append("synthetic images, not CIFAR-10")
    if "weights" in metrics:
        untrained = metrics.loc[metrics["weights"] == NONE_WEIGHTS, "model"]
        models = list(dict.fromkeys(untrained))
        if models and len(models) == metrics["model"].nunique():
            parts.append("untrained weights")
        elif models:
            parts.append(f"untrained weights: {', '.join(models)}")
    if not parts:
        return None
    return f"{'; '.join(parts)}. These figures check the workflow, not the models."


def _bottom_taken(figure: Figure) -> bool:
    """Whether a legend sits outside the axes at the figure's bottom (``loc="outside lower ..."``;
    matplotlib keeps that placement only on the private ``_outside_loc``, hence the getattr)."""
    return any(
        "lower" in (getattr(legend, "_outside_loc", None) or "") for legend in figure.legends
    )


def mark_provenance(figure: Figure, note: str | None) -> Figure:
    """``figure`` with ``note`` written under it, or above it where a legend holds the bottom;
    laid out with the figure, so it covers nothing. Unchanged when there is nothing to say."""
    if note:
        style = {"color": WARNING_COLOUR, "fontsize": 9, "fontweight": "bold"}
        if _bottom_taken(figure) and not figure.get_suptitle():
            figure.suptitle(note, **style)
        else:
            figure.supxlabel(note, **style)
    return figure
