"""Charts of the metrics: one table of numbers per chart, drawn with matplotlib's object API.

Each chart is a `ChartTable` (title, alt text, columns, rows) made from `metrics` and a drawing
of exactly that table, so the picture, the table under it and its CSV always agree.
Tables and drawings are cached by (chart, format, filters, data version): see `cache.py`.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # no display in a server; harmless when already set
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

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

def _no_data(fig: Figure, table: ChartTable) -> None:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.6, table.title, ha="center", va="center", fontsize=13, weight="bold")
    ax.text(0.5, 0.4, "No data for these filters", ha="center", va="center", fontsize=12, color="#6c757d")


def _rate_bars(fig: Figure, table: ChartTable) -> None:
    labels = [row[0] for row in table.rows]
    n = [row[1] for row in table.rows]
    rates = [float(row[3]) for row in table.rows]
    low = [float(row[4]) for row in table.rows]
    high = [float(row[5]) for row in table.rows]
    fig.set_size_inches(8, max(2.6, 0.42 * len(labels) + 1.4))
    ax = fig.add_subplot()
    y = list(range(len(labels)))
    colours = [_COLOURS["weak"] if r < 70 else _COLOURS["bar"] for r in rates]
    ax.barh(y, rates, color=colours, alpha=0.85,
            xerr=[[r - lo for r, lo in zip(rates, low)], [hi - r for r, hi in zip(rates, high)]],
            error_kw={"ecolor": "#343a40", "capsize": 3, "elinewidth": 1})
    for yi, rate, count in zip(y, rates, n):
        ax.text(2, yi, f"n={count}", va="center", ha="left", fontsize=9, color="white", weight="bold")
        ax.text(101, yi, f"{rate:.0f}%", va="center", ha="left", fontsize=9)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()  # weakest on top
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Find rate % (bars: 95% Wilson interval)")
    ax.set_title(table.title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()


def _heatmap(fig: Figure, table: ChartTable) -> None:
    devices, spots = table.meta["devices"], table.meta["spots"]
    cells = {(row[0], row[1]): (row[2], float(row[4])) for row in table.rows}
    fig.set_size_inches(max(6, 0.75 * len(spots) + 3), max(3, 0.5 * len(devices) + 2))
    ax = fig.add_subplot()
    cmap = LinearSegmentedColormap.from_list("find", ["#dc3545", "#ffc107", "#198754"])
    grey = (0.83, 0.84, 0.85, 1.0)
    white = (1, 1, 1, 1)
    image = [[white] * len(spots) for _ in devices]
    for i, d in enumerate(devices):
        for j, s in enumerate(spots):
            if (d, s) not in cells:
                continue
            count, rate = cells[(d, s)]
            image[i][j] = grey if count < MIN_CELL_HIDES else cmap(rate / 100)
            text = f"n={count}" if count < MIN_CELL_HIDES else f"{rate:.0f}%\nn={count}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="#495057" if count < MIN_CELL_HIDES else "black")
    ax.imshow(image, aspect="auto")
    ax.set_xticks(range(len(spots)), spots, rotation=40, ha="right", fontsize=9)
    ax.set_yticks(range(len(devices)), devices, fontsize=9)
    ax.set_title(f"{table.title} (grey: fewer than {MIN_CELL_HIDES} hides)")
    fig.tight_layout()


def _trend(fig: Figure, table: ChartTable) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    fig.set_size_inches(8, 3.8)
    ax = fig.add_subplot()
    points = [(xi, float(row[3]), float(row[4]), float(row[5])) for xi, row in zip(x, table.rows) if row[3] != ""]
    if points:
        ax.fill_between([p[0] for p in points], [p[2] for p in points], [p[3] for p in points],
                        color=_COLOURS["line"], alpha=0.15, label="95% interval")
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=_COLOURS["line"],
                label="Find rate %")
    ax.set_ylim(0, 105)
    ax.set_ylabel("Find rate %")
    ax.set_xticks(x, months, rotation=45 if len(months) > 6 else 0, ha="right" if len(months) > 6 else "center",
                  fontsize=8)
    right = ax.twinx()
    alerts = [(xi, float(row[7])) for xi, row in zip(x, table.rows) if row[7] != ""]
    right.bar([a[0] for a in alerts], [a[1] for a in alerts], color=_COLOURS["alert"], alpha=0.35, width=0.5,
              label="False alerts per 100 hides")
    right.set_ylabel("False alerts per 100 hides")
    right.set_ylim(0, max([a[1] for a in alerts] + [10]) * 1.2)
    ax.set_zorder(right.get_zorder() + 1)
    ax.patch.set_visible(False)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_title(table.title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()


def _impact_monthly(fig: Figure, table: ChartTable) -> None:
    months = [row[0] for row in table.rows]
    x = list(range(len(months)))
    fig.set_size_inches(8, 3.8)
    ax = fig.add_subplot()
    width = 0.27
    series = [(1, "Deployments", _COLOURS["bar"]), (2, "Devices found", _COLOURS["ok"]),
              (3, "Found after the human search missed", _COLOURS["alert"])]
    for k, (col, label, colour) in enumerate(series):
        values = [row[col] for row in table.rows]
        bars = ax.bar([xi + (k - 1) * width for xi in x], values, width, label=label, color=colour)
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(x, months, rotation=45 if len(months) > 6 else 0, ha="right" if len(months) > 6 else "center",
                  fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    ax.set_title(table.title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()


def _impact_finds(fig: Figure, table: ChartTable) -> None:
    fig.set_size_inches(8, 3.2)
    ax = fig.add_subplot()
    labels = [row[0] for row in table.rows]
    shares = [float(row[3]) if row[3] != "" else 0.0 for row in table.rows]
    y = list(range(len(labels)))
    ax.barh(y, shares, color=[_COLOURS["alert"], _COLOURS["alert"], _COLOURS["ok"], _COLOURS["grey"],
                              _COLOURS["bar"]][:len(labels)])
    for yi, row, share in zip(y, table.rows, shares):
        ax.text(min(share, 100) + 1, yi, f"{row[1]} of {row[2]}", va="center", fontsize=9)
    ax.set_yticks(y, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("%")
    ax.set_title(table.title)
    fig.tight_layout()


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


def render(table: ChartTable, fmt: str) -> bytes:
    """Draw one table as PNG or SVG bytes (a "no data" picture when it is empty)."""
    chart = CHARTS[table.name]
    fig = Figure(figsize=(8, 3.5), dpi=100)
    if table.empty:
        fig.set_size_inches(8, 2.2)
        _no_data(fig, table)
    else:
        chart.draw(fig, table)
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else None
    fig.savefig(out, format=fmt, metadata=metadata)
    RENDERS[table.name] += 1
    return out.getvalue()


# --------------------------------------------------------------------------- cache

RENDERS: Counter = Counter()  # drawings made by this process, per chart: the cache's tests count these


def cached_table(name: str, filters: Filters, version: tuple | None = None) -> ChartTable:
    """The chart's table, from the shared cache while the data are unchanged."""
    version = data_version(filters) if version is None else version
    return report_cache.remember(("table", name, filters.key(), version), lambda: CHARTS[name].table(filters))


def chart_bytes(name: str, fmt: str, filters: Filters) -> bytes:
    """The chart drawn for these filters, from the shared cache while the data are unchanged."""
    metrics._checked(filters)
    version = data_version(filters)
    return report_cache.remember(("chart", name, fmt, filters.key(), version),
                                 lambda: render(cached_table(name, filters, version), fmt))


def clear_cache() -> None:
    report_cache.clear()
