"""Unturned labels of a PNG drawing as FreeType bitmaps, made once and stamped by Agg.

Agg fills a label's outline (glyphs.py) curve by curve on every drawing: two hundred heatmap
cells took some 12 ms. Here FreeType draws each character once per process into a grey-level
bitmap (hinted, as matplotlib's own Text draws it), a label is its characters' bitmaps side by
side, and Agg's `draw_text_image` copies it into the picture in the label's colour: a few
microseconds a label. Turned labels (month and hiding-spot
ticks) and SVG drawings keep the outlines and Text artists of glyphs.py.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.artist import Artist
from matplotlib.colors import to_rgba_array
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.backends.backend_agg import get_hinting_flag

# The labels' layout, shared with the outlines of glyphs.py.
LINE_SPACING = 1.25  # × the font size between the lines of one label
BASELINE_DROP = 0.36  # × the font size: a line's baseline under its centre


@lru_cache(maxsize=1024)
def _character(char: str, size: float, bold: bool, dpi: float) -> tuple[np.ndarray, int, int, int]:
    """One character as FreeType draws it (hinted, anti-aliased): its grey levels, row 0 at the
    top; its left and bottom edges in pixels from its pen position on the baseline; its advance.

    Made once per character: FreeType's text layout costs about 0.2 ms a call, so a label
    laid out by it costs half a millisecond, and a cold heatmap has two hundred new ones."""
    font = get_font(findfont(FontProperties(size=size, weight="bold" if bold else "normal")))
    font.set_size(size, dpi)
    font.set_text(char, 0.0, flags=get_hinting_flag())
    font.draw_glyphs_to_bitmap(antialiased=True)
    image = np.array(font.get_image())
    left = round(font.get_bitmap_offset()[0] / 64)
    bottom = -round(font.get_descent() / 64)
    advance = round(font.load_char(ord(char), flags=get_hinting_flag()).horiAdvance / 64)
    return (image if char.strip() else image[:0]), left, bottom, advance


@lru_cache(maxsize=4096)  # a few hundred bytes to a few kB each
def bitmap(text: str, size: float, bold: bool, ha: str, dpi: float) -> tuple[np.ndarray, float, float]:
    """The label's grey levels (row 0 at the top), its characters set side by side at their hinted
    advances, and the alignment point's x from the bitmap's left edge and y from its bottom edge,
    in pixels. The alignment point is the label's left, centre or right (`ha`) and its vertical
    centre, lines `LINE_SPACING` apart."""
    px = dpi / 72
    lines = text.split("\n")
    step = size * LINE_SPACING * px
    first = (len(lines) - 1) * step / 2 - BASELINE_DROP * size * px  # the first baseline, from the centre
    pieces = []  # (grey levels, left, bottom) of each character, pixels from the alignment point, y up
    for k, line in enumerate(lines):
        characters = [_character(c, size, bold, dpi) for c in line]
        width = sum(c[3] for c in characters)  # whole pixels: every character starts on a pixel
        pen = {"left": 0, "center": -(width // 2), "right": -width}[ha]
        baseline = round(first - k * step)
        for image, left, bottom, advance in characters:
            if image.size:
                pieces.append((image, pen + left, baseline + bottom))
            pen += advance
    if not pieces:
        return np.zeros((1, 1), np.uint8), 0.0, 0.0
    left = min(p[1] for p in pieces)
    bottom = min(p[2] for p in pieces)
    right = max(p[1] + p[0].shape[1] for p in pieces)
    top = max(p[2] + p[0].shape[0] for p in pieces)
    canvas = np.zeros((top - bottom, right - left), np.uint8)
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
            # The call matplotlib's own Agg text drawing makes (requirements.txt pins matplotlib):
            # the bitmap's left edge, and its bottom edge counted from the top of the picture.
            renderer._renderer.draw_text_image(grey, round(x - anchor_x), height - round(y - anchor_y), 0, gc)
        gc.restore()
        self.stale = False
