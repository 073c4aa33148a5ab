"""Chart and metric timings: aggregate queries, the cache key, each chart's drawing, cold and cached.

Run: `.venv/bin/python benchmarks/bench_charts.py [sessions]` builds a year of a busy program
(SQLite in a temporary folder, or DATABASE_URL for PostgreSQL) and times one agency;
`--database-url URL` times an existing data set instead (for example the 1M-hide seed), for
all its agencies over all time, the largest tables the charts draw.
Prints medians in milliseconds; drawing times are CPU time (steadier on a shared machine) next
to what the same tables took before the drawing work (tight_layout, a Text per label).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# CPU ms per PNG drawing before the fixed-margin, glyph-label drawing (commit 9bc84c6), on the
# 1M-hide seed, all agencies, all time: what the "before" column shows.
BEFORE_PNG_MS = {"device_type": 157, "hiding_spot": 165, "heatmap": 569, "trend": 294,
                 "impact_monthly": 792, "impact_finds": 87}


def median_ms(fn, repeat: int = 7, clock=time.perf_counter) -> float:
    samples = []
    for _ in range(repeat):
        started = clock()
        fn()
        samples.append((clock() - started) * 1000)
    return statistics.median(samples)


def build(sessions: int):
    """A year of one busy agency: 4 teams, `sessions` sessions of 6 hides, deployments."""
    from esd.extensions import db
    from esd.models import seed_vocabularies, terms
    from esd.reports import metrics
    from tests import helpers as h

    db.drop_all()
    db.create_all()
    seed_vocabularies()
    rng = random.Random(1)
    agency = h.make_agency(timezone="America/New_York")
    handlers = [h.make_handler(agency) for _ in range(4)]
    dogs = [h.make_dog(agency) for _ in range(4)]
    devices = [t.name for t in terms("device_type")]
    spots = [t.name for t in terms("hiding_spot")]
    start = datetime(2025, 1, 1, 14, tzinfo=timezone.utc)
    for n in range(sessions):
        i = n % 4
        hides = [{"device": rng.choice(devices), "spot": rng.choice(spots),
                  "outcome": "found" if rng.random() < 0.85 else "missed", "blind": rng.random() < 0.3}
                 for _ in range(6)]
        h.make_session(dogs[i], handlers[i], started_at=start + timedelta(hours=3 * n), hides=hides,
                       false_alerts=rng.randint(0, 1))
    for n in range(sessions // 10):
        h.make_deployment(dogs[n % 4], handlers[n % 4], started_at=start + timedelta(days=n % 365),
                          requesting_agency=f"Agency {n % 30}",
                          finds=[{"device": rng.choice(devices), "missed_by_human_search": rng.random() < 0.3}])
    db.session.commit()
    print(f"{sessions} sessions, {sessions * 6} hides, {sessions // 10} deployments ({db.engine.dialect.name})")
    return metrics.Filters(agency_ids=(agency.id,), tz=agency.timezone)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sessions", nargs="?", type=int, default=3000)
    parser.add_argument("--database-url", help="time an existing data set instead of building one")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(folder, "mpl"))
    from esd import create_app
    from esd.extensions import db
    from esd.reports import charts, metrics

    url = args.database_url or os.environ.get("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "CACHE_DIR": os.path.join(folder, "cache")})
    with app.app_context():
        if args.database_url:
            f = metrics.Filters(agency_ids=None)
            print(f"existing data set ({db.engine.dialect.name}), all agencies, all time")
        else:
            f = build(args.sessions)
        print(f"{'what':40} {'median ms':>10}")
        for label, fn in [
            ("find_rates by device type", lambda: metrics.find_rates(f)),
            ("device × spot matrix", lambda: metrics.device_spot_matrix(f)),
            ("monthly_training", lambda: metrics.monthly_training(f)),
            ("training_totals", lambda: metrics.training_totals(f)),
            ("deployment_impact", lambda: metrics.deployment_impact(f)),
            ("data_version (cache key)", lambda: charts.data_version(f)),
        ]:
            print(f"{label:40} {median_ms(fn, 3 if args.database_url else 7):10.1f}")

        print(f"\n{'chart':16} {'rows':>5} {'PNG before':>11} {'PNG now':>8} {'SVG now':>8} {'PNG kB':>7} "
              f"{'cold':>8} {'cached':>7}   (drawing: CPU ms; cold/cached: wall ms of chart_bytes)")
        for name, chart in charts.CHARTS.items():
            table = chart.table(f)
            png = median_ms(lambda: charts.render(table, "png"), 5, time.process_time)
            svg = median_ms(lambda: charts.render(table, "svg"), 3, time.process_time)
            size = len(charts.render(table, "png")) // 1024

            def cold(name=name):
                charts.clear_cache()
                charts.chart_bytes(name, "png", f)
            cold_ms = median_ms(cold, 3)
            charts.chart_bytes(name, "png", f)
            warm_ms = median_ms(lambda: charts.chart_bytes(name, "png", f))
            before = f"{BEFORE_PNG_MS[name]:11}" if args.database_url else f"{'–':>11}"
            print(f"{name:16} {len(table.rows):5} {before} {png:8.1f} {svg:8.1f} {size:7} {cold_ms:8.1f} {warm_ms:7.1f}")


if __name__ == "__main__":
    main()
