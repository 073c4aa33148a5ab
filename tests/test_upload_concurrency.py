"""Many tablets uploading at once, as under gunicorn: two processes of ten threads each post
sessions (every fifth one twice, as after a lost reply) to the same database. Every upload is
answered 201 (or 200 for the repeat), none fails with "database is locked", each session is
stored exactly once and the rollups still equal the raw rows.

Run with `python -m tests.test_upload_concurrency URL EMAIL DOG_ID N` it is one such process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
THREADS = 10
PER_THREAD = 6


def upload_from_threads(app, email: str, password: str, dog_id: int, per_thread: int) -> dict:
    """THREADS clients sharing one login upload `per_thread` sessions each; the answers' statuses and uuids."""
    from tests.helpers import term
    with app.app_context():
        device, spot = term("device_type").id, term("hiding_spot").id
    login = app.test_client()
    assert login.post("/login", data={"email": email, "password": password}).status_code == 302
    cookie = login.get_cookie("session").value
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    result = {"statuses": [], "uuids": [], "errors": []}
    lock = threading.Lock()

    def client_thread(k: int):
        client = app.test_client()
        client.set_cookie("session", cookie)
        for i in range(per_thread):
            body = {"client_uuid": str(uuid.uuid4()), "dog_id": dog_id, "duration_minutes": 30,
                    "started_at": (start + timedelta(seconds=k * 100 + i)).isoformat(), "purpose": "maintenance",
                    "hides": [{"device_type_id": device, "hiding_spot_id": spot, "outcome": "found",
                               "blind": j % 2 == 0} for j in range(10)],
                    "false_alerts": [{"hiding_spot_id": spot}]}
            statuses = []
            try:
                statuses.append(client.post("/api/sessions", json=body).status_code)
                if i % 5 == 0:  # the reply was lost: the tablet sends it again
                    statuses.append(client.post("/api/sessions", json=body).status_code)
            except Exception as exc:  # "database is locked" and the like, reported below
                with lock:
                    result["errors"].append(repr(exc))
            with lock:
                result["statuses"] += statuses
                result["uuids"].append(body["client_uuid"])

    threads = [threading.Thread(target=client_thread, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def test_two_processes_of_ten_threads_store_every_upload_once(app, database_url, tmp_path):
    from esd import rollups
    from esd.extensions import db
    from esd.models import TrainingSession
    from tests.helpers import PASSWORD, make_agency, make_dog, make_handler, make_team, make_user
    agency = make_agency()
    user = make_user("manager", agency)
    dog = make_dog(agency)
    make_team(dog, make_handler(agency))
    db.session.commit()
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path / "mpl"))
    other = subprocess.Popen([sys.executable, "-m", "tests.test_upload_concurrency", database_url, user.email,
                              str(dog.id), str(PER_THREAD), str(tmp_path)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mine = upload_from_threads(app, user.email, PASSWORD, dog.id, PER_THREAD)
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    theirs = json.loads(out.strip().splitlines()[-1])

    for result in (mine, theirs):
        assert result["errors"] == []
        expected = THREADS * (PER_THREAD + len(range(0, PER_THREAD, 5)))
        assert len(result["statuses"]) == expected and set(result["statuses"]) <= {200, 201}
        assert result["statuses"].count(201) == THREADS * PER_THREAD
    uuids = mine["uuids"] + theirs["uuids"]
    stored = dict(db.session.execute(select(TrainingSession.client_uuid, func.count())
                                     .where(TrainingSession.client_uuid.in_(uuids))
                                     .group_by(TrainingSession.client_uuid)).all())
    assert len(stored) == len(uuids) == 2 * THREADS * PER_THREAD and set(stored.values()) == {1}
    assert rollups.differences(db.session.connection()) == []


def _main(url: str, email: str, dog_id: str, per_thread: str, instance: str) -> None:
    from esd import create_app
    from tests.helpers import PASSWORD
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
                      "WTF_CSRF_ENABLED": False, "CACHE_DIR": os.path.join(instance, "cache-2"),
                      "UPLOAD_FOLDER": os.path.join(instance, "uploads-2"), "MAIL_BACKEND": "locmem"})
    print(json.dumps(upload_from_threads(app, email, PASSWORD, int(dog_id), int(per_thread))))


if __name__ == "__main__":
    _main(*sys.argv[1:])
