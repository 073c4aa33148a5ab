"""Profile endpoints in-process with pyinstrument, on a benchmark data set.

    .venv/bin/python benchmarks/profile.py --hides 1000000 /dogs/{dog} /dogs/{dog}/sessions
    .venv/bin/python benchmarks/profile.py --database-url postgresql://…/esd_bench --as funder /reports/impact

Paths may name `{dog}` (the busiest dog, as benchmarks/run.py picks it) and `{agency}` (its agency).
The request runs through the whole Flask stack (login, scoping, CSRF, templates) with the test
client, logged in as the agency's manager (or `--as funder`). Each path is requested once to warm
up, then `--repeat` times under the profiler; the text profile is printed and the HTML one is
written to benchmarks/results/profile-<name>.html. Build the data set first with run.py (or
`flask esd seed-demo --hides N` into the same database).
"""
from __future__ import annotations

import argparse
import statistics
import time
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import RESULTS, World  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="URL paths; {dog} and {agency} are filled in")
    p.add_argument("--hides", type=int, default=10_000, help="the SQLite data set run.py built for this size")
    p.add_argument("--database-url", default=None)
    p.add_argument("--as", dest="role", choices=("manager", "funder"), default="manager")
    p.add_argument("--repeat", type=int, default=20, help="requests per path under the profiler")
    p.add_argument("--cold", action="store_true",
                   help="empty the report cache before each request (profile the cold path)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    from pyinstrument import Profiler

    args = parse_args(argv)
    url = args.database_url or f"sqlite:///{RESULTS / f'bench-{args.hides}.sqlite3'}"
    world = World(url)
    app = world.app
    client = world.test_client(args.role)
    for template in args.paths:
        path = template.format(dog=world.dog_id, agency=world.agency_id)
        first = client.get(path)
        if first.status_code != 200:
            print(f"{path}: {first.status_code}", file=sys.stderr)
            return 1
        # The same requests unprofiled first: the profiler itself adds about half again.
        plain = []
        for _ in range(args.repeat):
            if args.cold:
                _empty_cache(app)
            t0 = time.perf_counter()
            client.get(path)
            plain.append(time.perf_counter() - t0)
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(args.repeat):
                if args.cold:
                    _empty_cache(app)
                client.get(path)
        print(f"\n===== {path} × {args.repeat} ({url.split(':', 1)[0]}, {world.hides} hides): "
              f"{statistics.median(plain) * 1000:.2f} ms a request (median, unprofiled, in-process) =====")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root"
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"profile-{name}.html").write_text(profiler.output_html())
    return 0


def _empty_cache(app) -> None:
    """Forget cached drawings and numbers, whichever cache the app uses."""
    from esd.reports import charts
    with app.app_context():
        charts.clear_cache()


if __name__ == "__main__":
    sys.exit(main())
