"""Readiness gaps of each working dog and the suggested next session, opened in the tablet form as a plan."""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from esd.extensions import db
from esd.proficiency import readiness
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user, term

TZ = "America/Denver"


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def hides(n, found, device, spot, **more):
    return [{"device": device, "spot": spot, "outcome": "found" if i < found else "missed", **more} for i in range(n)]


def build_program():
    """Maverick: USB drives lately, microSD cards in outlets 74 days ago (9 of 20), few blind hides, no blank area.
    Bolt: phones in vehicles 5 days ago, every hide blind, one blank area."""
    agency = make_agency(name="Great Plains Task Force", timezone=TZ)
    user = make_user("handler", agency)
    handler = make_handler(agency, user_id=user.id)
    today = agency.today()

    def at(days_ago):
        return datetime.combine(today - timedelta(days=days_ago), time(10), ZoneInfo(TZ))

    maverick, bolt = make_dog(agency, name="Maverick"), make_dog(agency, name="Bolt")
    make_team(maverick, handler)
    make_team(bolt, make_handler(agency))
    make_session(maverick, handler, started_at=at(10),
                 hides=[*hides(2, 2, "USB drive", "Book", blind=True, height="floor", concealment="open"),
                        *hides(10, 10, "USB drive", "Book", height="floor", concealment="open")])
    make_session(maverick, handler, started_at=at(74), hides=hides(20, 9, "microSD card", "Electrical outlet",
                                                                   height="overhead", concealment="concealed"))
    make_session(bolt, handler, started_at=at(5), blank_areas=1,
                 hides=hides(8, 8, "Phone", "Vehicle", blind=True, height="mid", concealment="buried"))
    db.session.commit()
    return agency, user, maverick, bolt


def test_gaps_name_what_each_dog_has_not_trained_in_the_window(db_session):
    agency, _, maverick, bolt = build_program()
    assert agency.readiness_window_days == 60
    gaps = {g.dog_name: g for g in readiness.agency_gaps(agency, agency.today())}
    assert list(gaps) == ["Maverick", "Bolt"]  # most gaps first
    m = gaps["Maverick"]
    assert {(s.aspect, s.label, s.days) for s in m.stale} == {
        ("device_type", "microSD card", 74), ("device_type", "Phone", None),
        ("hiding_spot", "Electrical outlet", 74), ("hiding_spot", "Vehicle", None),
        ("height", "Overhead", 74), ("height", "Mid", None),
        ("concealment", "Concealed", 74), ("concealment", "Buried", None)}
    assert m.few_blind and (m.blind_hides, m.hides) == (2, 12)
    assert m.no_blank
    assert {(c.label, c.rate.found, c.rate.n) for c in m.below} == {
        ("microSD card", 9, 20), ("Electrical outlet", 9, 20), ("Overhead", 9, 20), ("Concealed", 9, 20)}
    b = gaps["Bolt"]
    assert not b.few_blind and not b.no_blank and not b.below
    assert {s.label for s in b.stale} == {"USB drive", "microSD card", "Book", "Electrical outlet", "Floor",
                                          "Overhead", "Open", "Concealed"}


def test_a_shorter_window_makes_more_gaps(db_session):
    agency, _, maverick, _ = build_program()
    agency.readiness_window_days = 7
    db.session.commit()
    gaps = {g.dog_name: g for g in readiness.agency_gaps(agency, agency.today())}
    assert ("device_type", "USB drive", 10) in {(s.aspect, s.label, s.days) for s in gaps["Maverick"].stale}
    assert gaps["Maverick"].no_blank and gaps["Bolt"].no_blank is False  # Bolt's blank area was 5 days ago


def test_the_suggested_session_targets_the_weakest_and_stalest_combinations(db_session):
    agency, _, maverick, _ = build_program()
    plan = readiness.next_session(maverick, agency.today())
    assert 5 <= len(plan.hides) <= 8
    first = plan.hides[0]
    assert (first.device_type, first.hiding_spot) == ("microSD card", "Electrical outlet")
    assert first.why.startswith("microSD card in Electrical outlet: 45% of 20, last 74 days ago")
    pairs = [(h.device_type, h.hiding_spot) for h in plan.hides]
    # The device type and the spot Maverick has not searched in the last year come next.
    assert pairs[1] == ("Phone", "Vehicle") and "not in the last year" in plan.hides[1].why
    assert sum(h.blind for h in plan.hides) >= len(plan.hides) / 2
    assert plan.blank_areas == 2 and "No blank search in 60 days" in plan.blank_why
    # Heights and concealments: the stale ones first.
    assert {plan.hides[0].height, plan.hides[1].height} == {"mid", "overhead"}
    assert {plan.hides[0].concealment, plan.hides[1].concealment} == {"buried", "concealed"}
    assert plan.tablet_json()["hides"][0] == {
        "device_type_id": term("device_type", "microSD card").id,
        "hiding_spot_id": term("hiding_spot", "Electrical outlet").id,
        "height": plan.hides[0].height, "concealment": plan.hides[0].concealment, "blind": True}


def test_a_dog_without_history_gets_a_full_session_from_the_agencys_lists(db_session):
    agency, _, _, _ = build_program()
    pup = make_dog(agency, name="Pup", status="in_training")
    db.session.commit()
    plan = readiness.next_session(pup, agency.today())
    assert 5 <= len(plan.hides) <= 8 and plan.blank_areas == 2
    assert len({(h.device_type_id, h.hiding_spot_id) for h in plan.hides}) == len(plan.hides)


def test_the_readiness_pages_show_the_gaps_and_the_reasons(client, login_as, db_session):
    agency, user, maverick, _ = build_program()
    login_as("manager", agency)
    page = words(client.get("/readiness"))
    assert "Few blind hides: 2 of 12 in 60 days" in page
    assert "No blank search in 60 days" in page
    assert "microSD card: last 74 days ago" in page
    plan_page = client.get(f"/readiness/dogs/{maverick.id}")
    assert plan_page.status_code == 200
    assert "microSD card in Electrical outlet: 45% of 20, last 74 days ago" in words(plan_page)
    assert f'href="/training/new?plan={maverick.id}"' in plan_page.get_data(as_text=True)


def test_the_tablet_form_opened_as_a_plan_carries_the_hides_setup(client, db_session):
    agency, user, maverick, _ = build_program()
    from tests.helpers import PASSWORD
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.get(f"/training/new?plan={maverick.id}")
    assert response.status_code == 200
    boot = json.loads(re.search(r'<script type="application/json" id="training-data">(.*?)</script>',
                                response.get_data(as_text=True), re.S).group(1))
    plan = boot["plan"]
    assert plan["dog_id"] == maverick.id and plan["blank_areas"] == 2
    assert plan["hides"][0]["device_type_id"] == term("device_type", "microSD card").id
    assert "outcome" not in plan["hides"][0]
    assert json.loads(re.search(r'id="training-data">(.*?)</script>', client.get("/training/new")
                                .get_data(as_text=True), re.S).group(1))["plan"] is None


@pytest.mark.parametrize("plan", ["abc", "99999999", "-1", "1e9"])
def test_a_bad_plan_is_404(client, login_as, db_session, plan):
    build_program()
    login_as("manager")
    assert client.get(f"/training/new?plan={plan}").status_code == 404


def test_another_agencys_dog_is_404(client, login_as, db_session):
    agency, user, maverick, _ = build_program()
    other = make_agency(name="Other")
    stranger = make_dog(other, name="Stranger")
    retired = make_dog(agency, name="Old Timer", status="retired")
    db.session.commit()
    login_as("manager", agency)
    assert client.get(f"/readiness/dogs/{stranger.id}").status_code == 404
    assert client.get(f"/readiness/dogs/{retired.id}").status_code == 404
    assert client.get(f"/training/new?plan={stranger.id}").status_code == 404
    assert client.get(f"/readiness?agency={other.id}").status_code == 404


def test_home_pages_show_readiness_gaps_to_a_manager_and_gaps_to_train_next_to_a_handler(client, db_session):
    agency, user, maverick, bolt = build_program()
    manager = make_user("manager", agency)
    db.session.commit()
    from tests.helpers import PASSWORD
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    page = words(client.get("/"))
    assert "Readiness gaps 2" in page and "Maverick" in page
    assert "Below standard: microSD card (45% of 20)" in page
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    response = client.get("/")
    page = words(response)
    assert "Gaps to train next" in page and "Maverick" in page
    assert 'data-dog="Bolt"' not in response.get_data(as_text=True).split('data-test="home-gaps"')[1]  # not this handler's dog
    assert f"/readiness/dogs/{maverick.id}" in response.get_data(as_text=True)
