"""Two versions of the code side by side, in alternating in-process rounds on one data set.

    .venv/bin/python benchmarks/compare.py --before ../bench-before --database-url sqlite:///…/bench-1m.sqlite3 \\
        --rounds 3 --out benchmarks/runs/2026-12-01/compare-sqlite-1m.md

Runs benchmarks/inprocess.py for the `--before` checkout, then for this one, `--rounds` times
(before, after, before, after, …), as the manager (one agency) and as the funder (12 agencies),
over the dog page, every chart cold, both dashboards cold and warm; prints (and writes) a Markdown
table of each version's median of its rounds' medians, with the spread of the rounds, and the
machine's load average at the start and the end. On a shared machine whose speed drifts from one
minute to the next, only versions measured in alternation compare.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHARTS = ("device_type", "hiding_spot", "heatmap", "trend", "impact_monthly", "impact_finds")
PATHS = {
    "manager": ["/dogs/{dog}"] + [f"cold:/reports/charts/{c}.png?agency={{agency}}&end={{end}}" for c in CHARTS]
    + ["cold:/reports/dashboard?agency={agency}&end={end}", "/reports/dashboard?agency={agency}"],
    "funder": [f"cold:/reports/charts/{c}.png?end={{end}}" for c in CHARTS]
    + ["cold:/reports/impact?end={end}", "/reports/impact"],
}


def label(role: str, path: str) -> str:
    cold = path.startswith("cold:")
    path = path.removeprefix("cold:")
    if path.startswith("/dogs/"):
        return "dog page"
    if "/charts/" in path:
        name = path.split("/charts/")[1].split(".")[0]
        return f"chart {name} {'cold' if cold else 'warm'} ({role})"
    page = "program dashboard" if "dashboard" in path else "funder dashboard"
    return f"{page} {'cold' if cold else 'warm'}"


def one_run(code: Path, url: str, role: str, repeat: int) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "inprocess.py"), "--code", str(code), "--database-url", url,
                          "--as", role, "--repeat", str(repeat), *PATHS[role]],
                         capture_output=True, text=True, check=True, env=dict(os.environ)).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, required=True, help="the checkout of the code before")
    p.add_argument("--database-url", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=30, help="requests per warm path (cold: a tenth, at least 10)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    after = HERE.parent
    runs = {"before": [], "after": []}
    load = [os.getloadavg()]
    for r in range(args.rounds):
        for version, code in (("before", args.before), ("after", after)):
            merged = {}
            for role in PATHS:
                merged.update({label(role, k): v for k, v in one_run(code, args.database_url, role, args.repeat).items()})
            runs[version].append(merged)
            print(f"round {r + 1} {version}: {json.dumps(merged)}", file=sys.stderr, flush=True)
    load.append(os.getloadavg())
    lines = [f"in-process ms (median of {args.rounds} alternating rounds; min–max of the rounds), "
             f"{args.database_url.split(':')[0]}; load average at start {load[0][0]:.1f}, at end {load[1][0]:.1f}",
             "", "| in-process ms | before | after | after ÷ before |", "|---|---:|---:|---:|"]
    for name in runs["after"][0]:
        b = [run[name] for run in runs["before"] if name in run]
        a = [run[name] for run in runs["after"]]
        mb, ma = statistics.median(b), statistics.median(a)
        lines.append(f"| {name} | {mb:.1f} ({min(b):.0f}–{max(b):.0f}) | {ma:.1f} ({min(a):.0f}–{max(a):.0f}) "
                     f"| {ma / mb:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text + "\nraw rounds:\n" + json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
