"""The report cache: a change in one agency leaves every other agency's figures cached; a key
asked by many at once is computed once; a bulk load shows once it bumps its agencies' versions."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timezone

from sqlalchemy import insert, select

from esd.extensions import db
from esd.models import Hide, TrainingSession
from esd.report_version import bump
from esd.rollups import rebuild
from esd.reports.cache import remember, report
from esd.reports.charts import CHARTS
from esd.reports.metrics import Filters
from tests.helpers import make_agency, make_dog, make_handler, make_session, term

PERIOD = dict(start=date(2026, 1, 1), end=date(2026, 3, 31))


def at(month, day):
    return datetime(2026, month, day, 15, 0, tzinfo=timezone.utc)


def agencies(*names):
    teams = []
    for name in names:
        agency = make_agency(name=name, timezone="UTC")
        dog, handler = make_dog(agency), make_handler(agency)
        make_session(dog, handler, started_at=at(1, 10), hides=[{"outcome": "found"}] * 3)
        teams.append((agency, dog, handler))
    db.session.commit()
    return teams


class Counted:
    """A report's computation that counts how often it ran."""

    def __init__(self, filters: Filters, seconds: float = 0):
        self.filters, self.seconds, self.runs = filters, seconds, 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            self.runs += 1
        time.sleep(self.seconds)
        return CHARTS["device_type"].table(self.filters)

    def ask(self):
        return report(("device-type rates",), self.filters, self)


def test_a_change_in_one_agency_leaves_another_agencys_figures_cached():
    (north, north_dog, north_handler), (south, *_) = agencies("North", "South")
    south_report = Counted(Filters(agency_ids=(south.id,), **PERIOD))
    north_report = Counted(Filters(agency_ids=(north.id,), **PERIOD))
    south_report.ask(), north_report.ask()
    make_session(north_dog, north_handler, started_at=at(2, 1), hides=[{"outcome": "missed"}])
    db.session.commit()
    south_report.ask()
    assert south_report.runs == 1  # still warm
    assert north_report.ask().rows != [] and north_report.runs == 2  # recomputed with the new session


def test_a_funders_figures_are_recomputed_only_after_a_change_in_a_granted_agency():
    (granted, g_dog, g_handler), (also, *_), (other, o_dog, o_handler) = agencies("Granted", "Also", "Other")
    funder_view = Counted(Filters(agency_ids=(granted.id, also.id), **PERIOD))
    first = funder_view.ask()
    make_session(o_dog, o_handler, started_at=at(2, 1), hides=[{"outcome": "missed"}] * 5)
    db.session.commit()
    assert funder_view.ask() == first and funder_view.runs == 1
    make_session(g_dog, g_handler, started_at=at(2, 1), hides=[{"outcome": "missed"}] * 5)
    db.session.commit()
    assert funder_view.ask() != first and funder_view.runs == 2


def test_rows_loaded_in_bulk_show_once_the_loader_bumps_their_agencies():
    (agency, dog, handler), = agencies("Bulk")
    filters = Filters(agency_ids=(agency.id,), **PERIOD)
    before = report(("table", "device_type"), filters, lambda: CHARTS["device_type"].table(filters))
    session_id = db.session.scalar(select(TrainingSession.id).where(TrainingSession.dog_id == dog.id))
    # Core inserts, as the scale seed and an import write: no ORM flush, so no version hook.
    db.session.execute(insert(Hide), [dict(session_id=session_id, position=10 + i, outcome="missed", blind=False,
                                           device_type_id=term("device_type", "Phone").id,
                                           hiding_spot_id=term("hiding_spot").id) for i in range(4)])
    rebuild(db.session.connection(), [agency.id])  # as the seed does after its bulk inserts
    bump(db.session, {agency.id})
    db.session.commit()
    after = report(("table", "device_type"), filters, lambda: CHARTS["device_type"].table(filters))
    assert after != before and "Phone" in after.csv()


def test_many_requests_missing_one_key_compute_it_once(app):
    threads, results = 8, []
    runs, lock = [0], threading.Lock()
    start = threading.Barrier(threads)

    def make():
        with lock:
            runs[0] += 1
        time.sleep(0.3)  # a slow cold dashboard: the others arrive while it is computed
        return {"figure": 42}

    def request():
        with app.app_context():
            start.wait()
            results.append(remember(("single flight", "one key"), make))

    workers = [threading.Thread(target=request) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert runs[0] == 1
    assert results == [{"figure": 42}] * threads


def test_worker_processes_missing_one_key_compute_it_once(app, tmp_path):
    """gunicorn's workers are processes sharing the file cache: one computes, the others wait for it."""
    import multiprocessing
    ran = tmp_path / "runs"

    def make():
        with open(ran, "a") as out:
            out.write("ran\n")
        time.sleep(0.3)  # a slow cold dashboard: the other workers arrive while it is computed
        return {"figure": 42}

    def worker(start, answers):
        with app.app_context():
            start.wait()
            answers.put(remember(("single flight", "processes"), make))

    context = multiprocessing.get_context("fork")
    start, answers = context.Barrier(4), context.Queue()
    workers = [context.Process(target=worker, args=(start, answers)) for _ in range(4)]
    for process in workers:
        process.start()
    got = [answers.get(timeout=20) for _ in workers]
    for process in workers:
        process.join(timeout=20)
    assert ran.read_text().splitlines() == ["ran"]
    assert got == [{"figure": 42}] * 4


def test_a_failed_computation_is_not_cached_and_the_next_request_computes_again():
    calls = []

    def failing():
        calls.append(1)
        raise RuntimeError("database went away")

    for _ in range(2):
        try:
            remember(("failing",), failing)
        except RuntimeError:
            pass
    assert len(calls) == 2
    assert remember(("failing",), lambda: "recovered") == "recovered"


def test_a_new_release_never_reads_what_an_older_one_cached(monkeypatch):
    """An entry outlives a deployment: a report object of an older shape, or a dashboard's HTML from
    an older template, must not be served by the new code. The release is part of every key."""
    (agency, _dog, _handler), = agencies("Release")
    filters = Filters(agency_ids=(agency.id,), **PERIOD)
    assert report(("body",), filters, lambda: "<p>older template</p>") == "<p>older template</p>"
    assert report(("body",), filters, lambda: "<p>not computed again</p>") == "<p>older template</p>"
    monkeypatch.setattr("esd.reports.cache.code_version", lambda: "the next release")
    assert report(("body",), filters, lambda: "<p>new template</p>") == "<p>new template</p>"


def test_the_release_digest_moves_with_any_change_of_code_or_template(tmp_path, monkeypatch):
    from esd.reports import cache
    (tmp_path / "esd").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "esd" / "a.py").write_text("X = 1\n")
    (tmp_path / "templates" / "page.html").write_text("<p>{{ x }}</p>\n")
    monkeypatch.setattr(cache, "CODE", ((tmp_path / "esd", "*.py"), (tmp_path / "templates", "*.html")))

    def digest():
        cache.code_version.cache_clear()
        return cache.code_version()
    try:
        first = digest()
        assert digest() == first  # the same files: the same keys, in every worker and on every host
        (tmp_path / "templates" / "page.html").write_text("<p>{{ x }}!</p>\n")
        second = digest()
        assert second != first
        (tmp_path / "esd" / "a.py").write_text("X = 2\n")
        assert digest() not in (first, second)
    finally:
        cache.code_version.cache_clear()  # the real code's digest again, for the tests after this one
