"""Case outcomes: managers record what a search led to (counts only), correct it later, every change audited."""
from datetime import date

import pytest
from sqlalchemy import func, select

from esd.extensions import db
from esd.models import Agency, AuditEntry, CaseOutcome, User
from tests.helpers import make_agency, make_deployment, make_dog, make_handler, make_user

COUNTS = {"devices_examined": "3", "devices_with_evidence": "2", "arrests": "1", "charges": "4",
          "children_safeguarded": "2"}


@pytest.fixture
def search():
    """One agency's deployment with one find."""
    agency = make_agency(name="Outcome Task Force", timezone="America/Chicago")
    handler = make_handler(agency)
    dog = make_dog(agency)
    deployment = make_deployment(dog, handler, finds=[{"missed_by_human_search": True}])
    db.session.commit()
    return agency, deployment


def url(deployment):
    return f"/deployments/{deployment.id}/outcome"


def test_a_manager_records_an_outcome_and_corrects_it_later_both_audited(client, login_as, search):
    agency, deployment = search
    login_as("manager", agency)
    detail = client.get(f"/deployments/{deployment.id}").get_data(as_text=True)
    assert url(deployment) in detail  # the one link from the deployment page
    form = client.get(url(deployment)).get_data(as_text=True)
    assert "Children identified or safeguarded" in form and "no names" in form
    response = client.post(url(deployment), data=COUNTS)
    assert response.status_code == 302 and response.location.endswith(f"/deployments/{deployment.id}")
    outcome = db.session.scalars(select(CaseOutcome)).one()
    assert (outcome.devices_examined, outcome.devices_with_evidence, outcome.arrests, outcome.charges,
            outcome.children_safeguarded) == (3, 2, 1, 4, 2)
    assert outcome.agency_id == agency.id

    # Known later: one more charge; the children's count is taken back to "not known yet".
    assert client.post(url(deployment), data={**COUNTS, "charges": "5", "children_safeguarded": ""}).status_code == 302
    db.session.expire_all()
    outcome = db.session.scalars(select(CaseOutcome)).one()
    assert outcome.charges == 5 and outcome.children_safeguarded is None
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "case_outcome")
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].reason == "Case outcome recorded" and entries[1].reason == "Case outcome corrected"
    assert entries[1].changes["charges"] == [4, 5]
    assert entries[1].changes["children_safeguarded"] == [2, None]
    # The form shows what was recorded, to correct it.
    assert 'value="5"' in client.get(url(deployment)).get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("devices_with_evidence", "4", "More devices with evidence (4) than examined (3)"),
    ("arrests", "-1", "Use a whole number from 0 to 100,000."),
    ("charges", "99999999999999999999", "Use a whole number from 0 to 100,000."),
    ("children_safeguarded", "two", "Not a valid integer value."),
    ("arrests", "١", "Use the digits 0-9."),
])
def test_bad_counts_are_refused_beside_the_field(client, login_as, search, field, value, message):
    agency, deployment = search
    login_as("manager", agency)
    response = client.post(url(deployment), data={**COUNTS, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == 0


def test_handlers_funders_and_other_agencies_reach_no_outcome_page(client, login_as, search):
    agency, deployment = search
    login_as("manager", make_agency(name="Elsewhere"))
    assert client.get(url(deployment)).status_code == 404
    assert client.post(url(deployment), data=COUNTS).status_code == 404
    client.get("/logout")
    login_as("handler", agency)
    assert client.get(url(deployment)).status_code == 404
    assert "Case outcome" not in client.get(f"/deployments/{deployment.id}").get_data(as_text=True)
    client.get("/logout")
    funder = login_as("funder")
    funder.granted_agencies.append(agency)
    db.session.commit()
    assert client.get(url(deployment)).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CaseOutcome)) == 0


def test_an_outcome_moves_its_agencys_report_version(client, login_as, search):
    from esd.reports.cache import data_version
    from esd.reports.metrics import Filters
    agency, deployment = search
    other = make_agency(name="Untouched")
    db.session.commit()
    before = data_version(Filters(agency_ids=(agency.id,))), data_version(Filters(agency_ids=(other.id,)))
    login_as("manager", agency)
    client.post(url(deployment), data=COUNTS)
    after = data_version(Filters(agency_ids=(agency.id,))), data_version(Filters(agency_ids=(other.id,)))
    assert after[0] != before[0] and after[1] == before[1]


def test_the_admin_sets_an_agencys_region_and_a_funders_fiscal_year_start(client, login_as):
    login_as("admin")
    agency = make_agency(name="Regional Task Force")
    funder = make_user("funder", email="board@example.org")
    db.session.commit()
    data = {"name": agency.name, "timezone": "America/Chicago", "warning_window_days": "60",
            "reminder_thresholds": "90,30", "monthly_training_target_hours": "16", "temperature_unit": "F",
            "region": "  Great Plains "}
    assert client.post(f"/admin/agencies/{agency.id}/edit", data=data).status_code == 302
    assert db.session.get(Agency, agency.id).region == "Great Plains"
    assert "Great Plains" in client.get(f"/admin/agencies/{agency.id}/edit").get_data(as_text=True)

    user = {"email": funder.email, "name": funder.name, "role": "funder", "agency": "", "grants": [agency.id],
            "active": "y", "fiscal_year_start": "13"}
    response = client.post(f"/admin/users/{funder.id}/edit", data=user)
    assert response.status_code == 400
    assert "Choose a month from January to December." in response.get_data(as_text=True)
    assert client.post(f"/admin/users/{funder.id}/edit", data={**user, "fiscal_year_start": "7"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, funder.id).fiscal_year_start == 7
    assert '<option selected value="7">' in client.get(f"/admin/users/{funder.id}/edit").get_data(as_text=True)


def test_the_demo_records_outcomes_for_past_deployments_and_gives_agencies_regions(app):
    from esd.demo import seed_demo
    from esd.demo.outcomes import KNOWN_AFTER
    from esd.models import Deployment
    today = date(2026, 5, 1)
    seed_demo(today)
    assert all(a.region for a in db.session.scalars(select(Agency)))
    outcomes = db.session.execute(select(CaseOutcome, Deployment.started_at)
                                  .join(Deployment, Deployment.id == CaseOutcome.deployment_id)).all()
    assert len(outcomes) >= 10
    assert max(started.date() for _, started in outcomes) < today - KNOWN_AFTER  # recent searches: not known yet
    assert sum(o.arrests for o, _ in outcomes) > 0
    assert all(o.devices_with_evidence <= o.devices_examined for o, _ in outcomes)
