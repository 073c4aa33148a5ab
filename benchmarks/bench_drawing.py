"""CPU time of each chart's PNG drawing for fixed, made-up tables of the largest size the seed gives
(14 device types, 16 hiding spots, 60 months): no database, so two checkouts compare exactly.

    .venv/bin/python benchmarks/bench_drawing.py [chart …]       # in each checkout, alternating
    MONTHS=12 .venv/bin/python benchmarks/bench_drawing.py trend
    PROFILE=1 …  (pyinstrument profile)    SAVE=DIR …  (writes the PNGs to DIR)

Prints the median CPU milliseconds of 5 drawings per chart and the load average.
"""
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "esd-mpl"))
from esd.reports import charts
from esd.models.vocab import DEFAULT_VOCABULARIES as V
rng = random.Random(1)
def rate_rows(labels):
    rows = []
    for l in labels:
        n = rng.randint(50, 5000); f = int(n * rng.uniform(0.6, 0.97)); r = f / n
        rows.append([l, n, f, f"{100*r:.1f}", f"{100*r-3:.1f}", f"{min(100,100*r+3):.1f}"])
    return sorted(rows, key=lambda r: float(r[3]))
def months(k):
    out = []; y, m = 2021, 1
    for _ in range(k):
        out.append(f"{y}-{m:02d}"); m += 1
        if m > 12: y, m = y + 1, 1
    return out
T = {}
T["device_type"] = charts.ChartTable("device_type", "Find rate per device type", ["Device type"] + charts.RATE_COLUMNS, rate_rows(V["device_type"]))
T["hiding_spot"] = charts.ChartTable("hiding_spot", "Find rate per hiding spot", ["Hiding spot"] + charts.RATE_COLUMNS, rate_rows(V["hiding_spot"]))
rows = []
for d in V["device_type"]:
    for s in V["hiding_spot"]:
        if rng.random() < 0.85:
            n = rng.randint(3, 400); f = int(n * rng.uniform(0.5, 1)); rows.append([d, s, n, f, f"{100*f/n:.1f}", "", ""])
T["heatmap"] = charts.ChartTable("heatmap", "Find rate by device type × hiding spot", ["Device type", "Hiding spot"] + charts.RATE_COLUMNS, rows, meta={"devices": V["device_type"], "spots": V["hiding_spot"]})
K = int(os.environ.get("MONTHS", "60"))
T["trend"] = charts.ChartTable("trend", "Monthly trend: find rate and false alerts per 100 hides", [], [[m, 1000, 850, "85.0", "83.0", "87.0", 12, "1.2", "300.0"] for m in months(K)])
T["impact_monthly"] = charts.ChartTable("impact_monthly", "Deployments and devices found per month", [], [[m, rng.randint(5, 60), rng.randint(0, 40), rng.randint(0, 10), 3, 1] for m in months(K)])
T["impact_finds"] = charts.ChartTable("impact_finds", "What the finds achieved", [], [
    ["Searches where the dog found what the human search missed", 120, 900, "13.3"],
    ["Finds the human search had missed", 200, 1500, "13.3"], ["Finds that held evidence", 700, 1500, "46.7"],
    ["Finds with no evidence", 500, 1500, "33.3"], ["Finds awaiting the forensic exam", 300, 1500, "20.0"]])
only = sys.argv[1:] or list(T)
for fmt in ("png",):
    res = {}
    for name in only:
        charts.render(T[name], fmt)
        s = []
        for _ in range(5):
            t = time.process_time(); charts.render(T[name], fmt); s.append((time.process_time() - t) * 1000)
        res[name] = round(statistics.median(s), 1)
    print(fmt, res, "load", os.getloadavg()[0])
if os.environ.get("PROFILE"):
    from pyinstrument import Profiler
    p = Profiler(interval=0.0005); p.start()
    for _ in range(5):
        for name in only: charts.render(T[name], "png")
    p.stop(); print(p.output_text(unicode=False, color=False, show_all=False))
if os.environ.get("SAVE"):
    for name in only:
        open(os.path.join(os.environ["SAVE"], f"{name}.png"), "wb").write(charts.render(T[name], "png"))
