"""Put the JSON results of several benchmark runs side by side, as a Markdown table of p50 (ms).

    .venv/bin/python benchmarks/summary.py benchmarks/results/bench-sqlite-*.json benchmarks/results/bench-postgresql-*.json

One column per run (dialect and size), one row per endpoint; the load run, worker memory and
seeding time follow. A cold chart's cell reads "p50 [r× R; s× S]": R ms is the same aggregate
computed from the raw rows (no rollups), S ms the SQL the endpoint runs (rollups), r and s the
endpoint's p50 divided by each.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def label(run: dict) -> str:
    size = run["hides"]
    size = f"{size / 1e6:g}M" if size >= 1e6 else f"{size / 1e3:g}k"
    return f"{run['dialect']} {size}"


def main(paths: list[str]) -> int:
    runs = sorted((json.loads(Path(p).read_text()) for p in paths),
                  key=lambda r: (r["dialect"] != "sqlite", r["hides"]))
    if not runs:
        print(__doc__)
        return 1
    # Every run's rows, in the order they were measured (a newer run may have measured more).
    names = list(dict.fromkeys(row["name"] for run in runs for row in run["endpoints"]))
    by_run = [{row["name"]: row for row in run["endpoints"]} for run in runs]
    print("| p50 ms | " + " | ".join(label(r) for r in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for name in names:
        cells = []
        for rows in by_run:
            row = rows.get(name)
            if row is None:
                cells.append("")
                continue
            cell = f"{row['p50_ms']:.1f}"
            if row.get("x_raw_rows_sql"):
                cell += (f" [{row['x_raw_rows_sql']:.2g}× {row['raw_rows_sql_ms']:.1f}; "
                         f"{row['x_sql']:.0f}× {row['sql_ms']:.1f}]")
            elif row.get("x_raw_sql"):  # runs before the raw-rows column
                cell += f" [{row['x_raw_sql']:.0f}× {row['raw_sql_ms']:.1f}]"
            if row.get("errors"):
                cell += f" **{row['errors']} errors**"
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")
    load = lambda r, k, f: (r.get("load") or {}).get(k, {}).get(f, "–")  # noqa: E731
    print("| warm dashboard, 20 clients (requests/s) | "
          + " | ".join(f"{load(r, 'dashboard', 'rps')} ({load(r, 'dashboard', 'client')})" for r in runs) + " |")
    print("| session uploads, 20 clients (uploads/s; lost/doubled) | " + " | ".join(
        f"{load(r, 'uploads', 'rps')} ({load(r, 'uploads', 'lost')}/{load(r, 'uploads', 'doubled')})"
        for r in runs) + " |")
    print("| gunicorn worker RSS (MB) | "
          + " | ".join("/".join(f"{m:.0f}" for m in r["worker_rss_mb"]) for r in runs) + " |")
    print("| machine speed (ms for 10M Python additions) | "
          + " | ".join(str(r.get("python_speed_ms", "–")) for r in runs) + " |")
    print("| seeding (s) | " + " | ".join(f"{r['seed_seconds']:.0f}" if r.get("seed_seconds") else "reused"
                                         for r in runs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
