"""The Pareto front of a scatter and labels for its points that overlap no other text.

A scatter of 200 runs cannot name every point; it names the runs on the Pareto front (no other
run is both at least as accurate and at least as fast), the ones a reader picks from. Each
label is put at the first of a ring of offsets around its point where its box, once drawn,
overlaps no text placed before it and stays inside the axes; a label with no free place is
drawn at its last offset with a leader line. A note added to the figure afterwards (its
provenance) moves the axes, so replace_labels places the labels anew.
"""

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

# Offsets in points, nearest first: right-above, left-below, above, below, ... then farther.
_DIRECTIONS = ((1, 1), (-1, -1), (1, -1), (-1, 1), (0, 1.4), (0, -1.4), (1.4, 0), (-1.4, 0))
_RADII = (6, 16, 28, 42, 58)
# A faint white backing, so a label stays legible over the points it crosses.
_BACKING = {"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
# The gid of a label place_labels drew: replace_labels finds them by it.
POINT_LABEL = "point-label"


def pareto_front(x: np.ndarray, y: np.ndarray, x_higher_is_better: bool = True) -> np.ndarray:
    """Boolean mask of the points no other point dominates: another point dominates one when
    its y is at least as high and its x at least as good (higher, or lower where
    ``x_higher_is_better`` is False), and it is better in one of the two. Points with a
    missing x or y are never on the front; equal points are both on it."""
    x = np.asarray(x, float) * (1.0 if x_higher_is_better else -1.0)
    y = np.asarray(y, float)
    finite = np.isfinite(x) & np.isfinite(y)
    front = np.zeros(len(x), dtype=bool)
    for i in np.flatnonzero(finite):
        others = finite.copy()
        others[i] = False
        dominated = others & (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        front[i] = not dominated.any()
    return front


def _box(text: Text, renderer) -> Bbox:
    return text.get_window_extent(renderer)


def place_labels(
    ax: Axes, points: Sequence[tuple[float, float]], labels: Sequence[str], fontsize: float = 8
) -> list[Annotation]:
    """Annotate each point (data coordinates) with its label where it overlaps no other text of
    the figure and stays inside the axes. The figure's layout is drawn first and the labels
    are kept out of it, so placing them moves nothing that was measured."""
    figure = ax.figure
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)  # the constrained layout, so the boxes measured are the final ones
    inside = ax.get_window_extent(renderer)
    taken = [
        _box(text, renderer)
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    placed = []
    for (x, y), label in zip(points, labels, strict=True):
        annotation = None
        for radius in _RADII:
            for dx, dy in _DIRECTIONS:
                if annotation is not None:
                    annotation.remove()
                annotation = ax.annotate(
                    label,
                    (x, y),
                    xytext=(dx * radius, dy * radius),
                    textcoords="offset points",
                    ha="left" if dx > 0 else "right" if dx < 0 else "center",
                    va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                    fontsize=fontsize,
                    annotation_clip=False,
                    bbox=_BACKING,
                )
                annotation.set_in_layout(False)
                annotation.set_gid(POINT_LABEL)
                box = _box(annotation, renderer)
                free = not any(box.overlaps(other) for other in taken)
                if free and inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1):
                    break
            else:
                continue
            break
        else:  # nowhere free: the farthest place, tied to its point by a line
            annotation.remove()
            annotation = ax.annotate(
                label,
                (x, y),
                xytext=(_RADII[-1], _RADII[-1]),
                textcoords="offset points",
                fontsize=fontsize,
                bbox=_BACKING,
                arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.6},
                annotation_clip=False,
            )
            annotation.set_in_layout(False)
        annotation.set_gid(POINT_LABEL)
        taken.append(_box(annotation, renderer))
        placed.append(annotation)
    return placed


def replace_labels(figure: Figure) -> None:
    """Place every label place_labels drew on ``figure`` anew, axes by axes in their order:
    after a change of layout (a note added over or under the figure) the old places may
    overlap."""
    labelled = []
    for ax in figure.axes:
        labels = [text for text in ax.texts if text.get_gid() == POINT_LABEL]
        for label in labels:
            label.remove()
        if labels:
            labelled.append((ax, labels))
    for ax, labels in labelled:
        points = [label.xy for label in labels]
        place_labels(ax, points, [label.get_text() for label in labels], labels[0].get_fontsize())
