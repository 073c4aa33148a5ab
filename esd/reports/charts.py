"""Charts of the metrics: one table of numbers per chart, drawn with matplotlib's object API.

Each chart is a `ChartTable` (title, alt text, columns, rows) made from `metrics` and a drawing
of exactly that table, so the picture, the table under it and its CSV always agree.
Tables and drawings are cached by (chart, format, filters, data version): see `cache.py`.
"""
from __future__ import annotations

import csv
import io
import math
import pickle
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterator

import matplotlib

matplotlib.use("Agg")  # no display in a server; harmless when already set
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

from . import cache as report_cache  # noqa: E402
from . import glyphs  # noqa: E402
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
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


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


def _rates_table(name: str, by: str, label: str) -> Callable[[Filters], ChartTable]:
    def build(filters: Filters) -> ChartTable:
        rates = metrics.find_rates(filters, by=by)
        title = f"Find rate per {label.lower()}"
        return ChartTable(name, title, [label] + RATE_COLUMNS, [[r.label] + _rate_cells(r) for r in rates],
                          _rates_alt(title, rates))
    return build


def heatmap_table(filters: Filters) -> ChartTable:
    matrix = metrics.device_spot_matrix(filters)
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
                      meta={"devices": matrix.devices, "spots": matrix.spots})


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


def impact_monthly_table(filters: Filters) -> ChartTable:
    months = metrics.monthly_impact(filters)
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
    impact = metrics.deployment_impact(filters)
    evidence = metrics.evidence_breakdown(filters)
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

def _margins(fig: Figure, left: float, bottom: float, right: float = 0.25, top: float = 0.45) -> None:
    """Fixed margins in inches (tight_layout would draw the figure twice to find them)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h)


def _text_inches(texts, size: float) -> float:
    """The widest of these one-line texts, in inches."""
    return max((glyphs.width(str(t), size) for t in texts), default=0) / 72


def _fit(texts, size: float, inches: float) -> list[str]:
    """The texts, each cut short with "…" where it is wider than `inches` (a vocabulary term may
    have 80 characters; the table under the chart has them in full)."""
    out = []
    for text in map(str, texts):
        if glyphs.width(text, size) / 72 > inches:
            while text and glyphs.width(text + "…", size) / 72 > inches:
                text = text[:-1]
            text = text.rstrip() + "…"
        out.append(text)
    return out


def _rotated_inches(texts, size: float, degrees: float) -> tuple[float, float]:
    """How far right-aligned tick labels turned by `degrees` reach down and to the left, in inches."""
    longest = _text_inches(texts, size)
    angle = math.radians(degrees)
    return (longest * math.sin(angle) + size / 72 * math.cos(angle),
            longest * math.cos(angle) + size / 72 * math.sin(angle))


def _month_ticks(ax, months: list[str]) -> float:
    """Month labels on the x axis, at most about 16 of them; return the height they take, in inches."""
    step = max(1, math.ceil(len(months) / 16))
    ticks = list(range(0, len(months), step))
    turned = len(months) > 6
    glyphs.xticklabels(ax, ticks, [months[i] for i in ticks], size=8, rotation=45 if turned else 0)
    ax.set_xlim(-0.6, len(months) - 0.4)
    return _rotated_inches(months, 8, 45)[0] if turned else 8 / 72


def _bars(ax, positions, values, width: float, colour, horizontal: bool = False, **style) -> PolyCollection:
    """Bars as one collection: `ax.bar` makes an artist per bar, a millisecond each to add and draw."""
    rects = []
    for p, v in zip(positions, values):
        a, b = p - width / 2, p + width / 2
        rects.append([(0, a), (v, a), (v, b), (0, b)] if horizontal else [(a, 0), (a, v), (b, v), (b, 0)])
    bars = PolyCollection(rects, facecolors=colour, edgecolors="none", **style)
    ax.add_collection(bars, autolim=False)
    return bars


def _lines(ax, segments, transform=None, **style) -> LineCollection:
    """Line segments as one collection (`hlines`, `vlines` and `errorbar` add a few ms of checks)."""
    lines = LineCollection(segments, transform=transform or ax.transData, **style)
    ax.add_collection(lines, autolim=False)
    return lines


def _grid(ax, ticks, axis: str) -> None:
    """Light grid lines across the axes at these data positions of the x or y axis."""
    if axis == "x":
        _lines(ax, [[(t, 0), (t, 1)] for t in ticks], ax.get_xaxis_transform(), colors="#b0b0b0",
               linewidths=0.8, alpha=0.3, zorder=0.5)
    else:
        _lines(ax, [[(0, t), (1, t)] for t in ticks], ax.get_yaxis_transform(), colors="#b0b0b0",
               linewidths=0.8, alpha=0.3, zorder=0.5)


def _y_axis(ax, ticks, side: str = "left", grid: bool = False, values=None) -> None:
    """Y tick marks, labels and grid lines without matplotlib's Tick objects (a few ms each).

    `values` label the ticks when they differ from the positions (a second scale on one axes)."""
    ax.set_yticks([])
    at = ax.get_yaxis_transform()  # x in axes, y in data
    x, mark, ha, dx = (0, glyphs.TICK_LEFT, "right", -5.5) if side == "left" else (1, glyphs.TICK_RIGHT, "left", 5.5)
    glyphs.ticks(ax, [x] * len(ticks), ticks, mark, at)
    glyphs.labels(ax, [x] * len(ticks), ticks, [f"{t:g}" for t in (ticks if values is None else values)],
                  size=10, ha=ha, offset=(dx, 0), at=at)
    if grid:
        _grid(ax, ticks, "y")


def _x_axis(ax, ticks, label: str, grid: bool = False) -> None:
    """X tick marks, their labels, grid lines and the axis label, like `_y_axis`: matplotlib's
    Tick objects and a Text for the label cost a few milliseconds each to lay out and draw."""
    glyphs.xticklabels(ax, ticks, [f"{t:g}" for t in ticks], size=10)
    if grid:
        _grid(ax, ticks, "x")
    _axis_text(ax, 0.5, 0, label, offset=(0, -27))


def _axis_text(ax, x: float, y: float, text: str, size: float = 10, rotation: float = 0,
               offset: tuple[float, float] = (0, 0)) -> None:
    """A title or axis label centred on (x, y) in axes coordinates, moved by `offset` points, from
    cached glyph outlines (a matplotlib Text costs a few milliseconds to lay out and draw)."""
    glyphs.labels(ax, [x], [y], [text], size=size, rotation=rotation, offset=offset, at=ax.transAxes)


def _title(ax, text: str) -> None:
    """The title, 6 points above the axes (as set_title(pad=6) would put it, without measuring every
    tick label to lift it clear)."""
    _axis_text(ax, 0.5, 1.0, text, size=12, offset=(0, 12))


def _no_data(fig: Figure, table: ChartTable) -> None:
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.text(0.5, 0.6, table.title, ha="center", va="center", fontsize=13, weight="bold")
    ax.text(0.5, 0.4, "No data for these filters", ha="center", va="center", fontsize=12, color="#6c757d")


def _rate_bars(fig: Figure, table: ChartTable) -> None:
    labels = [row[0] for row in table.rows]
    n = [row[1] for row in table.rows]
    rates = [float(row[3]) for row in table.rows]
    low = [float(row[4]) for row in table.rows]
    high = [float(row[5]) for row in table.rows]
    labels = _fit(labels, 10, 3.0)
    fig.set_size_inches(8, max(2.6, 0.42 * len(labels) + 1.4))
    _margins(fig, left=_text_inches(labels, 10) + 0.2, bottom=0.62)
    ax = fig.axes[0]  # see _figure
    y = list(range(len(labels)))
    colours = [_COLOURS["weak"] if r < 70 else _COLOURS["bar"] for r in rates]
    _bars(ax, y, rates, 0.8, colours, horizontal=True, alpha=0.85)
    # The intervals' whiskers and their caps (as errorbar(capsize=3) draws them, in one collection).
    cap = 0.12
    whiskers = [[(lo, yi), (hi, yi)] for lo, hi, yi in zip(low, high, y)]
    caps = [[(x, yi - cap), (x, yi + cap)] for lo, hi, yi in zip(low, high, y) for x in (lo, hi)]
    _lines(ax, whiskers + caps, colors="#343a40", linewidths=1, zorder=2.5)
    glyphs.labels(ax, [2] * len(y), y, [f"n={count}" for count in n], size=9, colours="white", bold=True,
                  ha="left")
    glyphs.labels(ax, [101] * len(y), y, [f"{rate:.0f}%" for rate in rates], size=9, ha="left")
    glyphs.yticklabels(ax, y, labels)
    ax.set_ylim(len(labels) - 0.4, -0.6)  # weakest on top
    ax.set_xlim(0, 112)
    _x_axis(ax, [0, 20, 40, 60, 80, 100], "Find rate % (bars: 95% Wilson interval)", grid=True)
    _title(ax, table.title)


_FIND_COLOURS = LinearSegmentedColormap.from_list("find", ["#dc3545", "#ffc107", "#198754"])  # red, amber, green


def _heatmap(fig: Figure, table: ChartTable) -> None:
    devices, spots = table.meta["devices"], table.meta["spots"]
    cells = {(row[0], row[1]): (row[2], float(row[4])) for row in table.rows}
    title = f"{table.title} (grey: fewer than {MIN_CELL_HIDES} hides)"
    device_labels, spot_labels = _fit(devices, 9, 2.5), _fit(spots, 9, 2.0)
    down, across = _rotated_inches(spot_labels, 9, 40)
    cell_w, cell_h = 0.62, 0.42
    left = max(_text_inches(device_labels, 9) + 0.2, across - cell_w / 2 + 0.1)
    # Wide enough for the cells and for the title centred over them.
    width = max(cell_w * len(spots), glyphs.width(title, 12) / 72 + 0.2) + left + 0.25
    fig.set_size_inches(width, max(3, cell_h * len(devices) + down + 0.75))
    _margins(fig, left=left, bottom=down + 0.2)
    ax = fig.axes[0]  # see _figure
    xs, ys, counts, rates = [], [], [], []
    for i, d in enumerate(devices):
        for j, s in enumerate(spots):
            if (d, s) in cells:
                xs.append(j)
                ys.append(i)
                counts.append(cells[(d, s)][0])
                rates.append(cells[(d, s)][1])
    thin = np.array(counts) < MIN_CELL_HIDES
    texts = [f"n={n}" if t else f"{r:.0f}%\nn={n}" for n, r, t in zip(counts, rates, thin)]
    # Colours as arrays for all cells at once (the colour map called per cell took 5 ms).
    fills = _FIND_COLOURS(np.array(rates) / 100)
    fills[thin] = (0.83, 0.84, 0.85, 1.0)  # grey
    colours = np.where(thin[:, None], to_rgba("#495057"), to_rgba("black"))
    # Cells as one collection of squares: imshow would resample an image to the figure's size.
    square = np.array([(-.5, -.5), (.5, -.5), (.5, .5), (-.5, .5)])
    ax.add_collection(PolyCollection(square + np.column_stack([xs, ys])[:, None], facecolors=fills,
                                     edgecolors="none"), autolim=False)
    ax.set_xlim(-0.5, len(spots) - 0.5)
    ax.set_ylim(len(devices) - 0.5, -0.5)
    glyphs.labels(ax, xs, ys, texts, size=7.5, colours=colours)
    glyphs.xticklabels(ax, list(range(len(spots))), spot_labels, size=9, rotation=40)
    glyphs.yticklabels(ax, list(range(len(devices))), device_labels, size=9)
    _title(ax, title)


def _trend(fig: Figure, table: ChartTable) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    fig.set_size_inches(8, 3.8)
    ax = fig.axes[0]  # see _figure
    points = [(xi, float(row[3]), float(row[4]), float(row[5])) for xi, row in zip(x, table.rows) if row[3] != ""]
    if points:
        ax.fill_between([p[0] for p in points], [p[2] for p in points], [p[3] for p in points],
                        color=_COLOURS["line"], alpha=0.15)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o" if len(months) <= 24 else ".",
                color=_COLOURS["line"])
    ax.set_ylim(0, 105)
    _y_axis(ax, [0, 20, 40, 60, 80, 100], grid=True)
    _axis_text(ax, 0, 0.5, "Find rate %", rotation=90, offset=(-34, 0))
    bottom = _month_ticks(ax, months)
    _margins(fig, left=0.7, right=0.75, bottom=bottom + 0.2)
    # False alerts on a second scale at the right, drawn on the same axes scaled to it: a twin
    # axes (twinx) cost a quarter of the drawing.
    alerts = [(xi, float(row[7])) for xi, row in zip(x, table.rows) if row[7] != ""]
    top = max([a[1] for a in alerts] + [10]) * 1.2
    scale = 105 / top
    _bars(ax, [a[0] for a in alerts], [a[1] * scale for a in alerts], 0.5, _COLOURS["alert"], alpha=0.35,
          zorder=0.6)
    ticks = [t for t in MaxNLocator(6).tick_values(0, top) if t <= top]
    _y_axis(ax, [t * scale for t in ticks], side="right", values=ticks)
    widest = max(glyphs.width(f"{t:g}", 10) for t in ticks)
    _axis_text(ax, 1, 0.5, "False alerts per 100 hides", rotation=90, offset=(widest + 16, 0))
    glyphs.legend(ax, [("95% interval", to_rgba(_COLOURS["line"], 0.15), "patch"),
                       ("Find rate %", _COLOURS["line"], "line"),
                       ("False alerts per 100 hides", to_rgba(_COLOURS["alert"], 0.35), "patch")],
                  corner="lower left")
    _title(ax, table.title)


def _impact_monthly(fig: Figure, table: ChartTable) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    fig.set_size_inches(8, 3.8)
    ax = fig.axes[0]  # see _figure
    width = 0.27
    series = [(1, "Deployments", _COLOURS["bar"]), (2, "Devices found", _COLOURS["ok"]),
              (3, "Found after the human search missed", _COLOURS["alert"])]
    top = max((row[col] for row in table.rows for col in (1, 2, 3)), default=0)
    for k, (col, label, colour) in enumerate(series):
        values = [row[col] for row in table.rows]
        at = [xi + (k - 1) * width for xi in x]
        _bars(ax, at, values, width, colour)
        if len(months) <= 18:  # beyond that the numbers overlap: the table under the chart has them
            glyphs.labels(ax, at, [v + top * 0.035 for v in values], [str(v) for v in values], size=7)
    ceiling = max(top, 1) * 1.3  # room for the legend's one row
    ax.set_ylim(0, ceiling)
    _y_axis(ax, [t for t in MaxNLocator(6, integer=True).tick_values(0, ceiling) if t <= ceiling], grid=True)
    bottom = _month_ticks(ax, months)
    _margins(fig, left=_text_inches([str(top)], 10) + 0.3, bottom=bottom + 0.2)
    glyphs.legend(ax, [(label, colour, "patch") for _, label, colour in series], columns=3)
    _title(ax, table.title)


def _impact_finds(fig: Figure, table: ChartTable) -> None:
    labels = _fit([row[0] for row in table.rows], 9, 4.2)
    fig.set_size_inches(8, 3.2)
    _margins(fig, left=_text_inches(labels, 9) + 0.2, bottom=0.5)
    ax = fig.axes[0]  # see _figure
    shares = [float(row[3]) if row[3] != "" else 0.0 for row in table.rows]
    y = list(range(len(labels)))
    _bars(ax, y, shares, 0.8, [_COLOURS["alert"], _COLOURS["alert"], _COLOURS["ok"], _COLOURS["grey"],
                               _COLOURS["bar"]][:len(labels)], horizontal=True)
    glyphs.labels(ax, [min(share, 100) + 1 for share in shares], y, [f"{row[1]} of {row[2]}" for row in table.rows],
                  size=9, ha="left")
    glyphs.yticklabels(ax, y, labels, size=9)
    ax.set_ylim(len(labels) - 0.4, -0.6)
    ax.set_xlim(0, 118)
    _x_axis(ax, [0, 20, 40, 60, 80, 100], "%")
    _title(ax, table.title)


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    table: Callable[[Filters], ChartTable]
    draw: Callable[[Figure, ChartTable], None]


CHARTS: dict[str, Chart] = {c.name: c for c in (
    Chart("device_type", "Find rate per device type", _rates_table("device_type", "device_type", "Device type"),
          _rate_bars),
    Chart("hiding_spot", "Find rate per hiding spot", _rates_table("hiding_spot", "hiding_spot", "Hiding spot"),
          _rate_bars),
    Chart("heatmap", "Device type × hiding spot", heatmap_table, _heatmap),
    Chart("trend", "Monthly trend", trend_table, _trend),
    Chart("impact_monthly", "Deployments per month", impact_monthly_table, _impact_monthly),
    Chart("impact_finds", "What the finds achieved", impact_finds_table, _impact_finds),
)}
TRAINING_CHARTS = ("device_type", "hiding_spot", "heatmap", "trend")
IMPACT_CHARTS = ("impact_monthly", "impact_finds")


@lru_cache(maxsize=1)
def _blank_figure() -> bytes:
    """A figure of one empty axes, pickled. Matplotlib's Axes construction builds tick lines and
    texts these drawings never use (they draw their own from glyph outlines): unpickling a built
    one takes half the time of building it, some 6 ms of every drawing."""
    fig = Figure(figsize=(8, 3.5), dpi=100)
    fig.add_subplot()
    return pickle.dumps(fig)


_spare = threading.local()  # each server thread's figure between two drawings


@contextmanager
def _figure() -> Iterator[Figure]:
    """A figure with its axes (`fig.axes[0]`) for one drawing, 8 × 3.5 inches at 100 dpi until the
    drawing resizes it.

    The thread's figure of the last drawing is lent again with everything drawn on it removed:
    even unpickling a blank one costs 2-3 ms. Every drawing sets the figure's size, margins and
    both axes' limits itself, so nothing else carries over (the tests compare drawings made on a
    used figure with drawings made on a new one)."""
    fig = getattr(_spare, "figure", None) or pickle.loads(_blank_figure())  # noqa: S301 - our own bytes
    _spare.figure = None
    try:
        yield fig
    finally:
        ax = fig.axes[0]
        for artist in (*ax.collections, *ax.lines, *ax.patches, *ax.texts, *ax.images, *ax.artists, *ax.tables):
            artist.remove()
        if ax.get_legend() is None and len(fig.axes) == 1 and not fig.texts:
            _spare.figure = fig


def render(table: ChartTable, fmt: str) -> bytes:
    """Draw one table as PNG or SVG bytes (a "no data" picture when it is empty)."""
    if table.empty:
        fig = Figure(figsize=(8, 2.2), dpi=100)
        fig.vector = fmt == "svg"
        _no_data(fig, table)
        return _save(fig, table, fmt)
    with _figure() as fig:
        fig.vector = fmt == "svg"  # labels as text, not outlines: see glyphs.labels
        CHARTS[table.name].draw(fig, table)
        return _save(fig, table, fmt)


def _save(fig: Figure, table: ChartTable, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "png":
        # A chart has few colours: a 256-colour palette PNG looks the same, is a third of the size,
        # and compresses in a few milliseconds instead of tens. The palette is chosen from the
        # picture shrunk to a third of its width and height, which halves the cost: what the
        # sample misses are a few edge pixels' blends, drawn in the nearest colour it kept.
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
        palette = image.reduce(3).quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        image.quantize(palette=palette, dither=Image.Dither.NONE).save(out, format="png", compress_level=3)
    else:
        fig.savefig(out, format=fmt, metadata={"Date": None})
    RENDERS[table.name] += 1
    return out.getvalue()


# --------------------------------------------------------------------------- cache

RENDERS: Counter = Counter()  # drawings made by this process, per chart: the cache's tests count these


def cached_table(name: str, filters: Filters, version: tuple | None = None) -> ChartTable:
    """The chart's table, from the shared cache while the data are unchanged."""
    return report_cache.report(("table", name), filters, lambda: CHARTS[name].table(filters), version)


def chart_bytes(name: str, fmt: str, filters: Filters) -> bytes:
    """The chart drawn for these filters, from the shared cache while the data are unchanged."""
    metrics._checked(filters)
    version = data_version(filters)
    return report_cache.report(("chart", name, fmt), filters,
                               lambda: render(cached_table(name, filters, version), fmt), version)


def clear_cache() -> None:
    report_cache.clear()
