"""The next view of a dashboard after an upload in another agency, under gunicorn: right after it
and 200 ms after it, beside the same view warm back to back and warm after a 200 ms pause with no
upload (each p50 of 30, interleaved).

    .venv/bin/python benchmarks/after_a_save.py --database-url sqlite:///…/bench-1000000.sqlite3

run.py's "after a save elsewhere ÷ warm" compares a view that follows an upload with views that
follow each other back to back; this separates what the save does to the view (nothing, if the
cache keeps this agency's entries warm) from what an idle moment does to any request on this machine.
Uses an existing data set (run.py builds one) and removes the sessions it uploaded.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Client, Server, base_env  # noqa: E402
from benchmarks.run import World, csrf_from_api, json_post, remove_uploads  # noqa: E402

# case: (an upload in another agency first?, seconds of pause before the view)
CASES = {"warm": (False, 0.0), "warm, after a 200 ms pause": (False, 0.2),
         "right after a save elsewhere": (True, 0.0), "200 ms after a save elsewhere": (True, 0.2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--views", type=int, default=30)
    args = p.parse_args(argv)
    world = World(args.database_url)
    with Server(base_env(args.database_url)) as server:
        manager, other = Client(server.port), Client(server.port)
        manager.login(world.manager, world.password)
        other.login(world.other_manager, world.password)
        token = csrf_from_api(other)
        path = f"/reports/dashboard?agency={world.agency_id}"
        for _ in range(20):
            manager.request("GET", path)
        start = datetime.now(timezone.utc) - timedelta(hours=8)
        seq = iter(range(10 ** 9))
        samples: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.views):
            for name, (save, pause) in CASES.items():
                if save:
                    status = json_post(other, "/api/sessions", world.session_payload(
                        start + timedelta(seconds=next(seq)), team=world.other_team), token)
                    assert status == 201, status
                time.sleep(pause)
                t0 = time.perf_counter()
                assert manager.request("GET", path)[0] == 200
                samples[name].append(time.perf_counter() - t0)
        shape = f"{server.workers} × {server.threads}"
    warm = statistics.median(samples["warm"])
    print(f"program dashboard, {world.hides} hides, {args.database_url.split(':', 1)[0]}, gunicorn {shape}:")
    for name, values in samples.items():
        p50 = statistics.median(values)
        print(f"  {name:30} p50 {p50 * 1000:6.2f} ms  ({p50 / warm:.2f}× warm)")
    print(f"removed the {remove_uploads(world)} sessions this run uploaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
