"""Logging, correcting and reading deployments and their finds."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from esd.extensions import db
from esd.models import AuditEntry, Deployment, Find
from tests.helpers import make_agency, make_deployment, make_dog, make_handler, make_team, make_user, term


@pytest.fixture
def team():
    """An agency in Chicago with one dog and its handler."""
    agency = make_agency(timezone="America/Chicago")
    handler = make_handler(agency, name="Dana Reyes")
    dog = make_dog(agency, name="Rook")
    make_team(dog, handler)
    db.session.commit()
    return agency, dog, handler


def form_data(the_dog, the_handler, **overrides):
    dog, handler = the_dog, the_handler
    data = {"dog": dog.id, "handler": handler.id, "day": "2026-03-14", "time": "21:30",
            "requesting_agency": "County Probation", "case_number": "26-PR-0413",
            "legal_authority": "probation_parole", "location_type": term("location_type", "Residence").id,
            "duration_minutes": "95", "notes": "Phone inside a hollow book.",
            "finds-0-device_type": term("device_type", "Phone").id,
            "finds-0-hiding_spot": term("hiding_spot", "Book").id,
            "finds-0-missed_by_human_search": "y", "finds-0-evidence": "pending",
            "finds-1-device_type": term("device_type", "microSD card").id,
            "finds-1-hiding_spot": "", "finds-1-evidence": "yes",
            "finds-2-device_type": "", "finds-2-hiding_spot": "", "finds-2-evidence": "pending"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}  # None: the field is not sent


def test_a_handler_logs_a_deployment_with_finds_in_the_agency_time_zone(client, login_as, team):
    agency, dog, handler = team
    login_as("handler", agency)
    response = client.post("/deployments/new", data=form_data(dog, handler))
    assert response.status_code == 302
    deployment = db.session.scalars(select(Deployment)).one()
    # 21:30 in Chicago on 14 March 2026 (CDT, UTC-5) is 02:30 UTC on the 15th.
    assert deployment.started_at == datetime(2026, 3, 15, 2, 30, tzinfo=timezone.utc)
    assert (deployment.case_number, deployment.legal_authority, deployment.duration_minutes) == (
        "26-PR-0413", "probation_parole", 95)
    assert [(f.device_type.name, f.hiding_spot.name if f.hiding_spot else None, f.missed_by_human_search, f.evidence)
            for f in deployment.finds] == [("Phone", "Book", True, "pending"), ("microSD card", None, False, "yes")]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "26-PR-0413" in page and "2026-03-14 21:30" in page and "Phone" in page
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.entity == "deployment")).action == "create"


def test_a_deployment_without_finds_and_an_unverified_alert_is_recorded(client, login_as, team):
    agency, dog, handler = team
    login_as("manager", agency)
    data = form_data(dog, handler, **{"alerts-0-outcome": "unverified", "alerts-0-location_note": "Hall closet"})
    for key in [k for k in data if k.startswith("finds-")]:
        data[key] = ""
    assert client.post("/deployments/new", data=data).status_code == 302
    deployment = db.session.scalars(select(Deployment)).one()
    assert deployment.finds == [] and [(a.outcome, a.location_note) for a in deployment.alerts] == [
        ("unverified", "Hall closet")]


@pytest.mark.parametrize("field, value, message", [
    ("finds-0-device_type", "999999", "Unknown device type"),
    # Not an id at all (text, Unicode digits, beyond an INTEGER): the same message as an unknown id.
    ("finds-0-device_type", "not-a-number", "Unknown device type"),
    ("finds-0-device_type", "\u0661", "Unknown device type"),
    ("finds-0-hiding_spot", "99999999999999999999", "Unknown hiding spot"),
    ("day", "9999-12-31", "Enter a day that has passed"),
    ("day", "0001-01-01", "Enter a day that has passed"),
    ("day", "\u0662\u0660\u0662\u0666-03-12", "Use the digits 0-9"),
    ("legal_authority", None, "Choose the legal authority"),
    ("duration_minutes", "\u0666\u0660", "Use the digits 0-9"),
    ("finds-0-hiding_spot", "999999", "Unknown hiding spot"),
    ("legal_authority", "because", "Choose the legal authority"),
    ("duration_minutes", "0", "between 1 and 1440"),
    ("day", "", "Enter the date"),
    ("time", "25:99", "Not a valid time"),
    ("dog", "", "Choose the dog"),
    ("location_type", "999999", "Unknown location type"),
])
def test_bad_input_is_explained_beside_the_field_and_keeps_what_was_typed(client, login_as, team, field, value,
                                                                           message):
    agency, dog, handler = team
    login_as("handler", agency)
    response = client.post("/deployments/new", data=form_data(dog, handler, **{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "26-PR-0413" in page and "Phone inside a hollow book." in page  # nothing typed is lost
    assert db.session.scalars(select(Deployment)).first() is None


def test_a_find_row_without_a_device_type_asks_for_one(client, login_as, team):
    agency, dog, handler = team
    login_as("handler", agency)
    response = client.post("/deployments/new", data=form_data(dog, handler, **{
        "finds-2-missed_by_human_search": "y"}))
    assert response.status_code == 400 and "Choose the device type of this find." in response.get_data(as_text=True)


def test_a_dog_or_handler_of_another_agency_is_refused(client, login_as, team):
    agency, dog, handler = team
    other = make_agency()
    other_dog, other_handler = make_dog(other), make_handler(other)
    db.session.commit()
    login_as("manager", agency)
    response = client.post("/deployments/new", data=form_data(other_dog, handler))
    assert response.status_code == 400 and "Choose one of your agency&#39;s" in response.get_data(as_text=True)
    response = client.post("/deployments/new", data=form_data(dog, other_handler))
    assert response.status_code == 400 and "Choose one of your agency&#39;s" in response.get_data(as_text=True)
    assert client.get(f"/deployments/new?dog_id={other_dog.id}").status_code == 404


def test_an_admin_cannot_pair_a_dog_with_a_handler_of_another_agency(client, login_as, team):
    agency, dog, handler = team
    other_handler = make_handler(make_agency())
    db.session.commit()
    login_as("admin")
    response = client.post("/deployments/new", data=form_data(dog, other_handler))
    assert response.status_code == 400 and "must belong to the same agency as the dog" in response.get_data(as_text=True)


def test_editing_keeps_finds_and_adds_new_ones(client, login_as, team):
    agency, dog, handler = team
    deployment = make_deployment(dog, handler, finds=[{"device": "USB drive", "spot": "Drawer"}])
    db.session.commit()
    login_as("handler", agency)
    page = client.get(f"/deployments/{deployment.id}/edit").get_data(as_text=True)
    assert "2026-CR-0001" in page and 'value="09:00"' not in page  # shown in Chicago time, not UTC
    assert 'value="04:00"' in page
    find_id = deployment.finds[0].id
    response = client.post(f"/deployments/{deployment.id}/edit", data=form_data(dog, handler, **{
        "finds-0-id": str(find_id), "finds-0-device_type": term("device_type", "SSD").id,
        "finds-1-device_type": term("device_type", "Laptop").id}))
    assert response.status_code == 302
    db.session.expire_all()
    assert [(f.id == find_id, f.device_type.name) for f in deployment.finds] == [(True, "SSD"), (False, "Laptop")]


def test_a_find_entered_by_mistake_is_removed_audited_and_leaves_every_figure(client, login_as, team):
    from esd import rollups
    from esd.reports import metrics
    agency, dog, handler = team
    deployment = make_deployment(dog, handler, finds=[{"device": "USB drive", "missed_by_human_search": True},
                                                      {"device": "Phone", "evidence": "yes"}])
    db.session.commit()
    usb, phone = deployment.finds
    login_as("handler", agency)
    page = client.get(f"/deployments/{deployment.id}/edit").get_data(as_text=True)
    assert page.count("Remove this find") == 2  # on the stored finds, not on the blank template row
    response = client.post(f"/deployments/{deployment.id}/edit", data=form_data(dog, handler, **{
        "finds-0-id": str(usb.id), "finds-0-device_type": usb.device_type_id, "finds-0-remove": "y",
        "finds-1-id": str(phone.id), "finds-1-device_type": phone.device_type_id, "finds-1-evidence": "yes"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert [f.device_type.name for f in deployment.finds] == ["Phone"]
    removed = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "find",
                                                          AuditEntry.action == "delete")).one()
    assert removed.entity_id == usb.id and removed.agency_id == agency.id
    impact = metrics.deployment_impact(metrics.Filters(agency_ids=(agency.id,)))
    assert (impact.devices_found, impact.found_after_human_missed, impact.finds_with_evidence) == (1, 0, 1)
    assert rollups.differences(db.session.connection()) == []


def test_a_find_id_of_another_deployment_in_the_edit_form_is_404(client, login_as, team):
    agency, dog, handler = team
    mine = make_deployment(dog, handler)
    other_agency = make_agency()
    theirs = make_deployment(make_dog(other_agency), make_handler(other_agency), finds=[{"device": "Phone"}])
    db.session.commit()
    login_as("manager", agency)
    response = client.post(f"/deployments/{mine.id}/edit", data=form_data(dog, handler, **{
        "finds-0-id": str(theirs.finds[0].id)}))
    assert response.status_code == 404
    assert theirs.finds[0].device_type.name == "Phone"


def test_evidence_is_set_later_on_its_own(client, login_as, team):
    agency, dog, handler = team
    deployment = make_deployment(dog, handler, finds=[{"device": "Phone"}])
    db.session.commit()
    login_as("handler", agency)
    find = deployment.finds[0]
    response = client.post(f"/deployments/{deployment.id}/finds/{find.id}/evidence", data={"evidence": "yes"})
    assert response.status_code == 302
    db.session.refresh(find)
    assert find.evidence == "yes"
    change = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "find", AuditEntry.action == "update")).one()
    assert change.changes == {"evidence": ["pending", "yes"]} and change.reason == "Forensic exam result"
    response = client.post(f"/deployments/{deployment.id}/finds/{find.id}/evidence", data={"evidence": "maybe"},
                           follow_redirects=True)
    assert "Choose yes, no or pending." in response.get_data(as_text=True)
    db.session.refresh(find)
    assert find.evidence == "yes"


def test_a_find_of_another_agencys_deployment_is_404(client, login_as, team):
    agency, dog, handler = team
    mine = make_deployment(dog, handler)
    other_agency = make_agency()
    theirs = make_deployment(make_dog(other_agency), make_handler(other_agency), finds=[{"device": "Phone"}])
    db.session.commit()
    login_as("manager", agency)
    find_id = theirs.finds[0].id
    assert client.post(f"/deployments/{mine.id}/finds/{find_id}/evidence", data={"evidence": "no"}).status_code == 404
    assert client.post(f"/deployments/{theirs.id}/finds/{find_id}/evidence", data={"evidence": "no"}).status_code == 404
    assert db.session.get(Find, find_id).evidence == "pending"


def test_a_manager_archives_a_deployment_and_it_leaves_the_list(client, login_as, team):
    agency, dog, handler = team
    deployment = make_deployment(dog, handler, case_number="26-DUP-1")
    db.session.commit()
    login_as("manager", agency)
    assert "26-DUP-1" in client.get("/deployments").get_data(as_text=True)
    client.post(f"/deployments/{deployment.id}/archive", data={"reason": "Logged twice"})
    db.session.refresh(deployment)
    assert deployment.archived_at is not None
    assert "26-DUP-1" not in client.get("/deployments").get_data(as_text=True)
    assert "26-DUP-1" in client.get("/deployments?archived=y").get_data(as_text=True)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "archive")).one()
    assert entry.reason == "Logged twice"


def test_a_handler_may_not_archive(client, login_as, team):
    agency, dog, handler = team
    deployment = make_deployment(dog, handler)
    db.session.commit()
    login_as("handler", agency)
    assert client.post(f"/deployments/{deployment.id}/archive").status_code == 404
    db.session.refresh(deployment)
    assert deployment.archived_at is None


def test_the_list_filters_and_stays_in_the_agency(client, login_as, team):
    agency, dog, handler = team
    second = make_dog(agency, name="Juno")
    make_deployment(dog, handler, case_number="26-A-1", requesting_agency="City PD",
                    started_at=datetime(2026, 1, 5, 15, tzinfo=timezone.utc), finds=[{"device": "Phone"}])
    make_deployment(second, handler, case_number="26-A-2", requesting_agency="State Police",
                    started_at=datetime(2026, 2, 5, 15, tzinfo=timezone.utc))
    other = make_agency()
    make_deployment(make_dog(other), make_handler(other), case_number="OTHER-9")
    db.session.commit()
    login_as("handler", agency)

    def shown(query=""):
        page = client.get("/deployments" + query).get_data(as_text=True)
        return {c for c in ("26-A-1", "26-A-2", "OTHER-9") if c in page}

    assert shown() == {"26-A-1", "26-A-2"}
    assert shown(f"?dog={second.id}") == {"26-A-2"}
    assert shown("?start=2026-02-01") == {"26-A-2"}
    assert shown("?q=city") == {"26-A-1"}
    assert shown("?with_finds=y") == {"26-A-1"}
    response = client.get("/deployments?start=2026-03-01&end=2026-02-01")
    assert response.status_code == 400 and "The end date is before the start date." in response.get_data(as_text=True)


def test_filtering_the_list_on_another_agencys_dog_is_404(client, login_as, team):
    agency, _, _ = team
    other_dog = make_dog(make_agency())
    db.session.commit()
    login_as("manager", agency)
    assert client.get(f"/deployments?dog={other_dog.id}").status_code == 404


def test_the_form_offers_earlier_requesting_agencies(client, login_as, team):
    agency, dog, handler = team
    make_deployment(dog, handler, requesting_agency="US Marshals")
    other = make_agency()
    make_deployment(make_dog(other), make_handler(other), requesting_agency="Secret Elsewhere")
    db.session.commit()
    login_as("handler", agency)
    page = client.get("/deployments/new").get_data(as_text=True)
    assert '<option value="US Marshals">' in page and "Secret Elsewhere" not in page


def test_funders_never_reach_deployments(client, login_as, team):
    agency, dog, handler = team
    deployment = make_deployment(dog, handler)
    funder = login_as("funder")
    funder.granted_agencies.append(agency)
    db.session.commit()
    assert client.get("/deployments").status_code == 404
    assert client.get(f"/deployments/{deployment.id}").status_code == 404


def test_the_dog_partial_lists_its_deployments(app, client, login_as, team):
    agency, dog, handler = team
    make_deployment(dog, handler, case_number="26-DOG-7")
    db.session.commit()
    user = login_as("manager", agency)
    from flask import render_template_string
    from flask_login import login_user
    from esd.deployments.services import dog_section
    with app.test_request_context():
        login_user(user)
        section = dog_section(dog, datetime.now(timezone.utc).date(), user)
        html = render_template_string('{% include "deployments/_dog_section.html" %}', dog=dog,
                                      sections={"deployments": section})
        assert "26-DOG-7" in html and "Log a deployment" in html
