"""Checks on drawn figures that several test files share."""

import matplotlib.text
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def overlapping_texts(figure: Figure) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty text boxes of ``figure`` that overlap, once drawn."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    boxes = [
        (text.get_text(), text.get_window_extent(renderer))
        for text in figure.findobj(matplotlib.text.Text)
        if text.get_visible() and text.get_text().strip()
    ]
    return [
        (a, b)
        for i, (a, box_a) in enumerate(boxes)
        for b, box_b in boxes[i + 1 :]
        if box_a.overlaps(box_b)
    ]


def texts_outside(figure: Figure) -> list[str]:
    """The visible, non-empty texts of ``figure`` that reach past its edges, once drawn; tick
    labels aside (matplotlib keeps labels of ticks beyond the axes' limits, never drawing them,
    and constrained layout makes room for the drawn ones)."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    inside = figure.bbox.padded(1)  # a pixel of rounding
    ticks = {
        id(label)
        for ax in figure.axes
        for axis in (ax.xaxis, ax.yaxis)
        for label in axis.get_ticklabels(which="both")
    }
    texts = [
        text
        for text in figure.findobj(matplotlib.text.Text)
        if text.get_visible() and text.get_text().strip() and id(text) not in ticks
    ]
    return [
        text.get_text()
        for text in texts
        if not all(
            inside.contains(*corner) for corner in text.get_window_extent(renderer).corners()
        )
    ]
