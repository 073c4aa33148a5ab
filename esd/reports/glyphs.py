"""Chart labels, tick marks and legends without matplotlib's Text, Tick and Legend, and text widths.

A matplotlib Text artist costs about half a millisecond to lay out and draw; a heatmap has
two hundred cell labels and a monthly chart as many bar labels. Here all labels of one call are
one artist: in a PNG, unturned labels are FreeType bitmaps stamped by Agg (stamps.py) and turned
ones (month and hiding-spot ticks, axis labels) are outlines — each character's outline made once
per process and size, a label those outlines side by side (DejaVu's figures all have the same
width, so numbers line up as Text would set them), all of them one PathCollection. In an SVG they
are Text artists (see `labels`). Widths for the layout come from the same outlines.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath, text_to_path
from matplotlib.transforms import Affine2D, offset_copy

# One layout for outlines and bitmaps: lines 1.25 em apart, a line's baseline 0.36 em under its
# centre (so digits look centred on the point).
from .stamps import BASELINE_DROP, LINE_SPACING, Stamps


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
    first = (len(lines) - 1) * step / 2 - BASELINE_DROP * size
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
           rotation: float = 0, offset: tuple[float, float] = (0, 0), at=None, zorder: float = 3):
    """Put each text at its (x, y), in data coordinates unless `at` is another transform, as one artist:
    FreeType bitmaps when unturned (stamps.py), else a collection of outlines.

    `offset` moves every text by so many points (tick labels sit a few points off the axis).
    In a vector drawing (`figure.vector` set) they are Text artists: an SVG reuses each glyph it
    has drawn once, where outlines would repeat every label's curves (a heatmap of 1.5 MB)."""
    if getattr(ax.figure, "vector", False):
        return _texts(ax, xs, ys, texts, size, colours, bold, ha, rotation, offset, at, zorder)
    if not rotation:  # FreeType bitmaps, stamped: see stamps.py
        xy = np.column_stack([xs, ys]) if len(texts) else np.zeros((0, 2))
        return ax.add_artist(Stamps(xy, [str(t) for t in texts], size, colours, bold, ha, tuple(offset),
                                    at or ax.transData, zorder))
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
        ticks(ax, positions, [0] * len(positions), TICK_DOWN, at)
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


# Tick marks 3.5 points long, as matplotlib draws them, from the point on the axis outwards.
TICK_DOWN = Path([(0, 0), (0, -3.5)], [Path.MOVETO, Path.LINETO], readonly=True)
TICK_LEFT = Path([(0, 0), (-3.5, 0)], [Path.MOVETO, Path.LINETO], readonly=True)
TICK_RIGHT = Path([(0, 0), (3.5, 0)], [Path.MOVETO, Path.LINETO], readonly=True)


def ticks(ax, xs, ys, mark: Path, at) -> PathCollection:
    """Tick marks at each (x, y) of transform `at`, as one collection (a Line2D of tick markers
    costs a couple of milliseconds to build and draw)."""
    scale = Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans
    collection = PathCollection([mark], offsets=np.column_stack([xs, ys]), offset_transform=at, transform=scale,
                                facecolors="none", edgecolors="black", linewidths=0.8, zorder=2.5)
    ax.add_collection(collection, autolim=False)
    collection.set_clip_on(False)
    return collection


def legend(ax, entries, corner: str = "upper left", columns: int = 1, size: float = 8) -> None:
    """A legend in a corner of the axes, laid out as matplotlib's `ax.legend` would lay it out,
    drawn as one collection of rectangles and one of labels.

    `entries` are (label, colour, kind): kind "patch" is a filled swatch, "line" a line with a
    dot on it. Matplotlib's Legend measures every text it holds, several milliseconds a chart.
    Call it last: the layout is in points and needs the axes' final size."""
    em = size
    pad, handle, gap, row_gap, column_gap, inset = 0.4 * em, 2.0 * em, 0.8 * em, 0.5 * em, 2.0 * em, 0.5 * em
    rows = -(-len(entries) // columns)
    widths = [max(width(label, size) for label, _, _ in entries[c * rows:(c + 1) * rows])
              for c in range(columns)]
    box_w = 2 * pad + sum(handle + gap + w for w in widths) + (columns - 1) * column_gap
    box_h = 2 * pad + rows * em + (rows - 1) * row_gap
    # The box's top-left corner in points from the axes' bottom-left corner.
    fig_w, fig_h = ax.figure.get_size_inches()
    bounds = ax.get_position().bounds
    axes_w, axes_h = bounds[2] * fig_w * 72, bounds[3] * fig_h * 72
    top = axes_h - inset if corner.startswith("upper") else inset + box_h
    left = inset

    def at(x, y):  # points from the box's top-left corner, to axes coordinates
        return ((left + x) / axes_w, (top + y) / axes_h)

    def rect(x, y, w, h):
        return [at(x, y), at(x + w, y), at(x + w, y - h), at(x, y - h)]

    polygons, faces, edges = [rect(0, 0, box_w, box_h)], [to_rgba("white", 0.8)], [to_rgba("0.8")]
    label_x, label_y, texts = [], [], []
    x = pad
    for c in range(columns):
        for r, (label, colour, kind) in enumerate(entries[c * rows:(c + 1) * rows]):
            middle = -(pad + r * (em + row_gap) + em / 2)
            if kind == "line":
                polygons.append(rect(x, middle + 0.75, handle, 1.5))
                angles = np.linspace(0, 2 * np.pi, 13)[:-1]
                polygons.append([at(x + handle / 2 + 3 * np.cos(a), middle + 3 * np.sin(a)) for a in angles])
                faces += [to_rgba(colour)] * 2
                edges += [(0, 0, 0, 0)] * 2
            else:
                polygons.append(rect(x, middle + 0.35 * em, handle, 0.7 * em))
                faces.append(to_rgba(colour))
                edges.append((0, 0, 0, 0))
            point = at(x + handle + gap, middle)
            label_x.append(point[0])
            label_y.append(point[1])
            texts.append(label)
        x += handle + gap + widths[c] + column_gap
    box = PolyCollection(polygons, facecolors=faces, edgecolors=edges, linewidths=[1] + [0] * (len(polygons) - 1),
                         transform=ax.transAxes, zorder=5)
    ax.add_collection(box, autolim=False)
    box.set_clip_on(False)
    labels(ax, label_x, label_y, texts, size=size, ha="left", at=ax.transAxes, zorder=5.1)
