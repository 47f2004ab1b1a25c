"""What a figure or table was made from, said on it: the images (CIFAR-10, synthetic, or a user
set's title, with their number) and the weights; a warning where any run had synthetic images
or no trained weights. A plot shared without the summary must not pass for a benchmark of real
models on real images, nor a real one lose what it was run on."""

from collections.abc import Iterable

import pandas as pd
from matplotlib.figure import Figure

from cifar_zeroshot.core.choices import NONE_WEIGHTS
from cifar_zeroshot.methods.registry import ZERO_SHOT_METHODS

SYNTHETIC_DATASET = "synthetic"
SYNTHETIC_IMAGES = "synthetic images"
WARNING_COLOUR = "firebrick"
SOURCE_COLOUR = "dimgray"
# The end of a note on runs that measure the workflow rather than the models.
WORKFLOW_CHECK = "These figures check the workflow, not the models."


def _titles(metrics: pd.DataFrame, column: str) -> list[str]:
    if column not in metrics:
        return []
    return [str(title) for title in dict.fromkeys(metrics[column].dropna())]


def images_name(metrics: pd.DataFrame) -> str:
    """What the runs scored, in words: "CIFAR-10", "synthetic images", or a user set's title
    (metrics.csv's test_set_title); "CIFAR-10" for a table without it."""
    titles = _titles(metrics, "test_set_title")
    if titles:
        return ", ".join(titles)
    synthetic = "dataset" in metrics and (metrics["dataset"] == SYNTHETIC_DATASET).any()
    return SYNTHETIC_IMAGES if synthetic else "CIFAR-10"


def accuracy_title(methods: Iterable[str], images: str = "CIFAR-10") -> str:
    """ "Zero-shot accuracy on <images>", unless a method trained on the data is among them."""
    zero_shot = set(methods) <= set(ZERO_SHOT_METHODS)
    return f"{'Zero-shot accuracy' if zero_shot else 'Accuracy'} on {images}"


def _sources(metrics: pd.DataFrame) -> str | None:
    """ "1,000 real CIFAR-10 test images; SqueezeNet 1.0 (Deep Compression) weights": the images
    (each set's count and title) and the weights, where metrics.csv names them."""
    if "test_set_title" not in metrics or "images" not in metrics or metrics.empty:
        return None
    counts = metrics.groupby("test_set_title", sort=False)["images"].max()
    images = [f"{int(count):,} {title}" for title, count in counts.items()]
    weights = _titles(metrics, "weights_title")
    return "; ".join([", ".join(images), *([f"{', '.join(weights)} weights"] if weights else [])])


def provenance_note(metrics: pd.DataFrame) -> str | None:
    """What the figures were made from: a warning for runs that measure the workflow rather than
    the models (synthetic images, untrained weights), otherwise the images and weights in words
    (None where metrics.csv does not name them)."""
    parts = []
    if images_name(metrics) == SYNTHETIC_IMAGES:
        parts.append("synthetic images, not CIFAR-10")
    if "weights" in metrics:
        untrained = metrics.loc[metrics["weights"] == NONE_WEIGHTS, "model"]
        models = list(dict.fromkeys(untrained))
        if models and len(models) == metrics["model"].nunique():
            parts.append("untrained weights")
        elif models:
            parts.append(f"untrained weights: {', '.join(models)}")
    if not parts:
        return _sources(metrics)
    return f"{'; '.join(parts)}. {WORKFLOW_CHECK}"


def is_warning(note: str) -> bool:
    """Whether a provenance note warns (the runs check the workflow) or only names sources."""
    return note.endswith(WORKFLOW_CHECK)


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
        style = (
            {"color": WARNING_COLOUR, "fontsize": 9, "fontweight": "bold"}
            if is_warning(note)
            else {"color": SOURCE_COLOUR, "fontsize": 9}
        )
        if _bottom_taken(figure) and not figure.get_suptitle():
            figure.suptitle(note, **style)
        else:
            figure.supxlabel(note, **style)
    return figure
