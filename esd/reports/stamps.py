"""Unturned labels of a PNG drawing as FreeType bitmaps, made once and stamped by Agg.

Agg fills a label's outline (glyphs.py) curve by curve on every drawing: two hundred heatmap
cells took some 12 ms. FreeType draws each label once per process into a grey-level bitmap
(hinted, as matplotlib's own Text draws it), and Agg's `draw_text_image` copies it into the
picture in the label's colour: a few microseconds a label. Turned labels (month and hiding-spot
ticks) and SVG drawings keep the outlines and Text artists of glyphs.py.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.artist import Artist
from matplotlib.colors import to_rgba_array
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.backends.backend_agg import get_hinting_flag

LINE_SPACING = 1.25  # × the font size between lines, as glyphs.py sets them
BASELINE_DROP = 0.36  # × the font size: a one-line label's baseline under its centre, as in glyphs.py


@lru_cache(maxsize=4096)  # a few hundred bytes to a few kB each
def bitmap(text: str, size: float, bold: bool, ha: str, dpi: float) -> tuple[np.ndarray, float, float]:
    """The label drawn by FreeType: (grey levels, row 0 at the top; the alignment point's x from the
    bitmap's left edge and y from its bottom edge, in pixels). The alignment point is the label's
    left, centre or right (`ha`) and its vertical centre, lines `LINE_SPACING` apart."""
    font = get_font(findfont(FontProperties(size=size, weight="bold" if bold else "normal")))
    font.set_size(size, dpi)
    px = dpi / 72
    lines = text.split("\n")
    step = size * LINE_SPACING * px
    first = (len(lines) - 1) * step / 2 - BASELINE_DROP * size * px  # the first baseline, from the centre
    pieces = []  # (grey levels, left, bottom) of each line, pixels from the alignment point, y up
    for k, line in enumerate(lines):
        font.set_text(line, 0.0, flags=get_hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=True)
        image = np.array(font.get_image())
        width = font.get_width_height()[0] / 64
        descent = font.get_descent() / 64
        x_offset = font.get_bitmap_offset()[0] / 64
        start = {"left": 0.0, "center": -width / 2, "right": -width}[ha]
        pieces.append((image, round(start + x_offset), round(first - k * step - descent)))
    left = min(p[1] for p in pieces)
    bottom = min(p[2] for p in pieces)
    right = max(p[1] + p[0].shape[1] for p in pieces)
    top = max(p[2] + p[0].shape[0] for p in pieces)
    canvas = np.zeros((max(top - bottom, 1), max(right - left, 1)), np.uint8)
    for image, x, y in pieces:
        rows = slice(top - (y + image.shape[0]), top - y)
        columns = slice(x - left, x - left + image.shape[1])
        np.maximum(canvas[rows, columns], image, out=canvas[rows, columns])
    return canvas, -left, -bottom


class Stamps(Artist):
    """Labels at points of a transform, moved by `offset` points, as FreeType bitmaps (Agg only)."""

    def __init__(self, xy: np.ndarray, texts: list[str], size: float, colours, bold: bool, ha: str,
                 offset: tuple[float, float], transform, zorder: float):
        super().__init__()
        self.xy, self.texts, self.size, self.bold, self.ha, self.offset = xy, texts, size, bold, ha, offset
        self.colours = to_rgba_array(colours)
        self.set_transform(transform)
        self.set_zorder(zorder)

    def draw(self, renderer) -> None:
        if not self.get_visible() or not len(self.texts):
            return
        px = renderer.dpi / 72
        points = self.get_transform().transform(self.xy) + np.array(self.offset) * px
        gc = renderer.new_gc()
        height = int(renderer.height)
        colours = self.colours if len(self.colours) == len(self.texts) else [self.colours[0]] * len(self.texts)
        for (x, y), text, colour in zip(points, self.texts, colours):
            grey, anchor_x, anchor_y = bitmap(text, self.size, self.bold, self.ha, renderer.dpi)
            gc.set_foreground(colour, isRGBA=True)
            # draw_text_image takes the bitmap's left edge and its bottom edge counted from the top.
            renderer._renderer.draw_text_image(grey, round(x - anchor_x), height - round(y - anchor_y), 0, gc)
        gc.restore()
        self.stale = False
