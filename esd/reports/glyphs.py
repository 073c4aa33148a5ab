"""Many small labels drawn as one collection of cached glyph outlines, and text widths for layout.

A matplotlib Text artist costs about half a millisecond to lay out and draw; a heatmap has
two hundred cell labels and a monthly chart as many bar labels. Here each character's outline
is made once per process and size, a label is those outlines side by side (DejaVu's figures
all have the same width, so numbers line up as Text would set them), and all labels of a
chart are one PathCollection: one artist, drawn in a few milliseconds, in PNG and SVG alike.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.font_manager import FontProperties
from matplotlib.markers import TICKDOWN
from matplotlib.path import Path
from matplotlib.textpath import TextPath, text_to_path
from matplotlib.transforms import Affine2D, offset_copy

LINE_SPACING = 1.25  # × the font size, between the lines of one label


@lru_cache(maxsize=512)
def _glyph(char: str, size: float, bold: bool) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """A character's outline in points (vertices and codes, its origin on the baseline; None for a
    space) and its advance width. Plain arrays: a TextPath recomputes its vertices on every read."""
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    if char.isspace():  # a space has no outline; its advance is what "x x" adds to "xx"
        return None, None, (text_to_path.get_text_width_height_descent("x x", prop, ismath=False)[0]
                            - text_to_path.get_text_width_height_descent("xx", prop, ismath=False)[0])
    width = text_to_path.get_text_width_height_descent(char, prop, ismath=False)[0]
    path = TextPath((0, 0), char, prop=prop)
    vertices, codes = np.array(path.vertices), np.array(path.codes)
    return (vertices, codes, width) if len(vertices) else (None, None, width)


def width(text: str, size: float, bold: bool = False) -> float:
    """The width of one line of text in points (kerning aside)."""
    return sum(_glyph(c, size, bold)[2] for c in text)


@lru_cache(maxsize=2048)  # a few kB each: at most some 10 MB a worker
def _label(text: str, size: float, bold: bool, ha: str, rotation: float, offset: tuple[float, float]) -> Path:
    """The text's outlines in points, aligned on (0, 0) (horizontally by `ha`, vertically centred),
    then turned by `rotation` degrees about that point and moved by `offset` points.

    Cached: tick labels (device types, hiding spots, months) and most cell labels recur from
    one drawing to the next. A Path is never changed once made, so sharing it is safe."""
    lines = text.split("\n")
    step = size * LINE_SPACING
    # The baseline sits 0.36 em under the line's centre, so digits look centred on the point.
    first = (len(lines) - 1) * step / 2 - 0.36 * size
    vertices, codes = [], []
    for k, line in enumerate(lines):
        x = {"left": 0.0, "center": -width(line, size, bold) / 2, "right": -width(line, size, bold)}[ha]
        y = first - k * step
        for char in line:
            points, kinds, advance = _glyph(char, size, bold)
            if points is not None:
                vertices.append(points + (x, y))
                codes.append(kinds)
            x += advance
    if not vertices:
        return Path(np.zeros((1, 2)), [Path.MOVETO], readonly=True)
    points = np.concatenate(vertices)
    if rotation:
        angle = np.radians(rotation)
        points = points @ np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    return Path(points + offset, np.concatenate(codes), readonly=True)


def labels(ax, xs, ys, texts, size: float = 8, colours="black", bold: bool = False, ha: str = "center",
           rotation: float = 0, offset: tuple[float, float] = (0, 0), at=None, zorder: float = 3) -> PathCollection:
    """Put each text at its (x, y), in data coordinates unless `at` is another transform, as one artist.

    `offset` moves every text by so many points (tick labels sit a few points off the axis).
    In a vector drawing (`figure.vector` set) they are Text artists: an SVG reuses each glyph it
    has drawn once, where outlines would repeat every label's curves (a heatmap of 1.5 MB)."""
    if getattr(ax.figure, "vector", False):
        return _texts(ax, xs, ys, texts, size, colours, bold, ha, rotation, offset, at, zorder)
    paths = [_label(str(t), size, bold, ha, rotation, tuple(offset)) for t in texts]
    scale = Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans  # points to pixels, at any saving dpi
    collection = PathCollection(paths, offsets=np.column_stack([xs, ys]) if len(paths) else np.zeros((0, 2)),
                                offset_transform=at or ax.transData, transform=scale, facecolors=colours,
                                edgecolors="none", linewidths=0, zorder=zorder, clip_on=False)
    ax.add_collection(collection, autolim=False)
    collection.set_clip_on(False)  # add_collection clips to the axes; tick labels lie outside
    return collection


def _texts(ax, xs, ys, texts, size, colours, bold, ha, rotation, offset, at, zorder) -> None:
    at = offset_copy(at or ax.transData, fig=ax.figure, x=offset[0], y=offset[1], units="points")
    colours = [colours] * len(texts) if isinstance(colours, str) else colours
    for x, y, text, colour in zip(xs, ys, texts, colours):
        ax.text(x, y, str(text), transform=at, fontsize=size, color=colour, weight="bold" if bold else "normal",
                ha=ha, va="center", rotation=rotation, rotation_mode="anchor", clip_on=False, zorder=zorder)


def xticklabels(ax, positions, texts, size: float = 8, rotation: float = 0, marks: bool = True) -> None:
    """Tick labels under the x axis at these data positions (turned ones end at their tick).

    Matplotlib's own ticks are left out: it builds two lines and two texts per tick, a few
    milliseconds each; the tick marks here are one line of markers."""
    ax.set_xticks([])
    at = ax.get_xaxis_transform()  # x in data, y in axes
    if marks:
        ax.plot(positions, [0] * len(positions), linestyle="none", marker=TICKDOWN, markersize=3.5,
                markeredgewidth=0.8, color="black", transform=at, clip_on=False)
    if rotation:
        labels(ax, positions, [0] * len(positions), texts, size=size, ha="right", rotation=rotation,
               offset=(size * 0.25, -size * 0.9), at=at)
    else:
        labels(ax, positions, [0] * len(positions), texts, size=size, offset=(0, -size * 1.2), at=at)


def yticklabels(ax, positions, texts, size: float = 10) -> None:
    """Tick labels left of the y axis at these data positions (without tick marks)."""
    ax.set_yticks([])
    labels(ax, [0] * len(positions), positions, texts, size=size, ha="right", offset=(-5.5, 0),
           at=ax.get_yaxis_transform())
