"""The impact report's one chart: searches and devices found per month, for the page and the PDF.

matplotlib's documented Figure API (no pyplot), a fixed layout (`subplots_adjust`, no tight or
constrained layout) and few text artists: month ticks, two axis labels, a two-entry legend.
The numbers come from the report (`ImpactReport.months`), so the chart shows nothing the report's
table does not.
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure

from .impact import ImpactReport

SEARCHES_COLOUR, DEVICES_COLOUR = "#1f5f99", "#e08a1e"


def alt_text(report: ImpactReport) -> str:
    """What the chart shows, for people who cannot see it."""
    if not report.months:
        return "Searches and devices found per month: no months to show."
    searches = sum(m[1] for m in report.months)
    devices = sum(m[2] for m in report.months)
    return (f"Searches and devices found per month, {report.months[0][0]} to {report.months[-1][0]}: "
            f"{searches:,} searches and {devices:,} devices found in all.")


def png(report: ImpactReport, width_in: float = 7.0, height_in: float = 2.4) -> bytes:
    """The trend as PNG bytes (150 dpi: sharp on paper)."""
    fig = Figure(figsize=(width_in, height_in), dpi=150)
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.17, top=0.9)
    ax = fig.add_subplot()
    months = report.months
    x = range(len(months))
    ax.bar(x, [m[2] for m in months], color=DEVICES_COLOUR, width=0.6, label="Devices found")
    ax.set_ylabel("Devices", fontsize=7)
    right = ax.twinx()
    right.plot(list(x), [m[1] for m in months], color=SEARCHES_COLOUR, marker="o", markersize=3, linewidth=1.5,
               label="Searches")
    right.set_ylabel("Searches", fontsize=7)
    right.set_ylim(bottom=0)
    # One label every few months keeps the text artists few on a long trend.
    step = max(1, len(months) // 12)
    ax.set_xticks(list(x)[::step], [m[0] for m in months][::step], fontsize=6)
    for axis in (ax, right):
        axis.tick_params(axis="y", labelsize=6)
        axis.spines["top"].set_visible(False)
    handles = [h for axis in (ax, right) for h in axis.get_legend_handles_labels()[0]]
    ax.legend(handles, ["Devices found", "Searches"], loc="upper left", fontsize=6, frameon=False, ncols=2)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
