"""Packets anyone can verify: every reliability record is registered with a code, /verify answers
without an account whether it was issued here and whether its records are unchanged, and the
digest is over the records' content, so it survives a move to another database with new ids."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pypdf
import pytest
from sqlalchemy import create_engine, select

from esd import create_app
from esd.audit import audit_reason
from esd.exports.packet import digest, source_rows
from esd.extensions import db, limiter
from esd.models import Dog, Hide, TrainingSession
from esd.models.audit import IssuedPacket
from tests.helpers import make_agency, make_user
from tests.test_packet import AS_OF, rex  # noqa: F401  (fixture)

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}")


@pytest.fixture(autouse=True)
def fresh_limits():
    """Each test starts with /verify's rate limit unspent."""
    limiter.reset()
    yield
    limiter.reset()


def issue_record(client, login_as, dog, manager, fmt="html"):
    """A manager generates the dog's reliability record; the response and the code printed on it."""
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    suffix = ".pdf" if fmt == "pdf" else ""
    response = client.get(f"/dogs/{dog.id}/reliability-record{suffix}?as_of={AS_OF.isoformat()}")
    assert response.status_code == 200
    if fmt == "pdf":
        text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    else:
        text = response.get_data(as_text=True)
    client.post("/logout")
    return response, CODE.search(text).group(0), text


def edit_a_hide(dog):
    hide = db.session.scalars(select(Hide).join(TrainingSession).where(TrainingSession.dog_id == dog.id)
                              .order_by(Hide.id)).first()
    hide.outcome = "missed" if hide.outcome == "found" else "found"
    hide.seconds_to_find = None
    audit_reason("outcome corrected after review of the video")
    db.session.commit()


def test_a_generated_record_is_registered_and_prints_its_code_address_and_audit_head(client, login_as, rex):
    dog, manager = rex
    _, code, page = issue_record(client, login_as, dog, manager)
    issued = db.session.scalar(select(IssuedPacket))
    assert issued.code == code.replace("-", "")
    assert (issued.dog_id, issued.agency_id, issued.as_of, issued.issued_by_id, issued.kind) == \
        (dog.id, dog.agency_id, AS_OF, manager.id, "reliability_record")
    assert issued.digest == digest(source_rows(dog, AS_OF)) and issued.digest in page
    assert issued.audit_head in page and len(issued.audit_head) == 64
    assert f"/verify?q={code}" in page
    assert 'alt="QR code of http' in page


def test_the_pdf_shows_the_code_and_the_verification_address(client, login_as, rex):
    dog, manager = rex
    _, code, text = issue_record(client, login_as, dog, manager, fmt="pdf")
    assert "/verify?q=" in text and "Audit log head" in text
    assert db.session.scalar(select(IssuedPacket.code)) == code.replace("-", "")


def test_anyone_checks_a_code_without_an_account(client, login_as, rex):
    dog, manager = rex
    _, code, _ = issue_record(client, login_as, dog, manager)
    page = client.get(f"/verify?q={code}").get_data(as_text=True)
    assert "Issued by this installation" in page
    assert "Metro ICAC" in page and AS_OF.isoformat() in page
    assert "Unchanged." in page
    assert "Rex" not in page  # no more than the packet's own facts: not even the dog's name
    # typed by hand: lower case, without dashes, an O for a zero
    typed = code.replace("-", "").lower().replace("0", "o")
    assert "Issued by this installation" in client.get(f"/verify?q={typed}").get_data(as_text=True)


def test_the_digest_finds_the_packet_too(client, login_as, rex):
    dog, manager = rex
    issue_record(client, login_as, dog, manager)
    page = client.get(f"/verify?q={digest(source_rows(dog, AS_OF))}").get_data(as_text=True)
    assert "Issued by this installation" in page and "Unchanged." in page


def test_a_changed_record_says_so_and_how_many_changes_details_only_for_the_agency(client, login_as, rex):
    dog, manager = rex
    _, code, _ = issue_record(client, login_as, dog, manager)
    edit_a_hide(dog)
    anonymous = client.get(f"/verify?q={code}").get_data(as_text=True)
    assert "Changed since." in anonymous and "1 change recorded" in anonymous
    assert "outcome corrected" not in anonymous
    login_as("manager", make_agency())  # another agency's manager: the count, no details
    assert "outcome corrected" not in client.get(f"/verify?q={code}").get_data(as_text=True)
    client.post("/logout")
    client.post("/login", data={"email": manager.email, "password": "correct horse battery staple"})
    own = client.get(f"/verify?q={code}").get_data(as_text=True)
    assert "1 change recorded" in own and "outcome corrected after review of the video" in own


def test_unknown_and_malformed_queries(client):
    unknown = client.get("/verify?q=7K2M-Q9XD-4T")
    assert unknown.status_code == 200 and "Not issued here" in unknown.get_data(as_text=True)
    assert client.get("/verify", query_string={"q": "\x00"}).status_code == 400  # NUL refused app-wide
    for bad in ("hello", "7K2M", "x" * 64, "a" * 500):
        response = client.get("/verify", query_string={"q": bad})
        assert response.status_code == 200
        assert "Enter the 10-character verification code" in response.get_data(as_text=True) \
            or "at most" in response.get_data(as_text=True).lower()
    assert client.get("/verify").status_code == 200


def test_verify_is_rate_limited_per_address(app, client):
    limit = int(app.config["VERIFY_RATE_LIMIT"].split()[0])
    statuses = [client.get("/verify?q=7K2M-Q9XD-4T").status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [200] * limit
    assert statuses[-1] == 429


# --------------------------------------------------------------------------- moved to another database

def copy_with_new_ids(target_url: str) -> dict[tuple[str, int], int]:
    """Copy every row of the test database into `target_url`, every id changed (and reversed in order)."""
    tables = db.metadata.sorted_tables
    offset = {table.name: 100_000 * (n + 1) for n, table in enumerate(tables)}

    def new(table_name, old):
        return None if old is None else offset[table_name] - old

    engine = create_engine(target_url)
    db.metadata.create_all(engine)
    moved = {}
    with engine.begin() as target:
        for table in tables:
            rows = [dict(row._mapping) for row in db.session.execute(select(table))]
            references = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
            for row in rows:
                if "id" in row:
                    moved[(table.name, row["id"])] = new(table.name, row["id"])
                    row["id"] = new(table.name, row["id"])
                for column, target_table in references.items():
                    row[column] = new(target_table, row[column])
                if table.name == "audit_entry" and row["entity"] in offset:
                    row["entity_id"] = new(row["entity"], row["entity_id"])
            if rows:
                target.execute(table.insert(), rows[::-1])
    engine.dispose()
    return moved


def test_the_digest_is_the_same_after_a_move_to_another_database_with_new_ids(app, rex, tmp_path):
    dog, manager = rex
    edit_a_hide(dog)  # with audited changes in the record too
    before = digest(source_rows(dog, AS_OF))
    target = f"sqlite:///{tmp_path / 'moved.sqlite3'}"
    moved = copy_with_new_ids(target)
    other = create_app({"SQLALCHEMY_DATABASE_URI": target, "SECRET_KEY": "x", "TESTING": True})
    with other.app_context():
        copy = db.session.get(Dog, moved[("dog", dog.id)])
        assert copy.id != dog.id and copy.name == "Rex"
        assert digest(source_rows(copy, AS_OF)) == before
        hide = db.session.scalars(select(Hide).join(TrainingSession).where(
            TrainingSession.dog_id == copy.id, TrainingSession.started_at < datetime(2026, 3, 15, tzinfo=timezone.utc),
            TrainingSession.started_at > datetime(2026, 3, 1, tzinfo=timezone.utc))).first()
        hide.blind = not hide.blind
        db.session.commit()
        assert digest(source_rows(copy, AS_OF)) != before  # and content still counts
        db.session.remove()


@pytest.mark.parametrize("width", [390, 820])
def test_the_verify_page_fits_a_phone_and_a_tablet(browser, live_server, client, login_as, rex, width):
    dog, manager = rex
    _, code, _ = issue_record(client, login_as, dog, manager)
    edit_a_hide(dog)
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/verify")
        page.fill("input[name=q]", code)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.locator("[data-test=changed]").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        button = page.locator("button[type=submit]").bounding_box()
        assert button["height"] >= 44
    finally:
        context.close()
