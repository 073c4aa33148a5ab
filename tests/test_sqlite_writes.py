"""Write transactions one at a time (esd/sqlite_writes.py): concurrent edits of one session keep
the reports right, a failed or abandoned write lets the next writer go at once, readers never
wait for a writer, and the lock is re-entrant in a thread and excludes other processes."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from esd import rollups
from esd.extensions import db
from esd.models import TrainingSession, utcnow
from esd.sqlite_writes import lock_for
from tests.helpers import PASSWORD, make_agency, make_dog, make_handler, make_session, make_team, make_user, term


@pytest.fixture
def team():
    agency = make_agency()
    user = make_user("manager", agency)
    dog = make_dog(agency)
    handler = make_handler(agency)
    make_team(dog, handler)
    db.session.commit()
    return user, dog, handler


def in_thread(app, work, *args):
    """Run `work` in its own thread and app context (its own database session); return what it returns."""
    out = {}

    def run():
        with app.app_context():
            try:
                out["value"] = work(*args)
            except BaseException as exc:  # handed to the test below
                out["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def add_session(dog, handler, **values):
    db.session.add(TrainingSession(agency_id=dog.agency_id, dog_id=dog.id, handler_id=handler.id,
                                   started_at=utcnow() - timedelta(hours=1), duration_minutes=30,
                                   purpose="maintenance", **values))


def timed_write(dog, handler) -> float:
    t0 = time.perf_counter()
    add_session(dog, handler)
    db.session.commit()
    return time.perf_counter() - t0


def test_concurrent_edits_of_one_session_keep_the_rollups_right(app, team):
    user, dog, handler = team
    stored = make_session(dog, handler, hides=[{"outcome": "found"}] * 4, started_at=utcnow() - timedelta(hours=2))
    db.session.commit()
    path = f"/api/sessions/{stored.id}"
    body = {"dog_id": dog.id, "handler_id": handler.id, "purpose": "maintenance",
            "started_at": stored.started_at.isoformat()}
    device, spot = term("device_type").id, term("hiding_spot").id
    login = app.test_client()
    assert login.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    cookie = login.get_cookie("session").value
    statuses = []

    def edit(k: int):
        client = app.test_client()
        client.set_cookie("session", cookie)
        for i in range(4):
            hides = [{"device_type_id": device, "hiding_spot_id": spot, "blind": (k + i + j) % 3 == 0,
                      "outcome": "found" if (k * i + j) % 2 else "missed"} for j in range(4)]
            response = client.put(path, json=body | {"duration_minutes": 10 + k * 4 + i, "hides": hides})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=edit, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 32
    assert rollups.differences(db.session.connection()) == []


def test_a_failed_write_lets_the_next_writer_go_at_once(app, team):
    _, dog, handler = team
    add_session(dog, handler, client_uuid="6f1c1a52-8f0e-4a39-9a53-0d6b0c8f2d11")
    db.session.commit()

    def duplicate():
        add_session(dog, handler, client_uuid="6f1c1a52-8f0e-4a39-9a53-0d6b0c8f2d11")
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()

    thread, out = in_thread(app, duplicate)
    thread.join()
    assert "error" not in out
    thread, out = in_thread(app, timed_write, dog, handler)
    thread.join()
    assert out["value"] < 2  # not the ten seconds a lock left behind would cost


def test_a_write_abandoned_by_an_error_is_released_when_its_request_ends(app, team):
    _, dog, handler = team

    def abandon():
        add_session(dog, handler)
        db.session.flush()
        raise RuntimeError("the request failed after its first write")

    thread, out = in_thread(app, abandon)
    thread.join()
    assert isinstance(out["error"], RuntimeError)
    thread, out = in_thread(app, timed_write, dog, handler)
    thread.join()
    assert out["value"] < 2
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 1


def test_readers_do_not_wait_for_a_writer(app, team):
    _, dog, handler = team
    flushed, done = threading.Event(), threading.Event()

    def slow_writer():
        add_session(dog, handler)
        db.session.flush()
        flushed.set()
        done.wait(10)
        db.session.commit()

    writer, out = in_thread(app, slow_writer)
    assert flushed.wait(10)

    def read():
        t0 = time.perf_counter()
        count = db.session.scalar(select(func.count()).select_from(TrainingSession))
        return count, time.perf_counter() - t0

    reader, result = in_thread(app, read)
    reader.join()
    done.set()
    writer.join()
    count, seconds = result["value"]
    assert count == 0 and seconds < 1  # the uncommitted session is not seen, and nothing waited
    assert "error" not in out


LOCKED_ELSEWHERE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy")
else:
    print("free")
"""


def _other_process_sees(path: str) -> str:
    return subprocess.run([sys.executable, "-c", LOCKED_ELSEWHERE, path], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_lock_is_reentrant_in_a_thread_and_excludes_other_threads_and_processes(tmp_path):
    lock = lock_for(str(tmp_path / "db.sqlite3"))
    assert lock.acquire() and lock.acquire()  # a second session in the same thread
    lock.release()
    assert _other_process_sees(lock.path) == "busy"
    other = {}
    thread = threading.Thread(target=lambda: other.update(got=lock.acquire(timeout=0.2)))
    thread.start()
    thread.join()
    assert other["got"] is False
    lock.release()
    assert _other_process_sees(lock.path) == "free"
