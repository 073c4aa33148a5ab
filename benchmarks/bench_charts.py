"""Chart and metric timings on a year of a busy program: aggregate queries, a first drawing, a cached one.

Run: `.venv/bin/python benchmarks/bench_charts.py [sessions]` (SQLite in a temporary folder,
or DATABASE_URL for PostgreSQL). Prints medians in milliseconds.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_ms(fn, repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main(sessions: int = 3000) -> None:
    folder = tempfile.mkdtemp()
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(folder, "mpl"))
    from esd import create_app
    from esd.extensions import db
    from esd.models import seed_vocabularies
    from esd.reports import charts, metrics
    from tests import helpers as h

    url = os.environ.get("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_vocabularies()
        rng = random.Random(1)
        agency = h.make_agency(timezone="America/New_York")
        handlers = [h.make_handler(agency) for _ in range(4)]
        dogs = [h.make_dog(agency) for _ in range(4)]
        from esd.models import terms
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
        f = metrics.Filters(agency_ids=(agency.id,), tz=agency.timezone)
        print(f"{sessions} sessions, {sessions * 6} hides, {sessions // 10} deployments ({db.engine.dialect.name})")
        print(f"{'what':40} {'median ms':>10}")
        for label, fn in [
            ("find_rates by device type", lambda: metrics.find_rates(f)),
            ("device × spot matrix", lambda: metrics.device_spot_matrix(f)),
            ("monthly_training (13 months)", lambda: metrics.monthly_training(f)),
            ("training_totals", lambda: metrics.training_totals(f)),
            ("deployment_impact", lambda: metrics.deployment_impact(f)),
            ("data_version (cache key)", lambda: charts.data_version(f)),
        ]:
            print(f"{label:40} {median_ms(fn):10.1f}")
        for name in ("device_type", "heatmap", "trend"):
            def cold(name=name):
                charts.clear_cache()
                charts.chart_bytes(name, "png", f)
            print(f"{'first drawing ' + name + ' (PNG)':40} {median_ms(cold, 5):10.1f}")
            charts.chart_bytes(name, "png", f)
            print(f"{'cached ' + name + ' (PNG)':40} {median_ms(lambda: charts.chart_bytes(name, 'png', f)):10.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
