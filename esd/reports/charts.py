"""Charts of the metrics: one table of numbers per chart, drawn with matplotlib's object API.

Each chart is a `ChartTable` (title, alt text, columns, rows) made from `metrics` and a drawing
of exactly that table, so the picture, the table under it and its CSV always agree.
Tables and drawings are cached by (chart, format, filters, data version): see `cache.py`.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # no display in a server; harmless when already set
matplotlib.rcParams["svg.fonttype"] = "none"  # SVG labels as text (searchable, read aloud, smaller), not outlines
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, PolyCollection  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.markers import TICKRIGHT  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from matplotlib.textpath import TextPath, TextToPath  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from matplotlib.transforms import Affine2D, offset_copy  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

from ..spreadsheets import csv_text  # noqa: E402
from . import cache as report_cache  # noqa: E402
from . import metrics  # noqa: E402
from .cache import data_version  # noqa: E402,F401  (the cache key's data part)
from .metrics import MIN_CELL_HIDES, Filters, Rate  # noqa: E402

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
_COLOURS = {"bar": "#0d6efd", "weak": "#dc3545", "ok": "#198754", "grey": "#d3d6da", "line": "#6f42c1",
            "alert": "#fd7e14"}


def pct(value: float | None) -> str:
    """A proportion as a percentage with one decimal, blank when undefined."""
    return "" if value is None else f"{100 * value:.1f}"


def num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@dataclass
class ChartTable:
    """The numbers behind one chart, ready for an HTML table, a CSV and a drawing."""

    name: str
    title: str
    columns: list[str]
    rows: list[list]
    alt: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rows

    def csv(self) -> str:
        """The table as CSV text, header first."""
        return csv_text(self.columns, self.rows)


# --------------------------------------------------------------------------- tables

RATE_COLUMNS = ["Hides", "Found", "Find rate %", "95% CI low %", "95% CI high %"]


def _rate_cells(rate: Rate) -> list:
    return [rate.n, rate.found, pct(rate.rate), pct(rate.low), pct(rate.high)]


def _rates_alt(title: str, rates: list[Rate]) -> str:
    if not rates:
        return f"{title}: no hides for these filters."
    parts = [f"{r.label} {pct(r.rate)}% of {r.n}" for r in rates[:8]]
    more = f" and {len(rates) - 8} more" if len(rates) > 8 else ""
    return f"{title}, weakest first: " + "; ".join(parts) + more + "."


# The bar charts of find rates: chart name (the `by` of metrics.find_rates) and its first column.
_BAR_LABELS = {"device_type": "Device type", "hiding_spot": "Hiding spot"}


def _rates_table(name: str) -> Callable[[Filters], ChartTable]:
    return lambda filters: _rates_table_of(name, metrics.find_rates(filters, by=name))


def _rates_table_of(name: str, rates: list[Rate]) -> ChartTable:
    label = _BAR_LABELS[name]
    title = f"Find rate per {label.lower()}"
    return ChartTable(name, title, [label] + RATE_COLUMNS, [[r.label] + _rate_cells(r) for r in rates],
                      _rates_alt(title, rates))


def heatmap_table(filters: Filters) -> ChartTable:
    return _heatmap_table_of(metrics.device_spot_matrix(filters))


def _heatmap_table_of(matrix: metrics.Matrix) -> ChartTable:
    rows = [[d, s] + _rate_cells(matrix.cells[(d, s)])
            for d in matrix.devices for s in matrix.spots if (d, s) in matrix.cells]
    title = "Find rate by device type × hiding spot"
    if rows:
        thin = sum(1 for r in matrix.cells.values() if r.n < MIN_CELL_HIDES)
        weakest = min((r for r in matrix.cells.values() if r.n >= MIN_CELL_HIDES),
                      key=lambda r: r.rate, default=None)
        alt = (f"{title}: {len(matrix.devices)} device types × {len(matrix.spots)} hiding spots, "
               f"{len(rows)} combinations tried, {thin} with fewer than {MIN_CELL_HIDES} hides (grey).")
        if weakest:
            alt += f" Weakest with enough hides: {weakest.label}, {pct(weakest.rate)}% of {weakest.n}."
    else:
        alt = f"{title}: no hides for these filters."
    return ChartTable("heatmap", title, ["Device type", "Hiding spot"] + RATE_COLUMNS, rows, alt,
                      meta={"devices": matrix.devices, "spots": matrix.spots, "grid": heatmap_grid(matrix)})


HEAT_STEPS = 10  # an HTML cell's colour is the find rate rounded to a tenth: 11 classes, heat-0 … heat-10


def heatmap_grid(matrix) -> list[tuple[str, list[tuple[tuple[str, ...], str, str]]]]:
    """The heatmap as the pages show it, an HTML table: per device type, per hiding spot,
    (the cell's lines of text, its colour class, its full description).

    The colour is chosen here, on the server, from the same colour map as the drawing
    (`heatmap_css`): red for a low find rate, amber, green for a high one; grey when the cell has
    fewer than MIN_CELL_HIDES hides; none when that combination was never tried."""
    grid = []
    for device in matrix.devices:
        cells = []
        for spot in matrix.spots:
            rate = matrix.cells.get((device, spot))
            if rate is None:
                cells.append(((), "heat-none", f"{device} in {spot}: not tried"))
            elif rate.n < MIN_CELL_HIDES:
                cells.append(((f"n={rate.n}",), "heat-thin",
                              f"{device} in {spot}: {rate.found} of {rate.n} found, too few hides to rate"))
            else:
                cells.append(((f"{100 * rate.rate:.0f}%", f"n={rate.n}"), f"heat-{round(rate.rate * HEAT_STEPS)}",
                              f"{device} in {spot}: {pct(rate.rate)}% of {rate.n} found"))
        grid.append((device, cells))
    return grid


def heatmap_css() -> str:
    """The HTML heatmap's cell colours: the drawing's colour map at each step, grey for thin cells."""
    rules = [f".heat-{k}{{background-color:{to_hex(_FIND_COLOURS(k / HEAT_STEPS))}}}" for k in range(HEAT_STEPS + 1)]
    return "\n".join([_HEATMAP_LAYOUT] + rules + [f".heat-thin{{background-color:{_THIN};color:#495057}}"]) + "\n"


# The table scrolls inside its own region (never the page), its device column stays in view.
_HEATMAP_LAYOUT = """\
.heatmap-scroll{overflow-x:auto;max-width:100%;margin-bottom:.5rem}
.heatmap-scroll:focus-visible{outline:3px solid #0d6efd;outline-offset:2px}
.heatmap{border-collapse:separate;border-spacing:2px;font-size:.8125rem;line-height:1.2;margin:0 auto}
.heatmap th,.heatmap td{padding:.3rem .35rem;text-align:center;min-width:3.25rem}
.heatmap thead th{font-weight:600;vertical-align:bottom;max-width:7rem;overflow-wrap:anywhere}
.heatmap tbody th{position:sticky;left:0;z-index:1;background:#fff;text-align:left;font-weight:600;
  max-width:9rem;overflow-wrap:anywhere}
.heatmap td{color:#000;font-variant-numeric:tabular-nums}
.heat-none{background-color:#f8f9fa}"""


def trend_table(filters: Filters) -> ChartTable:
    months = metrics.monthly_training(filters)
    rows = [[m.month.strftime("%Y-%m")] + _rate_cells(m.rate)
            + [m.false_alerts, num(m.false_alerts_per_100_hides), num(m.hours)] for m in months]
    title = "Monthly trend: find rate and false alerts per 100 hides"
    if any(m.hides for m in months):
        alt = title + ": " + "; ".join(
            f"{m.month:%b %Y} {pct(m.rate.rate) or '–'}% of {m.hides} hides, "
            f"{num(m.false_alerts_per_100_hides) or '–'} false alerts per 100" for m in months[-12:]) + "."
    else:
        alt = f"{title}: no hides for these filters."
        rows = [] if not any(m.minutes for m in months) else rows
    return ChartTable("trend", title, ["Month"] + RATE_COLUMNS
                      + ["False alerts", "False alerts per 100 hides", "Training hours"], rows, alt)


def impact_tables(filters: Filters, impact: metrics.Impact,
                  months: list[metrics.ImpactMonth] | None = None) -> list[ChartTable]:
    """The IMPACT_CHARTS' tables, the same as each chart's own, from the period's `impact` (and
    `months` of it) that the dashboard computed for its own figures."""
    months = metrics.monthly_impact(filters) if months is None else months
    return [_impact_monthly_table_of(months), _impact_finds_table_of(impact)]


def training_tables(filters: Filters) -> list[ChartTable]:
    """The TRAINING_CHARTS' tables, the same as each chart's own, with the three hide charts from one
    read of the device × spot groups (`metrics.hide_breakdown`): what a dog's page shows at once."""
    breakdown = metrics.hide_breakdown(filters)
    return [_rates_table_of("device_type", breakdown.by_device), _rates_table_of("hiding_spot", breakdown.by_spot),
            _heatmap_table_of(breakdown.matrix), trend_table(filters)]


def impact_monthly_table(filters: Filters) -> ChartTable:
    return _impact_monthly_table_of(metrics.monthly_impact(filters))


def _impact_monthly_table_of(months: list[metrics.ImpactMonth]) -> ChartTable:
    rows = [[m.month.strftime("%Y-%m"), m.deployments, m.devices_found, m.found_after_human_missed,
             m.finds_with_evidence, m.unverified_alerts] for m in months]
    title = "Deployments and devices found per month"
    if rows:
        alt = title + ": " + "; ".join(f"{m.month:%b %Y} {m.deployments} deployments, {m.devices_found} "
                                       f"devices found" for m in months[-12:]) + "."
    else:
        alt = f"{title}: no deployments for these filters."
    return ChartTable("impact_monthly", title, ["Month", "Deployments", "Devices found",
                                                "Found after the human search missed them",
                                                "Finds with evidence", "Unverified alerts"], rows, alt)


def impact_finds_table(filters: Filters) -> ChartTable:
    return _impact_finds_table_of(metrics.deployment_impact(filters))


def _impact_finds_table_of(impact: metrics.Impact) -> ChartTable:
    evidence = impact.evidence
    found = impact.devices_found

    def share(part: int, whole: int) -> str:
        return pct(part / whole) if whole else ""

    rows = [] if not impact.deployments else [
        ["Searches where the dog found what the human search missed", impact.searches_with_missed_find,
         impact.deployments, share(impact.searches_with_missed_find, impact.deployments)],
        ["Finds the human search had missed", impact.found_after_human_missed, found,
         share(impact.found_after_human_missed, found)],
        ["Finds that held evidence", evidence["yes"], found, share(evidence["yes"], found)],
        ["Finds with no evidence", evidence["no"], found, share(evidence["no"], found)],
        ["Finds awaiting the forensic exam", evidence["pending"], found, share(evidence["pending"], found)],
    ]
    title = "What the finds achieved"
    if rows:
        alt = title + ": " + "; ".join(f"{r[0]}: {r[1]} of {r[2]}" for r in rows) + "."
    else:
        alt = f"{title}: no deployments for these filters."
    return ChartTable("impact_finds", title, ["Measure", "Count", "Of", "Share %"], rows, alt)


# --------------------------------------------------------------------------- drawings
#
# Matplotlib's documented object API only: a `Figure` per drawing, axes placed at fixed rectangles
# measured in inches (no tight_layout, which draws the figure twice to find the margins), bars,
# cells and whiskers as one collection each, and every word through `_Labels`. The speed of a page
# comes from the cache (a drawing is made once per data version) and from the pages showing the
# heatmap as an HTML table (see `heatmap_grid`).

_TEXT = TextToPath()


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float, weight: str = "normal") -> float:
    """The width of one line of text in inches, as DejaVu Sans sets it at this size."""
    prop = FontProperties(size=size, weight=weight)
    return _TEXT.get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def _text_inches(texts, size: float) -> float:
    """The widest of these one-line texts, in inches."""
    return max((_text_width(str(t), size) for t in texts), default=0)


def _fit(texts, size: float, inches: float) -> list[str]:
    """The texts, each cut short with "…" where it is wider than `inches` (a vocabulary term may
    have 80 characters; the table under the chart has them in full)."""
    out = []
    for text in map(str, texts):
        if _text_width(text, size) > inches:
            while text and _text_width(text + "…", size) > inches:
                text = text[:-1]
            text = text.rstrip() + "…"
        out.append(text)
    return out


_LINE_SPACING = 1.2  # matplotlib's default: a line's ascent times this from one baseline to the next


@lru_cache(maxsize=4096)
def _outline(text: str, size: float, weight: str, ha: str, va: str) -> Path:
    """The glyph outlines of a text in points, placed on (0, 0) as a `Text` with this alignment is."""
    prop = FontProperties(size=size, weight=weight)
    _, height, descent = _TEXT.get_text_width_height_descent("lp", prop, ismath=False)
    ascent = height - descent
    lines = text.split("\n")
    parts = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        width = _text_width(line, size, weight) * 72
        shift = {"left": 0.0, "center": -width / 2, "right": -width}[ha]
        # "$" escaped: a label is plain text, never mathtext (as `Text(parse_math=False)` below).
        glyphs = TextPath((shift, -i * ascent * _LINE_SPACING), line.replace("$", r"\$"), prop=prop)
        parts.append(Path(glyphs.vertices, glyphs.codes))
    top, bottom = ascent, -(len(lines) - 1) * ascent * _LINE_SPACING - descent
    lift = {"baseline": 0.0, "top": -top, "bottom": -bottom, "center": -(top + bottom) / 2}[va]
    return Path.make_compound_path(*parts).transformed(Affine2D().translate(0, lift))


class _Labels:
    """Every word of one drawing: title, axis labels, category labels, values, tick numbers, key.

    In an SVG each is a `Text` (the file keeps its words as text: searchable, read aloud). In a PNG
    they are glyph outlines (`TextPath`, made once per text and size in a process), all anchored
    in one coordinate system gathered into one `PathCollection` and filled in one call: Agg draws a
    `Text` glyph by glyph in Python (about 0.1 ms a glyph on this machine), which was most of a
    drawing's time. A label is anchored at (x, y) of `transform` (data, axes or figure
    coordinates), moved by (dx, dy) points, aligned as `Text` aligns (ha, va, turned about the anchor).
    """

    def __init__(self, fig: Figure, outlines: bool):
        self.fig, self.outlines = fig, outlines
        self.groups: dict[int, tuple] = {}  # id(transform) → (transform, anchors, outlines, colours)

    def add(self, x: float, y: float, text, transform, size: float = 10, *, ha: str = "left",
            va: str = "baseline", rotation: float = 0, dx: float = 0, dy: float = 0, color="black",
            weight: str = "normal") -> None:
        text = str(text)
        if not text.strip():
            return
        if not self.outlines:
            self.fig.text(x, y, text, transform=offset_copy(transform, self.fig, dx, dy, units="points"),
                          fontsize=size, ha=ha, va=va, rotation=rotation, rotation_mode="anchor", color=color,
                          weight=weight, parse_math=False)
            return
        path = _outline(text, size, weight, ha, va).transformed(Affine2D().rotate_deg(rotation).translate(dx, dy))
        _, anchors, paths, colours = self.groups.setdefault(id(transform), (transform, [], [], []))
        anchors.append((x, y))
        paths.append(path)
        colours.append(color)

    def finish(self) -> None:
        """Add the gathered outlines to the figure (an SVG's `Text` artists are in it already)."""
        points = Affine2D().scale(1 / 72) + self.fig.dpi_scale_trans
        for transform, anchors, paths, colours in self.groups.values():
            self.fig.add_artist(PathCollection(paths, offsets=anchors, offset_transform=transform, transform=points,
                                               facecolors=colours, edgecolors="none", linewidths=0, zorder=3))


def _axes(fig: Figure, width: float, height: float, left: float, bottom: float, right: float = 0.25,
          top: float = 0.45):
    """The figure sized `width` × `height` inches with one axes inside these margins (inches)."""
    fig.set_size_inches(width, height)
    return fig.add_axes((left / width, bottom / height, 1 - (left + right) / width, 1 - (bottom + top) / height))


# Category labels (device types, hiding spots, months, measures) sit beside the axes, without tick
# marks (a Tick is five artists); the value axes keep their tick marks and grid lines, their
# numbers are labels too. Titles, axis labels and the key are placed at fixed offsets.
_TICK = 7  # points from the axes to a tick number: matplotlib's tick length (3.5) and pad (3.5)


def _y_labels(labels: _Labels, ax, positions, texts, size: float) -> None:
    """Labels left of the axes, centred on these data positions of the y axis."""
    ax.set_yticks([])
    at = ax.get_yaxis_transform()
    for y, text in zip(positions, texts):
        labels.add(0, y, text, at, size, ha="right", va="center", dx=-4)


def _x_labels(labels: _Labels, ax, positions, texts, size: float, rotation: float = 0) -> None:
    """Labels under the axes at these data positions of the x axis, turned by `rotation` degrees."""
    ax.set_xticks([])
    at = ax.get_xaxis_transform()
    for x, text in zip(positions, texts):
        labels.add(x, 0, text, at, size, ha="right" if rotation else "center", va="top", rotation=rotation, dy=-6)


def _value_ticks(labels: _Labels, ax, axis: str, values, size: float = 9) -> None:
    """Tick marks and grid lines at these values of the x or y axis, their numbers as labels."""
    values = list(values)
    if axis == "x":
        ax.set_xticks(values, [""] * len(values))
        at = ax.get_xaxis_transform()
        for v in values:
            labels.add(v, 0, f"{v:g}", at, size, ha="center", va="top", dy=-_TICK)
    else:
        ax.set_yticks(values, [""] * len(values))
        at = ax.get_yaxis_transform()
        for v in values:
            labels.add(0, v, f"{v:g}", at, size, ha="right", va="center", dx=-_TICK)


def _title(labels: _Labels, ax, text: str) -> None:
    labels.add(0.5, 1, text, ax.transAxes, 12, ha="center", va="bottom", dy=8)


def _axis_label(labels: _Labels, ax, text: str, axis: str, offset: float) -> None:
    """An axis label `offset` points outside the axes (under it for "x", left of it for "y", right for "y2")."""
    at, shift, style = {"x": ((0.5, 0), (0, -offset), dict(va="top", ha="center")),
                        # Turned a quarter: the text's foot faces the axes on the left, its head on the right.
                        "y": ((0, 0.5), (-offset, 0), dict(va="bottom", ha="center", rotation=90)),
                        "y2": ((1, 0.5), (offset, 0), dict(va="top", ha="center", rotation=90))}[axis]
    labels.add(*at, text, ax.transAxes, 10, dx=shift[0], dy=shift[1], **style)


def _key(labels: _Labels, ax, entries, axes_inches: float) -> None:
    """The key in one row at the top left inside the axes: a swatch (a square, or a line for
    "line") and its words per entry of (words, colour, alpha, "patch" or "line")."""
    x = 0.01
    for words, colour, alpha, kind in entries:
        if kind == "line":
            ax.plot([x, x + 0.03], [0.95, 0.95], color=colour, transform=ax.transAxes, clip_on=False)
        else:
            ax.plot([x + 0.015], [0.95], marker="s", markersize=8, linestyle="none", color=colour, alpha=alpha,
                    transform=ax.transAxes, clip_on=False)
        labels.add(x + 0.04, 0.95, words, ax.transAxes, 8, va="center")
        x += 0.04 + (_text_width(words, 8) + 0.25) / axes_inches


def _month_ticks(labels: _Labels, ax, months: list[str]) -> float:
    """Month labels on the x axis, at most about 16 of them; return the height they take, in inches."""
    step = max(1, math.ceil(len(months) / 16))
    ticks = list(range(0, len(months), step))
    turned = len(months) > 6
    _x_labels(labels, ax, ticks, [months[i] for i in ticks], 8, rotation=45 if turned else 0)
    ax.set_xlim(-0.6, len(months) - 0.4)
    return (_text_inches(months, 8) * 0.71 + 0.2) if turned else 0.25


def _bars(ax, positions, values, width: float, colour, horizontal: bool = False, **style) -> PolyCollection:
    """Bars as one collection: `ax.bar` makes an artist per bar, a millisecond each to add and draw."""
    rects = []
    for p, v in zip(positions, values):
        a, b = p - width / 2, p + width / 2
        rects.append([(0, a), (v, a), (v, b), (0, b)] if horizontal else [(a, 0), (a, v), (b, v), (b, 0)])
    bars = PolyCollection(rects, facecolors=colour, edgecolors="none", **style)
    ax.add_collection(bars, autolim=False)
    return bars


def _plain(ax) -> None:
    """Light grid lines behind the data, no frame on the top and right."""
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _no_data(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    fig.set_size_inches(8, 2.2)
    labels.add(0.5, 0.6, table.title, fig.transFigure, 13, ha="center", va="center", weight="bold")
    labels.add(0.5, 0.4, "No data for these filters", fig.transFigure, 12, ha="center", va="center", color="#6c757d")


def _rate_bars(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    names = _fit([row[0] for row in table.rows], 10, 3.0)
    n = [row[1] for row in table.rows]
    rates = [float(row[3]) for row in table.rows]
    low = [float(row[4]) for row in table.rows]
    high = [float(row[5]) for row in table.rows]
    ax = _axes(fig, 8, max(2.6, 0.42 * len(names) + 1.4), left=_text_inches(names, 10) + 0.2, bottom=0.62)
    _plain(ax)
    y = list(range(len(names)))
    _bars(ax, y, rates, 0.8, [_COLOURS["weak"] if r < 70 else _COLOURS["bar"] for r in rates],
          horizontal=True, alpha=0.85)
    # The intervals' whiskers and caps in one collection (errorbar adds three artists and checks).
    cap = 0.12
    segments = [[(lo, yi), (hi, yi)] for lo, hi, yi in zip(low, high, y)]
    segments += [[(x, yi - cap), (x, yi + cap)] for lo, hi, yi in zip(low, high, y) for x in (lo, hi)]
    ax.add_collection(LineCollection(segments, colors="#343a40", linewidths=1, zorder=2.5), autolim=False)
    for yi, count, rate in zip(y, n, rates):
        labels.add(101, yi, f"{rate:.0f}%  n={count}", ax.transData, 9, va="center")
    _y_labels(labels, ax, y, names, 10)
    ax.set_ylim(len(names) - 0.4, -0.6)  # weakest on top
    ax.set_xlim(0, 118)
    _value_ticks(labels, ax, "x", [0, 20, 40, 60, 80, 100])
    ax.grid(axis="x", alpha=0.3)
    _axis_label(labels, ax, "Find rate % (bars: 95% Wilson interval)", "x", 20)
    _title(labels, ax, table.title)


_FIND_COLOURS = LinearSegmentedColormap.from_list("find", ["#dc3545", "#ffc107", "#198754"])  # red, amber, green
_THIN = "#d3d6da"  # a cell with too few hides to colour
# Past this many cells the picture shows the colours and their scale, not a number in each cell;
# the numbers are in the page's table and the CSV.
MAX_LABELLED_CELLS = 48


def _heatmap(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    devices, spots = table.meta["devices"], table.meta["spots"]
    cells = {(row[0], row[1]): (row[2], float(row[4])) for row in table.rows}
    title = f"{table.title} (grey: fewer than {MIN_CELL_HIDES} hides)"
    device_labels, spot_labels = _fit(devices, 9, 2.5), _fit(spots, 9, 2.0)
    down = _text_inches(spot_labels, 9) * 0.65 + 0.25
    cell_w, cell_h = 0.62, 0.42
    left = _text_inches(device_labels, 9) + 0.2
    scale = len(cells) > MAX_LABELLED_CELLS  # a colour scale at the right instead of numbers in the cells
    right = 1.0 if scale else 0.25
    width = max(cell_w * len(spots), _text_width(title, 12) + 0.2) + left + right
    height = max(3, cell_h * len(devices) + down + 0.75)
    ax = _axes(fig, width, height, left=left, bottom=down + 0.2, right=right)
    squares, fills = [], []
    for i, d in enumerate(devices):
        for j, s in enumerate(spots):
            if (d, s) not in cells:
                continue
            count, rate = cells[(d, s)]
            squares.append([(j - .5, i - .5), (j + .5, i - .5), (j + .5, i + .5), (j - .5, i + .5)])
            thin = count < MIN_CELL_HIDES
            fills.append(_THIN if thin else _FIND_COLOURS(rate / 100))
            if not scale:
                labels.add(j, i, f"n={count}" if thin else f"{rate:.0f}%\nn={count}", ax.transData, 7.5,
                           ha="center", va="center", color="#495057" if thin else "black")
    # Cells as one collection of squares: imshow would resample an image to the figure's size.
    ax.add_collection(PolyCollection(squares, facecolors=fills, edgecolors="none"), autolim=False)
    if scale:
        _colour_scale(fig, labels, x=width - right + 0.15, bottom=down + 0.2, top=height - 0.45)
    ax.set_xlim(-0.5, len(spots) - 0.5)
    ax.set_ylim(len(devices) - 0.5, -0.5)
    _x_labels(labels, ax, list(range(len(spots))), spot_labels, 9, rotation=40)
    _y_labels(labels, ax, list(range(len(devices))), device_labels, 9)
    _title(labels, ax, title)


def _colour_scale(fig: Figure, labels: _Labels, x: float, bottom: float, top: float) -> None:
    """The find-rate colours from 0 to 100% as a column of steps `x` inches from the left (the HTML
    heatmap's eleven classes), with its numbers and name: a collection, not a colour-bar axes."""
    step = (top - bottom) / (HEAT_STEPS + 1)
    steps = [[(x, bottom + k * step), (x + 0.15, bottom + k * step), (x + 0.15, bottom + (k + 1) * step),
              (x, bottom + (k + 1) * step)] for k in range(HEAT_STEPS + 1)]
    fig.add_artist(PolyCollection(steps, facecolors=[_FIND_COLOURS(k / HEAT_STEPS) for k in range(HEAT_STEPS + 1)],
                                  edgecolors="none", transform=fig.dpi_scale_trans))
    for value, y in ((0, bottom + step / 2), (50, (bottom + top) / 2), (100, top - step / 2)):
        labels.add(x + 0.15, y, value, fig.dpi_scale_trans, 9, va="center", dx=4)
    labels.add(x + 0.15, (bottom + top) / 2, "Find rate %", fig.dpi_scale_trans, 10, ha="center", va="top",
               rotation=90, dx=26)


def _trend(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    ax = fig.add_axes((0, 0, 1, 1))  # placed below, once the month labels' height is known
    _plain(ax)
    points = [(xi, float(row[3]), float(row[4]), float(row[5])) for xi, row in zip(x, table.rows) if row[3] != ""]
    if points:
        ax.fill_between([p[0] for p in points], [p[2] for p in points], [p[3] for p in points],
                        color=_COLOURS["line"], alpha=0.15)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o" if len(months) <= 24 else ".",
                color=_COLOURS["line"])
    ax.set_ylim(0, 125)  # room above 100% for the key's one row
    _value_ticks(labels, ax, "y", [0, 20, 40, 60, 80, 100])
    ax.grid(axis="y", alpha=0.3)
    _axis_label(labels, ax, "Find rate %", "y", 28)
    bottom = _month_ticks(labels, ax, months) + 0.2
    width, height = 8, 3.8
    fig.set_size_inches(width, height)
    ax.set_position((0.7 / width, bottom / height, 1 - 1.45 / width, 1 - (bottom + 0.45) / height))
    # False alerts on the same axes, scaled to them, read on a second scale at the right.
    alerts = [(xi, float(row[7])) for xi, row in zip(x, table.rows) if row[7] != ""]
    top = max([a[1] for a in alerts] + [10]) * 1.2
    scale = 105 / top
    _bars(ax, [a[0] for a in alerts], [a[1] * scale for a in alerts], 0.5, _COLOURS["alert"], alpha=0.35,
          zorder=0.6)
    ax.spines["right"].set_visible(True)
    ticks = [v for v in MaxNLocator(6).tick_values(0, 125 / scale) if 0 <= v * scale <= 125]
    right = ax.get_yaxis_transform()
    ax.plot([1] * len(ticks), [v * scale for v in ticks], linestyle="none", marker=TICKRIGHT, markersize=3.5,
            color="black", transform=right, clip_on=False)
    for v in ticks:
        labels.add(1, v * scale, f"{v:g}", right, 9, va="center", dx=_TICK)
    _axis_label(labels, ax, "False alerts per 100 hides", "y2", 30)
    _key(labels, ax, [("95% interval", _COLOURS["line"], 0.15, "patch"), ("Find rate %", _COLOURS["line"], 1, "line"),
                      ("False alerts per 100 hides", _COLOURS["alert"], 0.35, "patch")], width - 1.45)
    _title(labels, ax, table.title)


def _impact_monthly(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    top = max((row[col] for row in table.rows for col in (1, 2, 3)), default=0)
    ax = fig.add_axes((0, 0, 1, 1))  # placed below, once the month labels' height is known
    _plain(ax)
    width = 0.27
    series = [(1, "Deployments", _COLOURS["bar"]), (2, "Devices found", _COLOURS["ok"]),
              (3, "Found after the human search missed", _COLOURS["alert"])]
    for k, (col, label, colour) in enumerate(series):
        _bars(ax, [xi + (k - 1) * width for xi in x], [row[col] for row in table.rows], width, colour)
    ceiling = max(top, 1) * 1.3  # room for the key's one row
    ax.set_ylim(0, ceiling)
    _value_ticks(labels, ax, "y", [v for v in MaxNLocator(6, integer=True).tick_values(0, ceiling) if 0 <= v <= ceiling])
    ax.grid(axis="y", alpha=0.3)
    bottom = _month_ticks(labels, ax, months) + 0.2
    left = _text_width(str(top), 9) + 0.35
    w, h = 8, 3.8
    fig.set_size_inches(w, h)
    ax.set_position((left / w, bottom / h, 1 - (left + 0.25) / w, 1 - (bottom + 0.45) / h))
    _key(labels, ax, [(label, colour, 1, "patch") for _, label, colour in series], w - left - 0.25)
    _title(labels, ax, table.title)


def _impact_finds(fig: Figure, table: ChartTable, labels: _Labels) -> None:
    names = _fit([row[0] for row in table.rows], 9, 4.2)
    ax = _axes(fig, 8, 3.2, left=_text_inches(names, 9) + 0.2, bottom=0.5)
    _plain(ax)
    shares = [float(row[3]) if row[3] != "" else 0.0 for row in table.rows]
    y = list(range(len(names)))
    _bars(ax, y, shares, 0.8, [_COLOURS["alert"], _COLOURS["alert"], _COLOURS["ok"], _COLOURS["grey"],
                               _COLOURS["bar"]][:len(names)], horizontal=True)
    for share, yi, row in zip(shares, y, table.rows):
        labels.add(min(share, 100) + 1, yi, f"{row[1]} of {row[2]}", ax.transData, 9, va="center")
    _y_labels(labels, ax, y, names, 9)
    ax.set_ylim(len(names) - 0.4, -0.6)
    ax.set_xlim(0, 118)
    _value_ticks(labels, ax, "x", [0, 20, 40, 60, 80, 100])
    _axis_label(labels, ax, "%", "x", 20)
    _title(labels, ax, table.title)


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    table: Callable[[Filters], ChartTable]
    draw: Callable[[Figure, ChartTable, _Labels], None]


CHARTS: dict[str, Chart] = {c.name: c for c in (
    Chart("device_type", "Find rate per device type", _rates_table("device_type"), _rate_bars),
    Chart("hiding_spot", "Find rate per hiding spot", _rates_table("hiding_spot"), _rate_bars),
    Chart("heatmap", "Device type × hiding spot", heatmap_table, _heatmap),
    Chart("trend", "Monthly trend", trend_table, _trend),
    Chart("impact_monthly", "Deployments per month", impact_monthly_table, _impact_monthly),
    Chart("impact_finds", "What the finds achieved", impact_finds_table, _impact_finds),
)}
TRAINING_CHARTS = ("device_type", "hiding_spot", "heatmap", "trend")
IMPACT_CHARTS = ("impact_monthly", "impact_finds")
# Drawn on the pages as pictures; the heatmap is an HTML table there (its picture is for downloads and the PDF).
PAGE_PICTURES = frozenset(CHARTS) - {"heatmap"}


def render(table: ChartTable, fmt: str) -> bytes:
    """Draw one table as PNG or SVG bytes (a "no data" picture when it is empty)."""
    fig = Figure(figsize=(8, 3.5), dpi=100)
    labels = _Labels(fig, outlines=fmt == "png")
    if table.empty:
        _no_data(fig, table, labels)
    else:
        CHARTS[table.name].draw(fig, table, labels)
    labels.finish()
    out = io.BytesIO()
    if fmt == "png":
        # A chart has few colours: a 256-colour palette PNG looks the same, is a third of the size,
        # and compresses in a few milliseconds instead of tens.
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
        # The palette is chosen from the picture shrunk to a third of its size (half the cost).
        palette = image.reduce(3).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        image.quantize(palette=palette, dither=Image.Dither.NONE).save(out, format="png", compress_level=3)
    else:
        fig.savefig(out, format=fmt, metadata={"Date": None})
    return out.getvalue()


# --------------------------------------------------------------------------- cache

def cached_table(name: str, filters: Filters, version: tuple | None = None) -> ChartTable:
    """The chart's table, from the shared cache while the data are unchanged."""
    return report_cache.report(("table", name), filters, lambda: CHARTS[name].table(filters), version)


def chart_bytes(name: str, fmt: str, filters: Filters) -> bytes:
    """The chart drawn for these filters, from the shared cache while the data are unchanged."""
    metrics.in_scope_or_404(filters)
    version = data_version(filters)
    return report_cache.report(("chart", name, fmt), filters,
                               lambda: render(cached_table(name, filters, version), fmt), version)


def clear_cache() -> None:
    report_cache.clear()
