"""Checks on drawn figures that several test files share."""

import matplotlib.text
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _undrawn_tick_labels(figure: Figure) -> set[int]:
    """ids of the tick labels matplotlib keeps for ticks beyond an axis's limits: they have
    boxes but are never drawn."""
    hidden = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, abs(high - low))
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not low - slack <= tick.get_loc() <= high + slack:
                    hidden |= {id(tick.label1), id(tick.label2)}
    return hidden


def _drawn_texts(figure: Figure):
    """(renderer, the visible, non-empty texts of ``figure`` that drawing it shows)."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    hidden = _undrawn_tick_labels(figure)
    texts = [
        text
        for text in figure.findobj(matplotlib.text.Text)
        if text.get_visible() and text.get_text().strip() and id(text) not in hidden
    ]
    return renderer, texts


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty text boxes of ``figure`` that overlap."""
    renderer, texts = _drawn_texts(figure)
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in texts]
    return [
        (a, b)
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b)
    ]


def texts_outside(figure: Figure) -> list[str]:
    """The drawn, non-empty texts of ``figure`` that reach past its edges."""
    renderer, texts = _drawn_texts(figure)
    inside = figure.bbox.padded(1)  # a pixel of rounding
    return [
        text.get_text()
        for text in texts
        if not all(
            inside.contains(*corner) for corner in text.get_window_extent(renderer).corners()
        )
    ]
