"""Can a reader read a figure? A check run on every figure the book saves (:func:`nc_core.plots.save_figure`).

The figure is drawn (``fig.canvas.draw()``) and its text measured where matplotlib placed it
(``Text.get_window_extent``). It fails on

* **overlapping tick labels**: two labels of one axis closer than :data:`MIN_GAP_EM` of their font size
  along their baseline while they overlap across it ("0.0050.01"; rotated labels are compared as the
  rotated boxes they are, not as their upright bounding boxes);
* **duplicate tick labels**: one text twice among the labels shown on one axis ("4e-01 4e-01 3e-01" on
  a log axis whose formatter rounds distinct ticks to the same text);
* **text too small**: text whose font size, at the width the figure is shown at, is below
  :data:`MIN_TEXT_PX` pixels. The figure is shown at the width it is drawn at (its tight bounding box at
  ``fig.dpi``, as the notebook's inline backend renders it) but at most :data:`COLUMN_PX` pixels, the
  book's text column at the check's 1280 px viewport, where it is scaled down to fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = [
    "COLUMN_PX",
    "MIN_GAP_EM",
    "MIN_TEXT_PX",
    "FigureCheckError",
    "LabelBox",
    "check_figure",
    "require_readable",
    "shown_scale",
]

#: Width (CSS px) of the book's text column at the 1280 px viewport of ``book check``: a wider figure is
#: scaled down to it.
COLUMN_PX = 760
#: Smallest font size (px, at the shown width) a reader can read: about 8 px tall digits. The issue's
#: unreadable heatmap numbers were 8 pt at 110 dpi shown at 0.8 of their size (9.8 px font, 7 px digits).
MIN_TEXT_PX = 10.5
#: Two tick labels side by side need a gap of at least this fraction of their font size to read apart.
MIN_GAP_EM = 0.25


class FigureCheckError(ValueError):
    """A figure a reader could not read; the message lists every problem found."""


@dataclass(frozen=True)
class LabelBox:
    """A drawn tick label as the rotated rectangle it occupies (display pixels).

    Attributes:
        text: the label's text.
        cx, cy: the rectangle's centre.
        width, height: its size along and across the baseline.
        angle: the baseline's angle in degrees.
        font_px: the font size in pixels (at the figure's dpi).
    """

    text: str
    cx: float
    cy: float
    width: float
    height: float
    angle: float
    font_px: float

    def collides(self, other: LabelBox) -> bool:
        """Whether ``other`` (drawn at the same angle) overlaps this label, or sits beside it on the same
        line with less than :data:`MIN_GAP_EM` of the font size between them."""
        theta = math.radians(self.angle)
        ux, uy = math.cos(theta), math.sin(theta)
        dx, dy = other.cx - self.cx, other.cy - self.cy
        along = abs(dx * ux + dy * uy) - (self.width + other.width) / 2  # gap along the baseline
        across = abs(-dx * uy + dy * ux) - (self.height + other.height) / 2  # gap across it
        needed = MIN_GAP_EM * min(self.font_px, other.font_px)
        return across < -1.0 and along < needed


def shown_scale(fig: Figure, renderer: Any, column_px: float = COLUMN_PX) -> float:
    """The factor by which ``fig``'s pixels (at ``fig.dpi``, tight bounding box plus matplotlib's 0.1 inch
    padding) are scaled when shown in a column of ``column_px`` pixels: 1 where it fits."""
    width_px = (fig.get_tightbbox(renderer).width + 0.2) * fig.dpi
    return min(1.0, column_px / width_px) if width_px > 0 else 1.0


def _drawn_texts(fig: Figure) -> list[Text]:
    """The non-empty texts ``fig`` draws: visible artists under visible parents, an axes turned off
    (``ax.axis("off")``) without its axes' ticks and labels."""
    found: list[Text] = []

    def walk(artist: Any) -> None:
        if not artist.get_visible():
            return
        if isinstance(artist, Text) and artist.get_text().strip():
            found.append(artist)
        children = artist.get_children()
        if isinstance(artist, Axes) and not artist.axison:
            children = [c for c in children if not isinstance(c, Axis)]
        for child in children:
            if child is not artist:
                walk(child)

    walk(fig)
    return found


def _shown_labels(axis: Axis) -> list[Text]:
    """The tick labels ``axis`` draws (major and minor, both sides): visible, non-empty, at a tick inside
    the view interval."""
    lo, hi = sorted(axis.get_view_interval())
    span = max(hi - lo, abs(hi), 1e-300)
    labels = []
    for ticks, locs in ((axis.get_major_ticks(), axis.get_majorticklocs()),
                        (axis.get_minor_ticks(), axis.get_minorticklocs())):  # fmt: skip
        for tick, loc in zip(ticks, locs, strict=False):
            if not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span) or not tick.get_visible():
                continue
            labels += [t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text().strip()]
    return labels


def _box(label: Text, renderer: Any, dpi: float) -> LabelBox:
    """``label``'s rotated rectangle: its centre from the drawn (rotated) extent, its size upright."""
    drawn = label.get_window_extent(renderer)
    angle = label.get_rotation()
    label.set_rotation(0)
    try:
        upright = label.get_window_extent(renderer)
    finally:
        label.set_rotation(angle)
    cx, cy = (drawn.x0 + drawn.x1) / 2, (drawn.y0 + drawn.y1) / 2
    return LabelBox(label.get_text(), cx, cy, upright.width, upright.height, angle,
                    label.get_fontsize() * dpi / 72)  # fmt: skip


def _axis_name(ax: Axes, axis: Axis, index: int) -> str:
    title = ax.get_title() or ax.get_title("left") or ax.get_ylabel() or ax.get_xlabel()
    kind = "colour bar" if getattr(ax, "_colorbar", None) is not None else f"panel {index}"
    return f"{kind}{f' ({title!r})' if title else ''} {axis.axis_name} axis"


def check_figure(fig: Figure, *, column_px: float = COLUMN_PX, min_text_px: float = MIN_TEXT_PX) -> list[str]:
    """Draw ``fig`` and list what a reader could not read (an empty list: nothing).

    Args:
        fig: the finished figure.
        column_px: the width the figure is shown at, at most (wider figures are scaled down to it).
        min_text_px: the smallest font size, in pixels at the shown width, that passes.

    Returns:
        one line per problem: overlapping tick labels, duplicate tick labels on one axis, text too small.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems: list[str] = []
    for index, ax in enumerate(fig.axes, start=1):
        if not ax.get_visible() or not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():
                continue
            labels = _shown_labels(axis)
            where = _axis_name(ax, axis, index)
            texts = [t.get_text() for t in labels]
            repeated = sorted({t for t in texts if texts.count(t) > 1})
            if repeated:
                problems.append(f"{where}: duplicate tick labels {', '.join(map(repr, repeated))}")
            boxes = [_box(t, renderer, fig.dpi) for t in labels]
            clashes = [
                f"{a.text!r} / {b.text!r}"
                for i, a in enumerate(boxes)
                for b in boxes[i + 1 :]
                if a.angle == b.angle and a.collides(b)
            ]
            if clashes:
                problems.append(f"{where}: overlapping tick labels {', '.join(clashes[:4])}")
    scale = shown_scale(fig, renderer, column_px)
    small: dict[float, list[str]] = {}
    for text in _drawn_texts(fig):
        px = text.get_fontsize() * fig.dpi / 72 * scale
        if px < min_text_px - 1e-9:
            small.setdefault(round(px, 1), []).append(text.get_text().strip().replace("\n", " ")[:30])
    for px, texts in sorted(small.items()):
        more = f" and {len(texts) - 3} more" if len(texts) > 3 else ""
        shown = ", ".join(repr(t) for t in texts[:3]) + more
        problems.append(
            f"text {shown} is {px:g} px at the shown width (figure scaled by {scale:.2f} to fit "
            f"{column_px:g} px), under the {min_text_px:g} px minimum"
        )
    return problems


def require_readable(fig: Figure, name: str = "figure", **options: Any) -> None:
    """Raise :class:`FigureCheckError` listing :func:`check_figure`'s problems with ``fig`` (named ``name``
    in the message); return quietly when there are none. ``options``: :func:`check_figure`'s keywords."""
    problems = check_figure(fig, **options)
    if problems:
        raise FigureCheckError(f"{name}: a reader could not read this figure:\n- " + "\n- ".join(problems))
