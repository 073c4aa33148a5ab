"""Benchmark ESD K9 Tracker at a given size, as it runs in production (gunicorn).

    .venv/bin/python benchmarks/run.py --hides 100000                      # SQLite
    .venv/bin/python benchmarks/run.py --hides 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/esd_bench       # PostgreSQL

Seeds the database with `flask esd seed-demo --hides N` (unless --reuse and it already holds
that many), starts gunicorn, and measures over many requests each: the dog page, a dog's session
list (first and last page), saving a 10-hide session (JSON upload), the status board, every
chart cold (filters never seen before, so nothing is cached) and warm, the program and funder
dashboards, twenty requests at the same moment for one cold dashboard (ApacheBench, `ab`, when it
is installed, `apt-get install apache2-utils`, else Python threads) and the reliability-record PDF. It times the raw SQL of each chart's aggregate on the
same database, two ways, each captured and re-run through the DB driver: the statements the
service runs (rollups for whole months), and the same aggregate computed from the raw rows
(sessions and hides, no rollups); it prints endpoint ÷ each. Then a load run: 20 concurrent
clients on the warm dashboard (wrk when it is installed, `apt-get install wrk`, else Python
threads), and 20 uploading sessions, checking that every acknowledged upload is stored once.
Prints a table and writes JSON to benchmarks/results/. Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (ROOT, Client, Server, Timing, add_shape_arguments, base_env,  # noqa: E402
                                find_csrf_token, flask, measure, print_table, write_json)

RESULTS = ROOT / "benchmarks" / "results"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hides", type=int, default=10_000, help="size of the data set (training hides)")
    p.add_argument("--database-url", default=None, help="default: a SQLite file under benchmarks/results/")
    p.add_argument("--requests", type=int, default=30, help="requests per endpoint")
    add_shape_arguments(p)
    p.add_argument("--clients", type=int, default=20, help="concurrent clients in the load run")
    p.add_argument("--load-seconds", type=float, default=10.0, help="duration of each load run")
    p.add_argument("--reuse", action="store_true", help="keep an existing data set of this size")
    p.add_argument("--json", type=Path, default=None, help="where to write the results")
    p.add_argument("--only", action="append", default=None, metavar="TEXT",
                   help="measure only the endpoints whose name contains TEXT (repeatable); "
                        "'load' for the load run, 'sql' for the raw SQL")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data set

def prepare_database(url: str, hides: int, reuse: bool) -> float | None:
    """Build the data set; return the seconds seeding took (None when reused)."""
    from sqlalchemy import create_engine, text
    env = base_env(url)
    if reuse and _hide_count(url) >= hides * 0.9:
        # A data set kept from an earlier version is brought to this code's schema (new columns,
        # the migrations' data changes) before it is measured.
        flask(["db", "upgrade"], env)
        print(f"reusing the data set at {url}")
        return None
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    flask(["db", "upgrade"], env)
    start = time.perf_counter()
    flask(["esd", "seed-demo", "--hides", str(hides)], env)
    return time.perf_counter() - start


def _hide_count(url: str) -> int:
    from sqlalchemy import create_engine, text
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM hide")).scalar())
    except Exception:
        return 0


# --------------------------------------------------------------------------- in-process look-ups

class World:
    """What the requests need, read from the seeded database in this process."""

    def __init__(self, url: str):
        from esd import create_app
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-secret"})
        self.uploaded: list[str] = []  # client UUIDs of every session this run sent
        with self.app.app_context():
            self._look_up()

    def _look_up(self):
        from sqlalchemy import func, select

        from esd.demo import DEMO_PASSWORD
        from esd.extensions import db
        from esd.models import Dog, Hide, TeamAssignment, TrainingSession, User, VocabularyTerm, funder_grants
        self.password = DEMO_PASSWORD
        # The busiest dog: the largest session list, the heaviest dog page and packet.
        self.dog_id, self.agency_id = db.session.execute(
            select(TrainingSession.dog_id, TrainingSession.agency_id)
            .group_by(TrainingSession.dog_id, TrainingSession.agency_id)
            .order_by(func.count().desc()).limit(1)).one()
        self.manager = db.session.scalar(select(User.email).where(
            User.role == "manager", User.agency_id == self.agency_id, User.active.is_(True)).order_by(User.id))
        self.funder = db.session.scalar(select(User.email).where(User.role == "funder").order_by(User.id))
        oldest = db.session.execute(
            select(TrainingSession.started_at, TrainingSession.id).where(TrainingSession.dog_id == self.dog_id)
            .order_by(TrainingSession.started_at, TrainingSession.id).offset(5).limit(1)).first()
        # A cursor just above the oldest sessions: the last page of the list.
        self.last_page_cursor = f"{oldest[0].strftime('%Y%m%dT%H%M%S%f')}_{oldest[1]}" if oldest else ""
        self.device_ids = list(db.session.scalars(select(VocabularyTerm.id).where(
            VocabularyTerm.kind == "device_type").limit(5)))
        self.spot_ids = list(db.session.scalars(select(VocabularyTerm.id).where(
            VocabularyTerm.kind == "hiding_spot").limit(5)))
        team = db.session.scalar(select(TeamAssignment).where(
            TeamAssignment.agency_id == self.agency_id, TeamAssignment.ends_on.is_(None)).order_by(TeamAssignment.id))
        self.upload_dog_id, self.upload_handler_id = team.dog_id, team.handler_id
        self.hides = db.session.scalar(select(func.count(Hide.id)))
        self.agency_dogs = db.session.scalar(select(func.count(Dog.id)).where(Dog.agency_id == self.agency_id))
        self.agency_hides = db.session.scalar(select(func.count(Hide.id)).join(TrainingSession).where(
            TrainingSession.agency_id == self.agency_id))
        # Another agency, granted to no funder: its uploads must leave this agency's and the funder's reports warm.
        granted = select(funder_grants.c.agency_id)
        elsewhere = db.session.scalar(select(TeamAssignment).join(User, User.agency_id == TeamAssignment.agency_id)
                                      .where(TeamAssignment.agency_id != self.agency_id,
                                             TeamAssignment.agency_id.not_in(granted),
                                             TeamAssignment.ends_on.is_(None), User.role == "manager",
                                             User.active.is_(True)).order_by(TeamAssignment.id))
        self.other_manager = db.session.scalar(select(User.email).where(
            User.role == "manager", User.agency_id == elsewhere.agency_id, User.active.is_(True)).order_by(User.id))
        self.other_team = (elsewhere.dog_id, elsewhere.handler_id)

    def session_payload(self, started_at: datetime, team: tuple[int, int] | None = None) -> dict:
        """A 10-hide session as the tablet sends it (by the measured agency's team, or `team`)."""
        hides = [{"device_type_id": self.device_ids[i % len(self.device_ids)],
                  "hiding_spot_id": self.spot_ids[i % len(self.spot_ids)], "height": "low",
                  "concealment": "concealed", "aid_set_minutes": 30, "blind": i % 2 == 0,
                  "outcome": "found" if i % 4 else "missed", "seconds_to_find": 40 + i} for i in range(10)]
        client_uuid = str(uuid.uuid4())
        self.uploaded.append(client_uuid)
        dog_id, handler_id = team or (self.upload_dog_id, self.upload_handler_id)
        return {"client_uuid": client_uuid, "dog_id": dog_id,
                "handler_id": handler_id, "started_at": started_at.isoformat(),
                "duration_minutes": 45, "purpose": "maintenance", "hides": hides,
                "false_alerts": [{"hiding_spot_id": self.spot_ids[0], "note": "benchmark"}]}

    def test_client(self, who: str = "manager"):
        """A Flask test client logged in as the manager (of the busiest dog's agency) or the funder."""
        email = self.manager if who == "manager" else self.funder
        client = self.app.test_client()
        token = find_csrf_token(client.get("/login").get_data())
        response = client.post("/login", data={"csrf_token": token, "email": email, "password": self.password})
        if response.status_code != 302:
            raise RuntimeError(f"could not log in as {email}: {response.status_code}")
        return client

    def chart_filters(self, who: str, end: date):
        """The filters a chart request of the manager (their agency) or the funder (all grants) gets."""
        from sqlalchemy import select

        from esd.extensions import db
        from esd.models import User
        from esd.reports import metrics
        email = self.manager if who == "manager" else self.funder
        user = db.session.scalar(select(User).where(User.email == email))
        return metrics.build_filters(user, agency_id=self.agency_id if who == "manager" else None, end=end)

    def raw_sql_seconds(self, what: str, who: str, ends: list[date], rows: bool = False) -> list[float]:
        """Time the SQL of a chart's (or a dashboard's) numbers, re-run through the driver without the app.

        `ends` are the end dates the cold requests asked for (each request a period never asked
        before), so endpoint ÷ SQL compares like with like: the same periods. The statements are
        captured while the numbers are computed for each period; with `rows`, the same aggregate
        read from the raw rows (`raw=True` in esd/reports/metrics.py: every session and hide of
        the period, no rollups), else the statements the service runs. One sample per end date.
        """
        from sqlalchemy import event

        from esd.extensions import db
        samples = []
        with self.app.app_context():
            engine = db.engine
            raw = engine.raw_connection()
            try:
                for end in ends:
                    statements = []

                    def capture(conn, cursor, statement, parameters, context, executemany):
                        statements.append((statement, parameters))
                    filters = self.chart_filters(who, end)
                    event.listen(engine, "before_cursor_execute", capture)
                    try:
                        numbers_of(what, filters, raw=rows)
                    finally:
                        event.remove(engine, "before_cursor_execute", capture)
                        db.session.rollback()
                    t0 = time.perf_counter()
                    cursor = raw.cursor()
                    for statement, parameters in statements:
                        cursor.execute(statement, parameters)
                        cursor.fetchall()
                    cursor.close()
                    samples.append(time.perf_counter() - t0)
            finally:
                raw.close()
        return samples


DASHBOARDS = {"program dashboard": ("device_type", "hiding_spot", "heatmap", "trend", "impact_monthly",
                                    "impact_finds"),
              "funder dashboard": ("impact_monthly", "impact_finds", "device_type", "hiding_spot", "heatmap",
                                   "trend")}


def baseline_of(name: str) -> tuple[str, str]:
    """(chart or dashboard, manager or funder) of a cold row's name."""
    if name.startswith("chart "):
        chart, _, who = name.removeprefix("chart ").partition(" cold (")
        return chart, who.rstrip(")")
    dashboard = name.split(" cold")[0]
    return dashboard, "funder" if dashboard.startswith("funder") else "manager"


def numbers_of(what: str, filters, raw: bool):
    """The numbers of a chart, or of a whole dashboard (its charts' tables and its figures)."""
    from esd.reports import charts, metrics
    if what in DASHBOARDS:
        out = [numbers_of(chart, filters, raw) for chart in DASHBOARDS[what]]
        on = min(filters.end or date.today(), date.today())
        return out + [metrics.training_totals(filters, raw=raw), metrics.deployment_impact(filters, raw=raw),
                      metrics.dogs_certified(filters, on=on)]
    return raw_rows_aggregate(what, filters) if raw else charts.CHARTS[what].table(filters)


def raw_rows_aggregate(chart: str, filters):
    """A chart's numbers computed from the raw rows only, as a service without rollups would."""
    from esd.reports import metrics
    if chart in ("device_type", "hiding_spot"):
        return metrics.find_rates(filters, by=chart, raw=True)
    if chart == "heatmap":
        return metrics.device_spot_matrix(filters, raw=True)
    if chart == "trend":
        return metrics.monthly_training(filters, raw=True)
    if chart == "impact_monthly":
        return metrics.monthly_impact(filters, raw=True)
    return metrics.deployment_impact(filters, raw=True)  # its evidence too


# --------------------------------------------------------------------------- the measurements

CHARTS = ("device_type", "hiding_spot", "heatmap", "trend", "impact_monthly", "impact_finds")


def json_post(client: Client, path: str, payload: dict, token: str) -> int:
    status, _, _ = client.request("POST", path, json.dumps(payload).encode(),
                                  {"Content-Type": "application/json", "X-CSRFToken": token,
                                   "Accept": "application/json"})
    return status


def csrf_from_api(client: Client) -> str:
    status, body, _ = client.request("GET", "/api/csrf-token")
    return json.loads(body)["csrf_token"]


def endpoint_timings(server: Server, world: World, n: int, wanted=lambda name: True,
                     cold_ends: dict | None = None) -> list[Timing]:
    """Time every endpoint; `cold_ends` gets, per cold row, the end dates its requests asked for."""
    manager = Client(server.port)
    manager.login(world.manager, world.password)
    funder = Client(server.port)
    funder.login(world.funder, world.password)
    timings = []
    cold_ends = {} if cold_ends is None else cold_ends

    def timed(name, fn, repeat=n, warm_up: str | None = None, client=manager):
        if wanted(name):
            if warm_up:
                client.request("GET", warm_up)
            timings.append(measure(name, fn, repeat))

    get = lambda client, path: (lambda: client.request("GET", path)[0])  # noqa: E731
    dog, agency = world.dog_id, world.agency_id
    timed("dog page", get(manager, f"/dogs/{dog}"))
    if wanted("dog page cold"):
        timings.append(dog_page_after_a_save(world, n, manager, f"/dogs/{dog}"))
    timed("session list, first page", get(manager, f"/dogs/{dog}/sessions"))
    timed("session list, last page", get(manager, f"/dogs/{dog}/sessions?after={world.last_page_cursor}"))
    timed("status board", get(manager, "/certifications"))
    token = csrf_from_api(manager)
    start = datetime.now(timezone.utc) - timedelta(days=1)
    counter = iter(range(10 ** 9))
    timed("save 10-hide session (JSON)", lambda: json_post(
        manager, "/api/sessions", world.session_payload(start + timedelta(seconds=next(counter))), token))
    today = date.today()
    days = iter(range(1, 10 ** 6))

    def cold(name, client, path):
        """A request for a period never asked before (a new end date), so nothing cached serves it."""
        def request():
            end = today - timedelta(days=next(days))
            cold_ends.setdefault(name, []).append(end)
            return client.request("GET", path.format(end=end))[0]
        return request

    for who, client, scope in (("manager", manager, f"agency={agency}&"), ("funder", funder, "")):
        for chart in CHARTS:
            timed(f"chart {chart} cold ({who})",
                  cold(f"chart {chart} cold ({who})", client, f"/reports/charts/{chart}.png?{scope}end={{end}}"),
                  client=client)
            warm = f"/reports/charts/{chart}.png?{scope}"
            timed(f"chart {chart} warm ({who})", get(client, warm), warm_up=warm, client=client)
    program = f"/reports/dashboard?agency={agency}"
    timed("program dashboard cold", cold("program dashboard cold", manager, program + "&end={end}"))
    timed("program dashboard warm", get(manager, program), warm_up=program)
    timed("funder dashboard cold", cold("funder dashboard cold", funder, "/reports/impact?end={end}"), client=funder)
    timed("funder dashboard warm", get(funder, "/reports/impact"), warm_up="/reports/impact", client=funder)
    if any(wanted(f"{who} dashboard after a save elsewhere") for who in ("program", "funder")):
        timings += [t for t in after_uploads_elsewhere(server, world, n, manager, funder, program) if wanted(t.name)]
    name = "program dashboard cold, 20 at once"
    if wanted(name):
        rounds = max(3, n // 6)
        ends = [today - timedelta(days=next(days)) for _ in range(rounds)]
        cold_ends[name] = ends
        timings.append(concurrent_cold(server, manager.cookies, [program + f"&end={end}" for end in ends], 20, name))
    timed("reliability-record PDF", get(manager, f"/dogs/{dog}/reliability-record.pdf"), max(3, n // 6))
    # Every dog side by side (the busiest agency): cold asks for a period (days) never asked before.
    periods = iter(range(91, 10 ** 6))
    timed("proficiency matrix cold", lambda: manager.request("GET", f"/proficiency?days={next(periods)}")[0])
    timed("proficiency matrix warm", get(manager, "/proficiency"), warm_up="/proficiency")
    timed("readiness gaps warm", get(manager, "/readiness"), warm_up="/readiness")
    from benchmarks.bench_impact_report import impact_report_timings  # the funders' report of every agency
    timings += impact_report_timings(server, world, n, wanted)
    return timings


def dog_page_after_a_save(world: World, n: int, manager: Client, path: str) -> Timing:
    """The dog page's next view after a session is saved in its agency (any of its dogs): every
    cached part of the page is then of an older version, so this is the page cold, as its handler
    sees it after an upload."""
    token = csrf_from_api(manager)
    start = datetime.now(timezone.utc) - timedelta(hours=5)
    timing = Timing("dog page cold (after a save in its agency)")
    for i in range(n):
        if json_post(manager, "/api/sessions", world.session_payload(start + timedelta(seconds=i)), token) != 201:
            timing.errors += 1
        t0 = time.perf_counter()
        if manager.request("GET", path)[0] != 200:
            timing.errors += 1
        timing.samples.append(time.perf_counter() - t0)
    return timing


def after_uploads_elsewhere(server: Server, world: World, n: int, manager: Client, funder: Client,
                            program: str) -> list[Timing]:
    """The next view of this agency's dashboard (and of the funder's) just after a session is saved
    in another agency that neither the manager nor the funder sees: it should be as fast as warm."""
    other = Client(server.port)
    other.login(world.other_manager, world.password)
    token = csrf_from_api(other)
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    counter = iter(range(10 ** 9))
    out = []
    for name, client, path in (("program dashboard after a save elsewhere", manager, program),
                               ("funder dashboard after a save elsewhere", funder, "/reports/impact")):
        client.request("GET", path)
        timing = Timing(name)
        for _ in range(n):
            status = json_post(other, "/api/sessions", world.session_payload(
                start + timedelta(seconds=next(counter)), team=world.other_team), token)
            if status not in (200, 201):
                timing.errors += 1
            t0 = time.perf_counter()
            if client.request("GET", path)[0] != 200:
                timing.errors += 1
            timing.samples.append(time.perf_counter() - t0)
        out.append(timing)
    return out


def concurrent_cold(server: Server, cookies: dict, paths: list[str], clients: int, name: str) -> Timing:
    """`clients` requests at the same moment for one cold page, once per path: each one's time.

    Sent by ApacheBench (`ab`, written in C; CI installs it) where it is installed: twenty Python
    threads in this process took a good share of the two cores the server needs and measured
    themselves. Measured on one server, 1M hides, SQLite: ab 1.07x one cold request, Python threads
    2.11x (pre-connected) and 2.12x (connecting after the start), while the server's own time per
    request (gunicorn's access log) was a p50 of 15 ms. Without ab, the Python threads.
    """
    ab = shutil.which("ab")
    if ab:
        return _concurrent_cold_ab(ab, server, cookies, paths, clients, name)
    timing = Timing(name)
    lock = threading.Lock()
    connections = []
    for _ in range(clients):
        client = Client(server.port)
        client.cookies = dict(cookies)
        client.request("GET", "/healthz")  # connected before the start
        connections.append(client)
    t_start = time.perf_counter()
    for path in paths:
        barrier = threading.Barrier(clients)

        def one(client):
            barrier.wait()
            t0 = time.perf_counter()
            status = client.request("GET", path)[0]
            with lock:
                timing.samples.append(time.perf_counter() - t0)
                timing.errors += status != 200
        threads = [threading.Thread(target=one, args=(c,)) for c in connections]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    timing.wall = time.perf_counter() - t_start
    return timing


def _concurrent_cold_ab(ab: str, server: Server, cookies: dict, paths: list[str], clients: int, name: str) -> Timing:
    """`concurrent_cold` by ApacheBench: `clients` connections opened at once, one request each."""
    timing = Timing(name)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for i, path in enumerate(paths):
            gnuplot = Path(folder) / f"{i}.tsv"  # one line per request; ttime (ms) is the fifth column
            out = subprocess.run([ab, "-q", "-n", str(clients), "-c", str(clients), "-C", cookie, "-g", str(gnuplot),
                                  f"http://127.0.0.1:{server.port}{path}"], capture_output=True, text=True, check=True).stdout
            lines = gnuplot.read_text().splitlines()[1:]
            timing.samples += [int(line.split("\t")[4]) / 1000 for line in lines]
            failed = re.search(r"Failed requests:\s+(\d+)", out)
            non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
            timing.errors += (int(failed.group(1)) if failed else 0) + (int(non_2xx.group(1)) if non_2xx else 0)
            timing.errors += clients - len(lines)
    timing.wall = time.perf_counter() - t_start
    return timing


def wrk_rps(server: Server, path: str, cookies: dict, clients: int, seconds: float) -> dict | None:
    """Requests/s of `clients` keep-alive connections on one path, from wrk (None when not installed).

    wrk is written in C: the load generator takes little of the two cores the server needs,
    where 20 Python client threads take a good share of one.
    """
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--latency",
                          "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{server.port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {"requests": requests, "errors": errors, "client": "wrk",
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": round(float(p50.group(1)) * scale[p50.group(2)], 2) if p50 else None}


def load_run(server: Server, world: World, clients: int, seconds: float) -> dict:
    """20 concurrent clients: warm dashboard throughput, then uploads checked for loss and doubles."""
    template = Client(server.port)
    template.login(world.manager, world.password)
    token = csrf_from_api(template)
    dashboard = f"/reports/dashboard?agency={world.agency_id}"
    template.request("GET", dashboard)
    results = {}

    results["dashboard"] = wrk_rps(server, dashboard, template.cookies, clients, seconds)
    if results["dashboard"] is None:  # no wrk: 20 Python threads
        ok, errors, wall = _threads(clients, seconds, lambda: _on_connection(
            server.port, template.cookies, lambda c: c.request("GET", dashboard)[0] == 200))
        results["dashboard"] = {"requests": ok + errors, "errors": errors, "rps": round(ok / wall, 1),
                                "client": "python"}
    results["uploads"] = upload_load(server.port, world, token, template.cookies, clients, seconds)
    return results


def _on_connection(port: int, cookies: dict, work):
    """A client of its own (keep-alive connection) with the logged-in session's cookies, for `work`."""
    client = Client(port)
    client.cookies = dict(cookies)
    return lambda: work(client)


def _threads(clients: int, seconds: float, make_worker) -> tuple[int, int, float]:
    """Run `clients` threads, each calling its worker (True: ok) until `seconds` are up."""
    counts, lock = {"ok": 0, "errors": 0}, threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop():
        work = make_worker()
        while time.perf_counter() < deadline:
            ok = work()
            with lock:
                counts["ok" if ok else "errors"] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts["ok"], counts["errors"], time.perf_counter() - t0


def upload_load(port: int, world: World, token: str, cookies: dict, clients: int, seconds: float) -> dict:
    """`clients` tablets uploading 10-hide sessions for `seconds`, every tenth sent twice (as a tablet
    does when the reply was lost); then every acknowledged upload must be stored exactly once."""
    acknowledged, lock = [], threading.Lock()
    base = datetime.now(timezone.utc) - timedelta(hours=2)
    seq = iter(range(10 ** 9))

    def upload(client: Client) -> bool:
        payload = world.session_payload(base + timedelta(milliseconds=next(seq)))
        if json_post(client, "/api/sessions", payload, token) not in (200, 201):
            return False
        with lock:
            acknowledged.append(payload["client_uuid"])
            again = len(acknowledged) % 10 == 0
        if again:
            json_post(client, "/api/sessions", payload, token)
        return True

    ok, errors, wall = _threads(clients, seconds, lambda: _on_connection(port, cookies, upload))
    stored = stored_counts(world, acknowledged)
    return {"acknowledged": len(acknowledged), "errors": errors, "rps": round(ok / wall, 1),
            "lost": sum(1 for u in acknowledged if u not in stored),
            "doubled": sum(1 for c in stored.values() if c > 1)}


def stored_counts(world: World, uuids: list[str]) -> dict[str, int]:
    """{client UUID: sessions stored under it} for these UUIDs."""
    from sqlalchemy import func, select

    from esd.extensions import db
    from esd.models import TrainingSession
    stored = {}
    with world.app.app_context():
        for i in range(0, len(uuids), 500):
            stored.update(db.session.execute(select(TrainingSession.client_uuid, func.count())
                                             .where(TrainingSession.client_uuid.in_(uuids[i:i + 500]))
                                             .group_by(TrainingSession.client_uuid)).all())
    return stored


def remove_uploads(world: World) -> int:
    """Delete the sessions this run uploaded, through the ORM so that the rollups follow: a data set
    kept for --reuse is measured as it was seeded, not with the last run's sessions piled into
    today (which the reports read from the raw rows)."""
    from sqlalchemy import select

    from esd.extensions import db
    from esd.models import TrainingSession
    removed = 0
    with world.app.app_context():
        for i in range(0, len(world.uploaded), 200):
            for session in db.session.scalars(select(TrainingSession).where(
                    TrainingSession.client_uuid.in_(world.uploaded[i:i + 200]))):
                db.session.delete(session)
                removed += 1
            db.session.commit()
    return removed


def python_speed_ms() -> float:
    """Milliseconds this machine takes for 10 million additions in a Python loop (median of 3):
    figures from machines (or days) of different speed compare through it."""
    samples = []
    for _ in range(3):
        t0, total = time.perf_counter(), 0
        for i in range(10_000_000):
            total += i
        samples.append(time.perf_counter() - t0)
    return round(statistics.median(samples) * 1000)


def main(argv=None) -> int:
    args = parse_args(argv)
    speed = python_speed_ms()
    print(f"machine speed: {speed} ms for 10 million additions in Python (lower is faster)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{RESULTS / f'bench-{args.hides}.sqlite3'}"
    dialect = url.split(":", 1)[0]
    seed_seconds = prepare_database(url, args.hides, args.reuse)
    world = World(url)
    print(f"data set: {world.hides} hides on {dialect}" +
          (f", seeded in {seed_seconds:.1f} s" if seed_seconds else "") +
          f"; the measured agency: {world.agency_dogs} dogs, {world.agency_hides} hides")
    wanted = (lambda name: any(text in name for text in args.only)) if args.only else (lambda name: True)
    env = base_env(url)
    cold_ends: dict[str, list[date]] = {}
    with Server(env, workers=args.workers, threads=args.threads) as server:
        timings = endpoint_timings(server, world, args.requests, wanted, cold_ends)
        load = load_run(server, world, args.clients, args.load_seconds) if wanted("load") else None
        rss = server.worker_rss_mb()
        workers, threads = server.workers, server.threads
    print(f"removed the {remove_uploads(world)} sessions this run uploaded")
    rows = [t.row() for t in timings]
    if wanted("sql") or not args.only:
        # The SQL baselines, timed once the server has stopped, for the periods the cold requests asked.
        for row in rows:
            ends = cold_ends.get(row["name"])
            if not ends:
                continue
            what, who = baseline_of(row["name"])
            sql = statistics.median(world.raw_sql_seconds(what, who, ends[:10])) * 1000
            # Raw rows: up to three of the periods (first, middle, last): at 1M hides each takes seconds.
            picks = sorted({0, len(ends) // 2, len(ends) - 1})
            rows_sql = statistics.median(world.raw_sql_seconds(what, who, [ends[i] for i in picks], rows=True)) * 1000
            row["sql_ms"] = round(sql, 2)
            row["x_sql"] = round(row["p50_ms"] / sql, 1) if sql else None
            row["raw_rows_sql_ms"] = round(rows_sql, 1)
            row["x_raw_rows_sql"] = round(row["p50_ms"] / rows_sql, 2) if rows_sql else None
    print()
    print(f"== {world.hides} hides, {dialect}, gunicorn {workers} workers × {threads} threads ==")
    print_table(rows, extra=("sql_ms", "x_sql", "raw_rows_sql_ms", "x_raw_rows_sql"))
    if load:
        print(f"\nload, {args.clients} clients, {args.load_seconds:.0f} s each:")
        d = load["dashboard"]
        print(f"  warm dashboard: {d['rps']} requests/s, {d['errors']} errors ({d['client']} client)")
        u = load["uploads"]
        print(f"  session uploads: {u['rps']} uploads/s, {u['acknowledged']} acknowledged, {u['errors']} errors, "
              f"{u['lost']} lost, {u['doubled']} doubled")
    print(f"  gunicorn worker RSS: {', '.join(f'{m:.0f} MB' for m in rss)}")
    payload = {"hides": world.hides, "dialect": dialect, "seed_seconds": seed_seconds,
               "workers": workers, "threads": threads, "endpoints": rows, "load": load,
               "worker_rss_mb": rss, "python_speed_ms": speed,
               "measured_at": datetime.now(timezone.utc).isoformat()}
    write_json(args.json or RESULTS / f"bench-{dialect}-{world.hides}.json", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
