"""One page's p50 cold (the report cache emptied before each request) and warm, in-process, with its
CPU time and statements.

    .venv/bin/python benchmarks/cold_and_warm.py --database-url sqlite:///…/bench-1m.sqlite3 '/dogs/{dog}'
    .venv/bin/python benchmarks/cold_and_warm.py --database-url postgresql://…/esd_bench --as funder '/reports/impact'

Run from the checkout to measure (its `esd` is imported): two checkouts in turn compare versions on one
data set. `{dog}` and `{agency}` are the busiest dog and its agency, as benchmarks/run.py picks them.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path")
    p.add_argument("--database-url", required=True)
    p.add_argument("--as", dest="role", choices=("manager", "funder"), default="manager")
    p.add_argument("--repeat", type=int, default=21)
    args = p.parse_args(argv)
    from sqlalchemy import event

    from benchmarks.run import World
    from esd.extensions import db
    from esd.reports import cache as report_cache
    world = World(args.database_url)
    client = world.test_client(args.role)
    with world.app.app_context():
        engine = db.engine
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    path = args.path.format(dog=world.dog_id, agency=world.agency_id)
    client.get(path)
    for mode in ("cold", "warm"):
        times, cpu, counts = [], [], []
        for _ in range(args.repeat):
            if mode == "cold":
                with world.app.app_context():
                    report_cache.clear()
            statements[0] = 0
            t0, c0 = time.perf_counter(), time.process_time()
            status = client.get(path).status_code
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            counts.append(statements[0])
            assert status == 200, status
        # The CPU time is this process's alone (the app's, not the database server's): on a shared
        # machine it moves less than the wall time, which other tenants' load stretches.
        print(f"{path} {mode}: p50 {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
              f"CPU p50 {statistics.median(cpu) * 1000:.1f} ms, {statistics.median(counts)} statements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
