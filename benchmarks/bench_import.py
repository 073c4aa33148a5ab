"""The import at size: dry run and confirm of N hides (with their sessions) from a CSV ZIP or an XLSX.

    .venv/bin/python benchmarks/bench_import.py --hides 100000
    .venv/bin/python benchmarks/bench_import.py --hides 100000 --format xlsx
    createdb -h 127.0.0.1 -U postgres esd_bench_import
    .venv/bin/python benchmarks/bench_import.py --hides 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/esd_bench_import

Builds the schema from the models in a scratch database (emptied), writes the file: the CSVs the
Exports ZIP holds (vocabulary, handlers, dogs, teams, sessions, hides: eight hides a session, 20
dogs of one agency over seven years) or one workbook with a sheet per kind. Then each phase runs
in a fresh process, through the services the command line uses (read_upload, plan, apply), so
its peak RSS is its own (VmHWM on Linux, else resource.getrusage):
- dry run: read and plan every row, write nothing;
- confirm: read and plan again (the command line and the web page plan before writing), write,
  commit;
- repeat: the same file again (a dry run that must find everything unchanged).
After the confirm it checks the audit chain (`flask esd audit verify`'s function) and the
rollups against a recomputation (`flask esd rollups check`'s), and prints both.
Figures are printed, never asserted: seconds of the wall clock, and the CPU seconds of the phase's
process (its own work, whatever else the machine runs; a database server's work is not in it).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENCY = "Bench import"
DOGS = 20
HIDES_PER_SESSION = 8
DEVICES = ("USB drive", "microSD card", "SIM card", "Hard drive", "Phone")
SPOTS = ("Desk drawer", "Bookshelf", "Vent", "Couch", "Kitchen", "Car", "Closet")


def tables(hides: int) -> dict[str, list[list]]:
    """The rows of each kind (header first), as the export names the columns."""
    sessions = -(-hides // HIDES_PER_SESSION)
    out = {"vocabulary": [["kind", "name"]] + [["device_type", d] for d in DEVICES]
           + [["hiding_spot", s] for s in SPOTS],
           "handlers": [["id", "name", "badge_number"]] + [[n, f"Handler {n}", f"B{n:04d}"] for n in range(1, DOGS + 1)],
           "dogs": [["id", "name", "call_sign", "microchip_id", "status"]]
           + [[n, f"Dog {n}", f"K9-{n}", f"98514100{n:07d}", "active"] for n in range(1, DOGS + 1)],
           "teams": [["id", "dog_id", "handler_id", "starts_on"]] + [[n, n, n, "2019-01-01"] for n in range(1, DOGS + 1)],
           "sessions": [["id", "started_at_utc", "dog_id", "handler_id", "duration_minutes", "purpose", "location"]],
           "hides": [["id", "session_id", "position", "device_type", "hiding_spot", "height", "outcome",
                      "seconds_to_find"]]}
    first = datetime(2019, 1, 2, 13, 0, tzinfo=timezone.utc)
    hide_id = 0
    for s in range(1, sessions + 1):
        dog = (s - 1) % DOGS + 1
        started = first + timedelta(hours=4 * ((s - 1) // DOGS), minutes=dog)
        out["sessions"].append([s, started.strftime("%Y-%m-%d %H:%M"), dog, dog, 45, "maintenance", "Training site"])
        for position in range(min(HIDES_PER_SESSION, hides - hide_id)):
            hide_id += 1
            found = hide_id % 7 != 0
            out["hides"].append([hide_id, s, position, DEVICES[hide_id % len(DEVICES)], SPOTS[hide_id % len(SPOTS)],
                                 "low", "found" if found else "missed", 30 + hide_id % 90 if found else None])
    return out


def write_zip(path: str, data: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, rows in data.items():
            text = io.StringIO()
            csv.writer(text).writerows(rows)
            archive.writestr(f"{kind}.csv", text.getvalue())


def write_xlsx(path: str, data: dict) -> None:
    """A workbook as Excel saves one: each sheet states its size (openpyxl's write-only mode does not, and
    a read-only reader then reads a whole sheet to find it each time the workbook is opened)."""
    import openpyxl
    book = openpyxl.Workbook()
    book.remove(book.active)
    for kind, rows in data.items():
        sheet = book.create_sheet(kind)
        for row in rows:
            sheet.append(row)
    book.save(path)


def peak_mb() -> float:
    """This process's peak RSS. Linux keeps getrusage's ru_maxrss across fork and exec (a phase would
    report the parent's peak, which built the file), so its own high-water mark VmHWM is read there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def phase(args) -> dict:
    """One phase in this process: its seconds, peak RSS and what it found."""
    from sqlalchemy import select

    from esd import audit_chain, create_app, rollups
    from esd.extensions import db
    from esd.imports.readers import read_upload
    from esd.imports.services import file_sha256, plan
    from esd.imports.writer import apply
    from esd.models import Agency

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench"})
    result: dict = {"phase": args.phase}
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.name == AGENCY)) or Agency(name=AGENCY, timezone="UTC")
        name = os.path.basename(args.file)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu_before"] = usage.ru_utime + usage.ru_stime
        started = time.perf_counter()
        the_plan = plan(read_upload(args.file, name), agency)
        result["plan_s"] = round(time.perf_counter() - started, 1)
        result["counts"] = {k: f"{v['create']}+ {v['update']}~ {v['same']}= {v['refused']}!"
                            for k, v in the_plan.counts().items()}
        result["problems"] = [str(p) for p in the_plan.problems[:3]]
        if args.phase == "confirm":
            apply(the_plan, None, name, file_sha256(args.file), os.path.getsize(args.file))
            db.session.commit()
        else:
            db.session.rollback()
        result["seconds"] = round(time.perf_counter() - started, 1)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu_s"] = round(usage.ru_utime + usage.ru_stime - result.pop("cpu_before"), 1)
        result["peak_mb"] = round(peak_mb())
        if args.phase == "confirm":
            t0 = time.perf_counter()
            chain = audit_chain.verify(db.session.connection())
            result["audit_verify"] = f"{'ok' if chain.ok else chain.problem} ({chain.count} entries, " \
                                     f"{time.perf_counter() - t0:.1f} s)"
            wrong = rollups.differences(db.session.connection())
            result["rollups"] = "match a recomputation" if not wrong else f"{len(wrong)} differences: {wrong[:2]}"
            db.session.rollback()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hides", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv",
                        help="csv: the Exports ZIP of CSV files; xlsx: one workbook, a sheet per kind")
    parser.add_argument("--database-url", default=None,
                        help="a scratch database, emptied (default: a SQLite file in a temporary folder)")
    parser.add_argument("--phase", choices=("dry-run", "confirm", "repeat"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args)))
        return

    work = tempfile.mkdtemp(prefix="bench_import_")
    url = args.database_url or f"sqlite:///{work}/bench.sqlite3"
    path = os.path.join(work, f"history.{'zip' if args.format == 'csv' else 'xlsx'}")
    t0 = time.perf_counter()
    (write_zip if args.format == "csv" else write_xlsx)(path, tables(args.hides))
    print(f"{args.hides:,} hides, {-(-args.hides // HIDES_PER_SESSION):,} sessions, {DOGS} dogs: {path} "
          f"({os.path.getsize(path) / 1e6:.1f} MB, written in {time.perf_counter() - t0:.1f} s)")

    from esd import create_app
    from esd.extensions import db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.commit()
        db.engine.dispose()
    print(f"database: {url.split('@')[-1]}")
    for name in ("dry-run", "confirm", "repeat"):
        out = subprocess.run([sys.executable, __file__, "--phase", name, "--file", path, "--database-url", url],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(out.stderr[-3000:])
            raise SystemExit(f"{name} failed")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:>8}: {r['seconds']:6.1f} s (reading and planning {r['plan_s']:.1f} s; CPU {r['cpu_s']:.1f} s), "
              f"peak RSS {r['peak_mb']} MB; "
              + ", ".join(f"{k} {v}" for k, v in r["counts"].items()))
        for p in r["problems"]:
            print(f"          refused: {p}")
        for key in ("audit_verify", "rollups"):
            if key in r:
                print(f"          {key.replace('_', ' ')}: {r[key]}")


if __name__ == "__main__":
    main()
