"""The funders' impact report for a funder granted every agency (62 at the national scale), cold and warm.

Part of `benchmarks/run.py` (rows "impact report …"); alone:

    .venv/bin/python benchmarks/bench_impact_report.py --hides 100000 [--database-url URL] [--reuse]

seeds (or reuses) the data set like run.py, adds a funder granted every agency, starts gunicorn
and times: the report page cold (a period never asked before, so nothing is cached: three periods'
figures, the per-agency table, the regions), warm (the same page again), the PDF (A4) and the CSV.
Targets: ≤ 2 s cold, ≤ 50 ms warm at 1M hides.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Client, Timing, measure  # noqa: E402

NATIONAL_FUNDER = "national.funder@demo.example.org"


def national_funder(world) -> tuple[str, int]:
    """A funder granted every agency (made once in the benchmark's database); its e-mail and the agency count."""
    from sqlalchemy import select

    from esd.auth.passwords import hash_password
    from esd.extensions import db
    from esd.models import Agency, User
    with world.app.app_context():
        agencies = list(db.session.scalars(select(Agency).where(Agency.archived_at.is_(None))))
        user = db.session.scalar(select(User).where(User.email == NATIONAL_FUNDER))
        if user is None:
            user = User(email=NATIONAL_FUNDER, name="National Funder", role="funder", fiscal_year_start=7,
                        password_hash=hash_password(world.password), session_version=1, failed_logins=0)
            db.session.add(user)
        user.granted_agencies = agencies
        db.session.commit()
        return NATIONAL_FUNDER, len(agencies)


def impact_report_timings(server, world, n: int, wanted=lambda name: True) -> list[Timing]:
    """Time the impact report of a funder granted every agency: cold, warm, PDF and CSV."""
    names = ("impact report cold", "impact report warm", "impact report PDF", "impact report CSV")
    if not any(wanted(name) for name in names):
        return []
    email, count = national_funder(world)
    client = Client(server.port)
    client.login(email, world.password)
    suffix = f" ({count} agencies)"
    days = iter(range(1, 10 ** 6))
    today = date.today()  # noqa: DTZ011 - the benchmark's own clock, not the app's

    def cold():
        end = today - timedelta(days=next(days))
        return client.request("GET", f"/reports/impact?start={end - timedelta(days=89)}&end={end}")[0]

    def get(path):
        return lambda: client.request("GET", path)[0]
    timings = []
    quarter = "/reports/impact?preset=last_quarter&year=fiscal"
    for name, fn, repeat, warm_up in (
            ("impact report cold", cold, n, None),
            ("impact report warm", get(quarter), n, quarter),
            ("impact report PDF", get("/reports/impact.pdf?paper=a4&preset=last_quarter&year=fiscal"), max(3, n // 3), quarter),
            ("impact report CSV", get("/reports/impact.csv?preset=last_quarter&year=fiscal"), n, quarter)):
        if wanted(name):
            if warm_up:
                client.request("GET", warm_up)
            timings.append(measure(name + suffix, fn, repeat))
    withdraw_grants(world)
    return timings


def withdraw_grants(world) -> None:
    """Leave the data set as it was: run.py measures uploads in an agency no funder is granted."""
    from sqlalchemy import select

    from esd.extensions import db
    from esd.models import User
    with world.app.app_context():
        user = db.session.scalar(select(User).where(User.email == NATIONAL_FUNDER))
        user.granted_agencies = []
        db.session.commit()


def main(argv=None) -> int:
    from benchmarks.harness import base_env, print_table
    from benchmarks.harness import Server, add_shape_arguments
    from benchmarks.run import RESULTS, World, prepare_database
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hides", type=int, default=10_000)
    p.add_argument("--database-url", default=None)
    p.add_argument("--requests", type=int, default=20)
    add_shape_arguments(p)
    p.add_argument("--reuse", action="store_true")
    args = p.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{RESULTS / f'bench-{args.hides}.sqlite3'}"
    prepare_database(url, args.hides, args.reuse)
    world = World(url)
    with Server(base_env(url), workers=args.workers, threads=args.threads) as server:
        rows = [t.row() for t in impact_report_timings(server, world, args.requests)]
    print(f"\n== impact report, {world.hides} hides, {url.split(':', 1)[0]} ==")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
