"""CPU time and SQL statements of one warm dashboard request and of one 10-hide upload, in-process.

    .venv/bin/python benchmarks/cpu_per_request.py --database-url sqlite:////…/bench-200k.sqlite3
    cd ../old-checkout && .venv/bin/python /path/to/this/benchmarks/cpu_per_request.py --database-url …   # the other version

CPU time (`time.process_time`) rather than wall time: on a shared machine whose other tenants take the
cores, wall time measures them, while the CPU one request costs is what bounds requests per second on
two cores. The code measured is the checkout of the current directory (run it from each checkout in
turn, alternating). Uses an existing data set (benchmarks/run.py builds one) and removes the sessions
it uploaded.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.getcwd())  # the checkout being measured

from benchmarks.run import World, remove_uploads  # noqa: E402


def cpu_ms(fn, repeat: int) -> float:
    """Median CPU milliseconds of `fn` over `repeat` calls, after five warm-up calls."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return 1000 * statistics.median(samples)


def statements(world: World, fn) -> int:
    """The SQL statements one call of `fn` runs."""
    from sqlalchemy import event

    from esd.extensions import db
    with world.app.app_context():
        engine = db.engine
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--repeat", type=int, default=100)
    args = p.parse_args(argv)
    world = World(args.database_url)
    manager, funder = world.test_client("manager"), world.test_client("funder")
    program = f"/reports/dashboard?agency={world.agency_id}"
    token = {"X-CSRFToken": manager.get("/api/csrf-token").get_json()["csrf_token"]}
    start, counter = datetime.now(timezone.utc) - timedelta(hours=5), iter(range(10 ** 9))

    def get(client, path):
        return lambda: client.get(path).status_code == 200 or sys.exit(f"{path} failed")

    def upload():
        payload = world.session_payload(start + timedelta(seconds=next(counter)))
        if manager.post("/api/sessions", json=payload, headers=token).status_code != 201:
            sys.exit("upload failed")

    rows = [("warm program dashboard (manager)", get(manager, program)),
            ("warm funder dashboard", get(funder, "/reports/impact")),
            ("10-hide upload", upload)]
    try:
        for name, fn in rows:
            print(f"{name}: {cpu_ms(fn, args.repeat):.2f} ms CPU (median of {args.repeat}), "
                  f"{statements(world, fn)} statements", flush=True)
    finally:
        with world.app.app_context():
            remove_uploads(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
