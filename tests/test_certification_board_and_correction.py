"""The status board shows every dog that holds or needs a certification and says what it leaves out;
a certification entered wrong is corrected with a reason, audited before → after."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import AuditEntry, Certification
from tests.helpers import make_agency, make_certification, make_dog, make_handler, make_team


def board_dogs(page: str) -> dict[str, str]:
    """Dog name → status of each board row."""
    return dict(re.findall(r'data-dog="([^"]+)" data-status="(\w+)"', page))


@pytest.fixture
def kennel():
    """An active dog, a dog in training with its first certification, one in training without, a retired one."""
    agency = make_agency()
    handler = make_handler(agency)
    today = agency.today()
    dogs = {}
    for name, status, certified in (("Ace", "active", True), ("Nova", "in_training", True),
                                    ("Pip", "in_training", False), ("Bear", "retired", True),
                                    ("Duke", "active", False)):
        dog = make_dog(agency, name=name, status=status)
        make_team(dog, handler)
        if certified:
            make_certification(dog, handler, issued_on=today - timedelta(days=30),
                               expires_on=today + timedelta(days=335), evaluator="R. Dalton")
        dogs[name] = dog
    db.session.commit()
    return agency, dogs


def test_board_shows_dogs_that_hold_or_need_a_certification_and_says_what_it_leaves_out(client, login_as, kennel):
    agency, _ = kennel
    login_as("manager", agency)
    page = html.unescape(client.get("/certifications").get_data(as_text=True))
    assert board_dogs(page) == {"Ace": "valid", "Nova": "valid", "Duke": "none"}
    nova_row = re.search(r'data-dog="Nova".*?</tr>', page, re.S).group(0)
    assert "In training" in nova_row
    left_out = re.search(r'data-test="left-out">(.*?)</p>', page, re.S).group(1)
    left_out = " ".join(re.sub(r"<[^>]+>", "", left_out).split())
    assert "Not shown: 1 retired dog, 1 dog in training without a certification." in left_out
    assert "Show dogs in training" in left_out

    everyone = html.unescape(client.get("/certifications?training=all").get_data(as_text=True))
    assert board_dogs(everyone) == {"Ace": "valid", "Nova": "valid", "Duke": "none", "Pip": "none"}
    assert "Bear" not in board_dogs(everyone) and "Not shown: 1 retired dog." in everyone


def test_a_typo_in_the_evaluator_is_corrected_with_a_reason_and_audited(client, login_as, kennel):
    agency, dogs = kennel
    login_as("manager", agency)
    cert = db.session.scalar(select(Certification).where(Certification.dog_id == dogs["Ace"].id))
    form = client.get(f"/certifications/{cert.id}/correct").get_data(as_text=True)
    assert 'value="R. Dalton"' in form and "Reason for the correction" in form
    data = {"dog_id": cert.dog_id, "handler_id": cert.handler_id, "certifying_body_id": cert.certifying_body_id,
            "discipline": "esd", "issued_on": cert.issued_on.isoformat(),
            "expires_on": (cert.expires_on - timedelta(days=300)).isoformat(), "evaluator": "R. Dalton Jr.",
            "result": "pass", "notes": ""}

    refused = client.post(f"/certifications/{cert.id}/correct", data=data)
    assert refused.status_code == 400
    assert "Say why the certification is corrected" in html.unescape(refused.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).evaluator == "R. Dalton"

    saved = client.post(f"/certifications/{cert.id}/correct", data={**data, "reason": "Expiry copied wrong"})
    assert saved.status_code == 302
    db.session.expire_all()
    corrected = db.session.get(Certification, cert.id)
    assert corrected.evaluator == "R. Dalton Jr." and corrected.expires_on == agency.today() + timedelta(days=35)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "certification",
                                                       AuditEntry.entity_id == cert.id,
                                                       AuditEntry.action == "update"))
    assert entry.reason == "Expiry copied wrong"
    assert entry.changes["evaluator"] == ["R. Dalton", "R. Dalton Jr."]
    # The board counts from the corrected expiry.
    board = client.get("/certifications").get_data(as_text=True)
    assert board_dogs(board)["Ace"] == "expiring"


def test_only_managers_of_the_agency_correct_certifications(client, login_as, kennel):
    agency, dogs = kennel
    cert = db.session.scalar(select(Certification).where(Certification.dog_id == dogs["Ace"].id))
    login_as("manager", make_agency())
    assert client.get(f"/certifications/{cert.id}/correct").status_code == 404
    client.post("/logout")
    login_as("handler", agency)
    assert client.get(f"/certifications/{cert.id}/correct").status_code == 404
    assert client.post(f"/certifications/{cert.id}/correct", data={"reason": "x"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).evaluator == "R. Dalton"


def test_the_certification_page_offers_correct_besides_renew_and_archive(client, login_as, kennel):
    agency, dogs = kennel
    login_as("manager", agency)
    cert = db.session.scalar(select(Certification).where(Certification.dog_id == dogs["Ace"].id))
    page = client.get(f"/certifications/{cert.id}").get_data(as_text=True)
    assert f"/certifications/{cert.id}/correct" in page and f"/certifications/{cert.id}/renew" in page
