"""The audit chain at size: append cost and `verify` time over N entries in a scratch database.

    .venv/bin/python benchmarks/bench_audit_chain.py --entries 1000000 \\
        --database-url sqlite:////tmp/chain.sqlite3
    .venv/bin/python benchmarks/bench_audit_chain.py --entries 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/esd_chain_scratch

Builds the schema from the models in the (scratch, emptied) database, bulk-inserts N chained
entries, then times: one audited write committed at a time (a dog's breed changed: the row, its
entry, the chain's lock and head), the chain's own part of it (lock, head read by the primary key,
hashing), and `verify` over the whole chain. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--database-url", required=True, help="a scratch database: it is emptied")
    parser.add_argument("--reuse", action="store_true", help="keep the entries already there (a second run)")
    args = parser.parse_args()

    from sqlalchemy import insert

    from esd import audit_chain, create_app
    from esd.extensions import db
    from esd.models import Agency, AuditEntry, Dog

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        if not args.reuse:
            db.drop_all()
            db.create_all()
        dog = db.session.query(Dog).filter_by(name="Rex").first()
        if dog is None:
            agency = Agency(name="Bench", timezone="UTC")
            dog = Dog(agency=agency, name="Rex", status="active")
            db.session.add_all([agency, dog])
            db.session.commit()
        agency = dog.agency
        existing = db.session.query(AuditEntry).count()

        started = time.perf_counter()
        head, batch, start_at = audit_chain.read_head(db.session.connection()), [], datetime(2020, 1, 1, tzinfo=timezone.utc)
        connection = db.session.connection()
        for n in range(args.entries - existing):
            row = {"at": start_at + timedelta(seconds=n), "user_id": None, "agency_id": agency.id, "ip": None,
                   "entity": "hide", "entity_id": n, "action": "update",
                   "changes": {"outcome": ["missed", "found"]}, "reason": "corrected after review"}
            row["prev_hash"] = head
            row["hash"] = head = audit_chain.entry_hash(row, head)
            batch.append(row)
            if len(batch) == 10_000:
                connection.execute(insert(AuditEntry), batch)
                batch = []
        if batch:
            connection.execute(insert(AuditEntry), batch)
        db.session.commit()
        print(f"bulk insert of {max(0, args.entries - existing):,} chained entries: {time.perf_counter() - started:.1f} s")

        chain_part, whole = [], []
        for n in range(args.writes):
            t0 = time.perf_counter()
            audit_chain.start(db.session)  # the lock and the head: what the chain adds to a write
            t1 = time.perf_counter()
            dog.breed = f"Breed {n}"
            db.session.commit()
            t2 = time.perf_counter()
            chain_part.append(t1 - t0)
            whole.append(t2 - t0)
        hash_cost = _time_hashing(audit_chain)
        print(f"per write at {args.entries:,} entries ({args.writes} writes): lock + head read "
              f"median {1000 * statistics.median(chain_part):.3f} ms, p95 {1000 * _p95(chain_part):.3f} ms; "
              f"hashing {1000 * hash_cost:.3f} ms; whole audited write committed "
              f"median {1000 * statistics.median(whole):.2f} ms")

        count = db.session.query(AuditEntry).count()
        started, cpu = time.perf_counter(), time.process_time()
        result = audit_chain.verify(db.session.connection())
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        db.session.rollback()
        print(f"verify: {result.count:,} of {count:,} entries in {elapsed:.1f} s ({cpu:.1f} s of CPU) "
              f"({'intact' if result.ok else result.problem}), head {result.head}")


def _time_hashing(audit_chain) -> float:
    row = {"at": datetime.now(timezone.utc), "user_id": 1, "agency_id": 1, "ip": "10.0.0.1", "entity": "dog",
           "entity_id": 1, "action": "update", "changes": {"breed": ["Lab", "Labrador"]}, "reason": None}
    started = time.perf_counter()
    for _ in range(1000):
        audit_chain.entry_hash(row, audit_chain.GENESIS)
    return (time.perf_counter() - started) / 1000


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


if __name__ == "__main__":
    main()
