"""Session uploads only: statements per upload, single-upload latency and the 20-client load.

    .venv/bin/python benchmarks/bench_uploads.py --database-url sqlite:////tmp/up/bench.sqlite3
    .venv/bin/python benchmarks/bench_uploads.py --database-url postgresql://postgres@127.0.0.1:5432/esd_up

Uses an existing data set (build it with run.py or `flask esd seed-demo`) and removes the
sessions it uploaded at the end.
Counts the SQL statements of one 10-hide upload in-process and, on PostgreSQL, how long an
upload holds the audit chain's lock (what no other upload can run alongside), then starts
gunicorn as run.py does (gunicorn.conf.py and its workers and threads), times single uploads one
after another, and lets
20 clients upload for --seconds (every tenth upload re-sent, as run.py's load run does),
checking that every acknowledged upload is stored exactly once.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Client, Server, add_shape_arguments, base_env, measure  # noqa: E402
from benchmarks.run import World, csrf_from_api, json_post, remove_uploads, upload_load  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    add_shape_arguments(p)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--single", type=int, default=50, help="single uploads timed one after another")
    return p.parse_args(argv)


def statements_per_upload(world: World) -> int:
    """The SQL statements (executemany counted once) of one upload, through the Flask stack."""
    from sqlalchemy import event

    from esd.extensions import db
    client = world.test_client()
    headers = {"X-CSRFToken": client.get("/api/csrf-token").get_json()["csrf_token"]}
    started = datetime.now(timezone.utc) - timedelta(hours=3)
    client.post("/api/sessions", json=world.session_payload(started), headers=headers)  # warm up
    seen = []
    with world.app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        status = client.post("/api/sessions", json=world.session_payload(started), headers=headers).status_code
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert status == 201, status
    return len(seen)


def chain_held_ms(world: World, uploads: int = 60) -> float | None:
    """Median milliseconds an upload holds the audit chain's PostgreSQL lock (from the lock statement
    to the end of the commit), one upload at a time in-process; None on SQLite."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from esd.extensions import db
    with world.app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return None
    client = world.test_client()
    headers = {"X-CSRFToken": client.get("/api/csrf-token").get_json()["csrf_token"]}
    marks, held = {}, []

    def locked(conn, cursor, statement, *args):
        if "pg_advisory_xact_lock" in statement:
            marks["locked"] = time.perf_counter()

    def committed(session):
        marks["committed"] = time.perf_counter()

    event.listen(engine, "before_cursor_execute", locked)
    event.listen(Session, "after_commit", committed)
    started = datetime.now(timezone.utc) - timedelta(hours=5)
    try:
        for i in range(uploads + 5):  # five to warm up
            marks.clear()
            payload = world.session_payload(started + timedelta(seconds=i))
            assert client.post("/api/sessions", json=payload, headers=headers).status_code == 201
            if i >= 5:
                held.append(marks["committed"] - marks["locked"])
    finally:
        event.remove(engine, "before_cursor_execute", locked)
        event.remove(Session, "after_commit", committed)
    return 1000 * statistics.median(held)


def main(argv=None) -> int:
    args = parse_args(argv)
    world = World(args.database_url)
    print(f"{world.hides} hides on {args.database_url.split(':', 1)[0]}")
    print(f"statements per 10-hide upload: {statements_per_upload(world)}")
    held = chain_held_ms(world)
    if held is not None:
        print(f"audit chain's lock held per upload (one at a time, in-process): median {held:.1f} ms")
    with Server(base_env(args.database_url), workers=args.workers, threads=args.threads) as server:
        shape = f"{server.workers}×{server.threads}"
        client = Client(server.port)
        client.login(world.manager, world.password)
        token = csrf_from_api(client)
        start = datetime.now(timezone.utc) - timedelta(hours=4)
        counter = iter(range(10 ** 9))
        single = measure("single upload", lambda: json_post(
            client, "/api/sessions", world.session_payload(start + timedelta(seconds=next(counter))), token),
            args.single)
        ms = sorted(s * 1000 for s in single.samples)
        print(f"single upload: p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, "
              f"{single.errors} errors")
        load = upload_load(server.port, world, token, client.cookies, args.clients, args.seconds)
    print(f"{args.clients} clients, {args.seconds:.0f} s, gunicorn {shape}: "
          f"{load['rps']} uploads/s, {load['acknowledged']} acknowledged, {load['errors']} errors, "
          f"{load['lost']} lost, {load['doubled']} doubled")
    print(f"removed the {remove_uploads(world)} sessions this run uploaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
