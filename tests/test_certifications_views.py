"""Recording, renewing and reading certifications: uploads, validation, the board, CSV, upcoming, scoping."""
import csv
import io
import os
from datetime import date, timedelta

import pytest
from flask import render_template_string
from flask_login import login_user
from matplotlib.figure import Figure
from sqlalchemy import func, select

from esd.certifications.services import dog_section
from esd.extensions import db
from esd.models import AuditEntry, Certification, Notification, Reminder
from tests.helpers import (PASSWORD, make_agency, make_certification, make_dog, make_handler, make_team,
                           make_user, term)


def figure_bytes(fmt: str) -> bytes:
    """A real file of the kind, drawn by matplotlib (PDF backend for PDF)."""
    fig = Figure(figsize=(4, 3))
    fig.add_subplot().bar(["found", "missed"], [3, 1])
    fig.suptitle("Certificate of proficiency")
    out = io.BytesIO()
    fig.savefig(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def files():
    return {"pdf": figure_bytes("pdf"), "png": figure_bytes("png"), "jpg": figure_bytes("jpg")}


@pytest.fixture(autouse=True)
def no_certificates_yet(app):
    """Each test starts with an empty certificate folder (the app, and its folder, live for the run)."""
    import shutil
    shutil.rmtree(os.path.join(app.config["UPLOAD_FOLDER"], "certificates"), ignore_errors=True)


def stored_files(app) -> list[str]:
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "certificates")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture
def team(login_as):
    """A logged-in manager's agency with a dog and its handler."""
    manager = login_as("manager")
    agency = manager.agency
    handler = make_handler(agency, name="Sam Ortiz")
    dog = make_dog(agency, name="Rex", call_sign="K9-7")
    make_team(dog, handler)
    db.session.commit()
    return manager, agency, dog, handler


def form_data(dog, handler, **overrides):
    data = {"dog_id": str(dog.id), "handler_id": str(handler.id),
            "certifying_body_id": str(term("certifying_body", "NAPWDA").id), "discipline": "esd",
            "issued_on": "2026-03-01", "expires_on": "", "evaluator": "Lt. Evaluator Brooks",
            "result": "pass", "score_finds": "4", "score_hides": "4", "score_false_alerts": "0",
            "notes": "Clean run."}
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("kind, mime, name", [
    ("pdf", "application/pdf", "NAPWDA 2026.pdf"),
    ("png", "image/png", "scan.png"),
    ("jpg", "image/jpeg", "photo of certificate.jpeg"),
])
def test_manager_records_a_certification_with_its_certificate(client, team, files, app, kind, mime, name):
    manager, agency, dog, handler = team
    data = form_data(dog, handler, certificate=(io.BytesIO(files[kind]), name))
    response = client.post("/certifications/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    cert = db.session.scalars(select(Certification)).one()
    assert (cert.dog_id, cert.handler_id, cert.certifying_body.name) == (dog.id, handler.id, "NAPWDA")
    assert cert.expires_on == date(2027, 3, 1)  # one year after issue by default
    assert (cert.score_finds, cert.score_hides, cert.score_false_alerts) == (4, 4, 0)
    assert cert.certificate_mime == mime and cert.certificate_name == name
    # Stored under a random name, not the user's, outside static/.
    assert stored_files(app) == [cert.certificate_file] and name not in cert.certificate_file
    assert not app.config["UPLOAD_FOLDER"].startswith(app.static_folder)

    download = client.get(f"/certifications/{cert.id}/certificate")
    assert download.status_code == 200
    assert download.data == files[kind]
    assert download.mimetype == mime
    assert name.replace(" ", "") in download.headers["Content-Disposition"].replace(" ", "").replace("%20", "")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "certification")).action == "create"


def test_the_page_says_the_certification_on_the_detail(client, team, files):
    manager, agency, dog, handler = team
    client.post("/certifications/new", data=form_data(dog, handler, expires_on="2026-09-01",
                                                      certificate=(io.BytesIO(files["pdf"]), "c.pdf")),
                content_type="multipart/form-data")
    cert = db.session.scalars(select(Certification)).one()
    page = client.get(f"/certifications/{cert.id}").get_data(as_text=True)
    assert "NAPWDA" in page and "Rex (K9-7)" in page and "Sam Ortiz" in page and "2026-09-01" in page
    assert "4 of 4 hides found" in page and "c.pdf" in page


def test_new_form_for_a_dog_starts_with_its_team_and_dates(client, team):
    manager, agency, dog, handler = team
    page = client.get(f"/certifications/new?dog_id={dog.id}").get_data(as_text=True)
    today = agency.today()
    assert f'<option selected value="{dog.id}">' in page
    assert f'value="{today.isoformat()}"' in page
    assert "Sam Ortiz" in page


BIG = 10 * 1024 * 1024 + 1


@pytest.mark.parametrize("case, overrides, field_message", [
    ("expiry before issue", {"expires_on": "2026-02-01"}, "The expiry date must be after the date of issue."),
    ("expiry on the day of issue", {"expires_on": "2026-03-01"}, "The expiry date must be after the date of issue."),
    ("unknown body", {"certifying_body_id": "999999"}, "Unknown certifying body"),
    ("a device type is no body", {"certifying_body_id": "DEVICE"}, "Unknown certifying body"),
    ("text renamed to .pdf", {"certificate": "TEXT_AS_PDF"}, "not a PDF, PNG or JPEG"),
    ("zip renamed to .png", {"certificate": "ZIP_AS_PNG"}, "not a PDF, PNG or JPEG"),
    ("GIF is not accepted", {"certificate": "GIF"}, "not a PDF, PNG or JPEG"),
    ("over 10 MB", {"certificate": "BIG_PDF"}, "at most 10 MB"),
    ("empty file", {"certificate": "EMPTY"}, "The file is empty."),
    ("dog of another agency", {"dog_id": "OTHER_DOG"}, "not one of your agency&#39;s dogs"),
    ("handler of another agency", {"handler_id": "OTHER_HANDLER"}, "not one of your agency&#39;s handlers"),
    ("more finds than hides", {"score_finds": "5", "score_hides": "4"}, "more finds than hides"),
    ("negative false alerts", {"score_false_alerts": "-1"}, "Cannot be negative."),
    ("no issue date", {"issued_on": ""}, "Enter the date of issue"),
    ("no dog", {"dog_id": ""}, "Choose the dog."),
])
def test_bad_input_is_refused_beside_the_field_and_nothing_is_stored(client, team, files, app, case, overrides,
                                                                     field_message):
    manager, agency, dog, handler = team
    other = make_agency()
    other_dog, other_handler = make_dog(other), make_handler(other)
    db.session.commit()
    special = {
        "DEVICE": str(term("device_type").id), "OTHER_DOG": str(other_dog.id),
        "OTHER_HANDLER": str(other_handler.id),
        "TEXT_AS_PDF": (io.BytesIO(b"Certificate of Rex, trust me\n" * 20), "certificate.pdf"),
        "ZIP_AS_PNG": (io.BytesIO(b"PK\x03\x04" + b"\x00" * 200), "scan.png"),
        "GIF": (io.BytesIO(b"GIF89a" + b"\x00" * 200), "scan.gif"),
        "BIG_PDF": (io.BytesIO(files["pdf"] + b"\x00" * (BIG - len(files["pdf"]))), "huge.pdf"),
        "EMPTY": (io.BytesIO(b""), "empty.pdf"),
    }
    data = form_data(dog, handler, **{k: special.get(v, v) if isinstance(v, str) else v
                                      for k, v in overrides.items()})
    data.setdefault("certificate", (io.BytesIO(files["png"]), "fine.png"))
    response = client.post("/certifications/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_message in page
    assert 'invalid-feedback' in page  # beside the field, Bootstrap's way
    assert count(Certification) == 0 and stored_files(app) == []
    assert "Lt. Evaluator Brooks" in page and "Clean run." in page  # what was typed is kept


def test_an_upload_above_the_request_limit_is_refused_whole(client, team, files, app):
    manager, agency, dog, handler = team
    huge = files["pdf"] + b"\x00" * (13 * 1024 * 1024)
    response = client.post("/certifications/new", content_type="multipart/form-data",
                           data=form_data(dog, handler, certificate=(io.BytesIO(huge), "huge.pdf")))
    assert response.status_code == 413
    assert "at most 10 MB" in response.get_data(as_text=True)
    assert count(Certification) == 0 and stored_files(app) == []


def test_renewal_creates_a_new_certification_and_keeps_the_history(client, team, files):
    manager, agency, dog, handler = team
    old = make_certification(dog, handler, issued_on=date(2025, 7, 1))
    reminder = Reminder(certification_id=old.id, threshold_days=30, recipient_id=manager.id, channel="email",
                        status="failed", attempts=1, last_error="connection refused")
    db.session.add(reminder)
    db.session.commit()
    form = client.get(f"/certifications/{old.id}/renew").get_data(as_text=True)
    assert "J. Evaluator" in form  # prefilled from the certification it renews
    response = client.post(f"/certifications/{old.id}/renew", content_type="multipart/form-data",
                           data=form_data(dog, handler, issued_on="2026-06-20",
                                          certificate=(io.BytesIO(files["jpg"]), "renewal.jpg")))
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Certification).where(Certification.id != old.id)).one()
    assert old.replaced_by_id == new.id and new.expires_on == date(2027, 6, 20)
    assert db.session.get(Reminder, reminder.id).status == "cancelled"
    page = client.get(f"/certifications/{new.id}").get_data(as_text=True)
    assert "Renews" in page and "2026-07-01" in page
    assert "Renewed" in client.get(f"/certifications/{old.id}").get_data(as_text=True)


def test_a_failed_renewal_is_kept_but_the_old_certification_stays_current(client, team):
    manager, agency, dog, handler = team
    old = make_certification(dog, handler, issued_on=date(2025, 7, 1))
    db.session.commit()
    client.post(f"/certifications/{old.id}/renew", content_type="multipart/form-data",
                data=form_data(dog, handler, issued_on="2026-06-20", result="fail"))
    db.session.expire_all()
    assert count(Certification) == 2 and old.replaced_by_id is None


def test_a_renewal_cannot_move_to_another_dog(client, team):
    manager, agency, dog, handler = team
    old = make_certification(dog, handler, issued_on=date(2025, 7, 1))
    second = make_dog(agency, name="Bolt")
    db.session.commit()
    response = client.post(f"/certifications/{old.id}/renew", content_type="multipart/form-data",
                           data=form_data(second, handler, issued_on="2026-06-20"))
    assert response.status_code == 400 and "A renewal is for Rex" in response.get_data(as_text=True)
    assert count(Certification) == 1


def test_archive_takes_a_mistake_off_the_board(client, team):
    manager, agency, dog, handler = team
    today = agency.today()
    cert = make_certification(dog, handler, issued_on=today - timedelta(days=10))
    db.session.commit()
    client.post(f"/certifications/{cert.id}/archive", data={"reason": "Entered for the wrong dog"})
    db.session.expire_all()
    assert cert.archived_at is not None
    rows = board_rows_of(client.get("/certifications").get_data(as_text=True))
    assert rows == [("Rex", "none")]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "archive")).one()
    assert entry.reason == "Entered for the wrong dog"


# --- The board, CSV and upcoming ----------------------------------------------------------------

def board_rows_of(html: str) -> list[tuple[str, str]]:
    import re
    return re.findall(r'<tr class="status-\w+" data-dog="([^"]+)" data-status="(\w+)"', html)


@pytest.fixture
def fleet(login_as):
    """Dogs in every status for a manager's agency, and a dog of another agency."""
    manager = login_as("manager")
    agency = manager.agency
    today = agency.today()
    handler = make_handler(agency, name="Sam Ortiz")

    def dog_expiring_in(name, days, **extra):
        dog = make_dog(agency, name=name, **extra)
        make_team(dog, handler)
        make_certification(dog, handler, issued_on=today + timedelta(days=days - 365),
                           expires_on=today + timedelta(days=days))
        return dog

    dog_expiring_in("Ace", 200)
    dog_expiring_in("Bolt", 20)
    dog_expiring_in("Cody", -5)
    make_dog(agency, name="Duke")  # never certified
    dog_expiring_in("Echo", 3, status="retired")
    dog_expiring_in("Fern", 100, status="in_training")
    gus = dog_expiring_in("Gus", 150)
    # A later failed attempt does not replace the passing certification.
    make_certification(gus, handler, issued_on=today - timedelta(days=3), result="fail",
                       expires_on=today + timedelta(days=362))
    other = make_agency(name="Zulu County")
    make_certification(make_dog(other, name="Other Dog"), issued_on=today - timedelta(days=300))
    db.session.commit()
    return manager, agency, today


def test_board_shows_every_active_dog_with_status_in_words(client, fleet):
    # Fern is in training and holds a certification: on the board. Echo is retired: not.
    html = client.get("/certifications").get_data(as_text=True)
    assert board_rows_of(html) == [("Cody", "expired"), ("Duke", "none"), ("Bolt", "expiring"),
                                   ("Fern", "valid"), ("Gus", "valid"), ("Ace", "valid")]
    for words in ("Expired", "No certification", "Expiring soon", "Valid", "20 days", "expired 5 days ago"):
        assert words in html
    assert "Other Dog" not in html and "Echo" not in html


@pytest.mark.parametrize("query, expected", [
    ("?status=expired", ["Cody"]),
    ("?status=valid&status=expiring", ["Bolt", "Fern", "Gus", "Ace"]),
    ("?sort=dog", ["Ace", "Bolt", "Cody", "Duke", "Fern", "Gus"]),
    ("?sort=dog&dir=desc", ["Gus", "Fern", "Duke", "Cody", "Bolt", "Ace"]),
    ("?sort=days", ["Cody", "Bolt", "Fern", "Gus", "Ace", "Duke"]),
    ("?sort=days&dir=desc", ["Ace", "Gus", "Fern", "Bolt", "Cody", "Duke"]),
])
def test_board_filters_and_sorts(client, fleet, query, expected):
    assert [name for name, _ in board_rows_of(client.get("/certifications" + query).get_data(as_text=True))] \
        == expected


def test_board_csv_has_the_rows_shown(client, fleet):
    manager, agency, today = fleet
    response = client.get("/certifications/board.csv?status=expired&status=expiring")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["dog"], r["status"], r["days_left"], r["handler"]) for r in rows] == [
        ("Cody", "Expired", "-5", "Sam Ortiz"), ("Bolt", "Expiring soon", "20", "Sam Ortiz")]
    assert rows[1]["expires_on"] == (today + timedelta(days=20)).isoformat()
    assert rows[1]["certifying_body"] == term("certifying_body").name and rows[1]["agency"] == agency.name


def client_for(app, user):
    """A separate browser session logged in as `user`."""
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_admin_sees_every_agency_grouped(app, fleet):
    admin = make_user("admin")
    db.session.commit()
    html = client_for(app, admin).get("/certifications").get_data(as_text=True)
    assert html.count('data-test="agency-group"') == 2
    assert html.index(fleet[1].name) < html.index("Zulu County")
    assert "Other Dog" in html


def test_handlers_read_the_board_funders_do_not(app, fleet):
    manager, agency, today = fleet
    handler, funder = make_user("handler", agency), make_user("funder")
    funder.granted_agencies.append(agency)
    db.session.commit()
    assert [n for n, _ in board_rows_of(client_for(app, handler).get("/certifications").get_data(as_text=True))] \
        == ["Cody", "Duke", "Bolt", "Fern", "Gus", "Ace"]
    assert client_for(app, funder).get("/certifications").status_code == 404


def test_upcoming_lists_the_next_180_days_month_by_month(client, fleet):
    manager, agency, today = fleet
    html = client.get("/certifications/upcoming").get_data(as_text=True)
    assert html.count('data-test="month"') in (6, 7)
    soon = (today + timedelta(days=20))
    later = (today + timedelta(days=150))
    assert soon.strftime("%B %Y") in html and later.strftime("%B %Y") in html
    assert "Bolt with Sam Ortiz" in html and "Gus with Sam Ortiz" in html
    assert "Ace" not in html  # 200 days away
    assert "Cody" not in html  # already expired: that is the board's business
    assert "Echo" not in html  # retired


# --- Scoping of certificates and the dog page --------------------------------------------------

def test_certificates_are_served_only_within_scope(app, files):
    agency, other = make_agency(), make_agency()
    dog = make_dog(agency)
    users = {"manager": make_user("manager", agency), "handler": make_user("handler", agency),
             "other manager": make_user("manager", other), "other handler": make_user("handler", other),
             "funder": make_user("funder"), "admin": make_user("admin")}
    users["funder"].granted_agencies.append(agency)
    db.session.commit()
    uploader = app.test_client()
    uploader.post("/login", data={"email": users["manager"].email, "password": PASSWORD})
    uploader.post("/certifications/new", content_type="multipart/form-data", data={
        **form_data(dog, make_handler(agency)), "handler_id": "",
        "certificate": (io.BytesIO(files["pdf"]), "rex.pdf")})
    cert = db.session.scalars(select(Certification)).one()
    expected = {"manager": 200, "handler": 200, "admin": 200, "other manager": 404, "other handler": 404,
                "funder": 404}
    for who, status in expected.items():
        client = client_for(app, users[who])
        response = client.get(f"/certifications/{cert.id}/certificate")
        assert response.status_code == status, who
        assert (response.data == files["pdf"]) == (status == 200), who
        assert client.get(f"/certifications/{cert.id}").status_code == status, who
    assert app.test_client().get(f"/certifications/{cert.id}/certificate").status_code == 302  # to login


def test_the_dog_page_section_shows_status_and_history(app, team):
    manager, agency, dog, handler = team
    today = agency.today()
    old = make_certification(dog, handler, issued_on=today - timedelta(days=700),
                             expires_on=today - timedelta(days=335))
    new = make_certification(dog, handler, issued_on=today - timedelta(days=335),
                             expires_on=today + timedelta(days=30))
    old.replaced_by_id = new.id
    db.session.commit()

    def section_for(user):
        with app.test_request_context():
            login_user(user)
            return render_template_string('{% include "certifications/_dog_section.html" %}', dog=dog,
                                          sections={"certifications": dog_section(dog, today, user)})
    html = section_for(manager)
    assert "Expiring soon" in html and "30 days" in html
    assert html.count("<tr class=") == 2 and "renewed" in html and "current" in html
    assert f"/certifications/{new.id}/renew" in html

    reader = make_user("handler", agency)
    db.session.commit()
    html = section_for(reader)
    assert "Expiring soon" in html and "/renew" not in html and "Record certification" not in html


# --- Bell, notifications, e-mail preference ------------------------------------------------------

def test_bell_counts_unread_and_mark_read_needs_the_owner(client, app, login_as):
    user = login_as("manager")
    other = make_user("manager", user.agency)
    mine = [Notification(user_id=user.id, message=f"Notice {n}", link="/certifications") for n in range(3)]
    theirs = Notification(user_id=other.id, message="Not yours")
    db.session.add_all(mine + [theirs])
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert 'data-test="unread-count">3<' in home and "3 unread" in home
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Notice 0" in listing and "Not yours" not in listing
    assert client.post(f"/notifications/{mine[0].id}/read").status_code == 302
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert 'data-test="unread-count">2<' in client.get("/").get_data(as_text=True)
    client.post("/notifications/read-all")
    assert 'data-test="unread-count"' not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert theirs.read_at is None


def test_mark_read_refuses_a_post_without_csrf_token(client, app, login_as):
    user = login_as("manager")
    item = Notification(user_id=user.id, message="Notice")
    db.session.add(item)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/notifications/{item.id}/read").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    assert item.read_at is None


def test_a_user_turns_reminder_emails_off_and_on(client, login_as):
    user = login_as("handler")
    assert "Reminder e-mails" in client.get("/").get_data(as_text=True)  # the account menu links the page
    client.post("/account/reminders", data={})
    db.session.expire_all()
    assert user.email_reminders is False
    client.post("/account/reminders", data={"email_reminders": "y"})
    db.session.expire_all()
    assert user.email_reminders is True
