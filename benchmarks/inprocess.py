"""Milliseconds a request, in-process (Flask test client), of some paths: for comparing two versions.

    .venv/bin/python benchmarks/inprocess.py --code /tmp/old-checkout --database-url sqlite:///…/bench-1000000.sqlite3 \\
        --as funder '/reports/impact' 'cold:/reports/charts/heatmap.png?end={end}'

On a shared machine whose speed drifts by half from one minute to the next (see the "machine
speed" that run.py prints), one gunicorn run of each version compares badly. Running this for two
checkouts in turn, several rounds (old, new, old, new, …), and taking the median of each, does.
`--code` is the checkout whose `esd` package is imported (default: this one); both read the same
database. Paths may name {dog}, {agency} (as run.py picks them) and {end}; a path prefixed `cold:`
gets an end date never asked before on every request, after the version's report cache is
emptied, so nothing cached serves it. Prints one JSON object: {path: median ms}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+")
    p.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    p.add_argument("--database-url", required=True)
    p.add_argument("--as", dest="role", choices=("manager", "funder"), default="manager")
    p.add_argument("--repeat", type=int, default=100, help="requests per warm path (cold: a tenth, at least 10)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    from benchmarks.harness import find_csrf_token
    from benchmarks.run import World
    from esd.reports import charts

    world = World(args.database_url)
    # Logged in here, not with World.test_client: an older checkout's World may not have it.
    client = world.app.test_client()
    token = find_csrf_token(client.get("/login").get_data())
    email = world.manager if args.role == "manager" else world.funder
    assert client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": world.password}).status_code == 302
    days = iter(range(1, 10 ** 5))
    result = {}
    for spec in args.paths:
        cold = spec.startswith("cold:")
        path = spec.removeprefix("cold:")

        def url():
            end = date.today() - timedelta(days=next(days) if cold else 0)
            return path.format(dog=world.dog_id, agency=world.agency_id, end=end)
        if cold:
            with world.app.app_context():
                charts.clear_cache()
        else:
            client.get(url())  # warm up
        samples = []
        for _ in range(max(10, args.repeat // 10) if cold else args.repeat):
            target = url()
            t0 = time.perf_counter()
            response = client.get(target)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, (target, response.status_code)
        result[spec] = round(statistics.median(samples) * 1000, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
