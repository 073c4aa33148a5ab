"""Every field alert has an outcome: recording alerts on a deployment, the form's refusals, field
accuracy with its interval against hand-computed values, and where it shows (dog page, dashboard,
reliability record), kept right in the rollups, the report cache and the record's digest."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from esd.exports.packet import build_packet, digest, source_rows
from esd.extensions import db
from esd.models import AuditEntry, Deployment, DeploymentRollup, FieldAlert, Find
from esd.reports import metrics
from esd.reports.cache import data_version
from esd.reports.metrics import Filters
from tests.helpers import make_agency, make_deployment, make_dog, make_handler, make_team, make_user, term


def at(month, day):
    return datetime(2026, month, day, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def field():
    """Agency A (UTC), dog Rex: three deployments with 7 alerts, 3 confirmed; an archived one, another
    dog's and another agency's alerts must not count for Rex.

    Hand count for Rex: January 2 confirmed + 1 unverified; February 1 confirmed + 1 explained;
    March 2 unverified. All: 3 of 7. February alone: 1 of 2. Agency A (Rex and Nova, 1 of 1): 4 of 8.
    """
    a, b = make_agency(name="Alpha ICAC", timezone="UTC"), make_agency(name="Beta ICAC", timezone="UTC")
    handler, other_handler, b_handler = make_handler(a, name="Dana Reyes"), make_handler(a), make_handler(b)
    rex, nova, byte = make_dog(a, name="Rex"), make_dog(a, name="Nova"), make_dog(b, name="Byte")
    make_team(rex, handler)
    phone = {"device": "Phone", "spot": "Drawer"}
    make_deployment(rex, handler, started_at=at(1, 10), case_number="26-CR-0110", finds=[phone, {"device": "USB drive"}],
                    alerts=[{"outcome": "confirmed", "find": 0}, {"outcome": "confirmed", "find": 1},
                            {"outcome": "unverified", "location_note": "Hall closet", "spot": "Furniture"}])
    make_deployment(rex, handler, started_at=at(2, 3), case_number="26-CR-0203", finds=[phone],
                    alerts=[{"outcome": "confirmed", "find": 0},
                            {"outcome": "explained", "location_note": "Kitchen drawer",
                             "explanation": "The occupant handed the phone to the case agent before the search"}])
    make_deployment(rex, handler, started_at=at(3, 5), case_number="26-CR-0305",
                    alerts=[{"outcome": "unverified"}, {"outcome": "unverified", "location_note": "Car trunk"}])
    make_deployment(rex, handler, started_at=at(3, 6), archived_at=at(3, 7), alerts=[{"outcome": "unverified"}] * 3)
    make_deployment(nova, other_handler, started_at=at(2, 8), finds=[phone], alerts=[{"outcome": "confirmed", "find": 0}])
    make_deployment(byte, b_handler, started_at=at(2, 9), alerts=[{"outcome": "unverified"}] * 4)
    db.session.commit()
    return a, b, rex, nova, handler


def test_field_accuracy_of_a_dog_against_hand_computed_values(field):
    a, _, rex, *_ = field
    impact = metrics.deployment_impact(Filters(agency_ids=(a.id,), dog_id=rex.id))
    accuracy = impact.field_accuracy
    assert (accuracy.found, accuracy.n) == (3, 7)
    assert (impact.alerts_confirmed, impact.unverified_alerts, impact.alerts_explained) == (3, 3, 1)
    # Wilson, z = 1.96: p = 3/7, centre (p + z²/14) / (1 + z²/7) = 0.4539, margin 0.2957.
    assert accuracy.rate == pytest.approx(0.428571, abs=1e-6)
    assert (accuracy.low, accuracy.high) == (pytest.approx(0.158217, abs=1e-6), pytest.approx(0.749546, abs=1e-6))


def test_field_accuracy_of_a_period(field):
    a, _, rex, *_ = field
    february = metrics.deployment_impact(Filters(agency_ids=(a.id,), dog_id=rex.id, start=date(2026, 2, 1),
                                                 end=date(2026, 2, 28))).field_accuracy
    assert (february.found, february.n) == (1, 2)
    assert (february.low, february.high) == (pytest.approx(0.094529, abs=1e-6), pytest.approx(0.905471, abs=1e-6))


def test_field_accuracies_of_several_periods_equal_the_impacts_of_each(field):
    a, _, rex, *_ = field
    rex_only = Filters(agency_ids=(a.id,), dog_id=rex.id)
    periods = [(None, None), (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 2, 1), None), (None, date(2026, 1, 31))]
    expected = [metrics.deployment_impact(metrics.with_period(rex_only, *p)).field_accuracy for p in periods]
    assert metrics.field_accuracies(rex_only, periods) == expected
    assert [(r.found, r.n) for r in expected] == [(3, 7), (1, 2), (1, 4), (2, 3)]


@pytest.mark.parametrize("start, end", [(None, None), (date(2026, 1, 1), date(2026, 3, 31)),
                                        (date(2026, 1, 15), date(2026, 3, 31))])
def test_agency_field_accuracy_is_the_same_from_the_rollups_and_the_raw_rows(field, start, end):
    a = field[0]
    f = Filters(agency_ids=(a.id,), start=start, end=end)
    rolled, raw = metrics.deployment_impact(f), metrics.deployment_impact(f, raw=True)
    assert rolled == raw
    expected = (4, 8) if start is None or start.day == 1 else (2, 5)  # from 15 January: Feb and Mar only
    assert (rolled.field_accuracy.found, rolled.field_accuracy.n) == expected


def test_a_changed_outcome_moves_the_monthly_rollup_and_the_agencys_report_version(field):
    a, b, rex, *_ = field
    before_a, before_b = data_version(Filters(agency_ids=(a.id,))), data_version(Filters(agency_ids=(b.id,)))
    march = db.session.scalars(select(Deployment).where(Deployment.case_number == "26-CR-0305")).one()
    march.alerts[0].outcome, march.alerts[0].explanation = "explained", "Residual odour of a charger"
    db.session.commit()
    row = db.session.scalars(select(DeploymentRollup).where(DeploymentRollup.agency_id == a.id,
                                                           DeploymentRollup.month == date(2026, 3, 1))).one()
    assert (row.alerts, row.alerts_confirmed, row.unverified_alerts, row.alerts_explained) == (2, 0, 1, 1)
    assert data_version(Filters(agency_ids=(a.id,))) != before_a
    assert data_version(Filters(agency_ids=(b.id,))) == before_b


@pytest.mark.parametrize("outcome, with_find, explanation", [
    ("confirmed", False, None),        # confirmed without its find
    ("unverified", True, None),        # a find on an alert that recovered nothing
    ("explained", False, None),        # explained without why
    ("explained", False, ""),
    ("maybe", False, None),            # not an outcome
])
def test_the_database_refuses_an_alert_without_what_its_outcome_needs(field, outcome, with_find, explanation):
    march = _deployment("26-CR-0305")
    find = Find(device_type_id=term("device_type").id) if with_find else None
    if find is not None:
        march.finds.append(find)
    march.alerts.append(FieldAlert(outcome=outcome, find=find, explanation=explanation))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --------------------------------------------------------------------------- the form

def form_data(dog, handler, **overrides):
    data = {"dog": dog.id, "handler": handler.id, "day": "2026-03-14", "time": "21:30",
            "case_number": "26-PR-0413", "legal_authority": "search_warrant",
            "finds-0-device_type": term("device_type", "Phone").id, "finds-0-hiding_spot": term("hiding_spot", "Book").id,
            "finds-0-evidence": "pending",
            "alerts-0-outcome": "confirmed", "alerts-0-find": "new-0", "alerts-0-hiding_spot": term("hiding_spot", "Book").id,
            "alerts-0-location_note": "Bookshelf, living room",
            "alerts-1-outcome": "explained", "alerts-1-location_note": "Bedroom dresser",
            "alerts-1-explanation": "Laptop removed by the suspect's roommate before the search"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_handler_logs_a_search_with_a_confirmed_and_an_explained_alert(client, login_as, field):
    a, _, rex, _, handler = field
    login_as("handler", a)
    response = client.post("/deployments/new", data=form_data(rex, handler))
    assert response.status_code == 302
    deployment = db.session.scalars(select(Deployment).where(Deployment.case_number == "26-PR-0413")).one()
    confirmed, explained = deployment.alerts
    assert (confirmed.outcome, confirmed.find, confirmed.hiding_spot.name) == ("confirmed", deployment.finds[0], "Book")
    assert (explained.outcome, explained.find, explained.explanation) == (
        "explained", None, "Laptop removed by the suspect's roommate before the search")
    created = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "field_alert", AuditEntry.entity_id.in_([x.id for x in deployment.alerts]))).all()
    assert len(created) == 2 and {(e.action, e.agency_id, e.reason) for e in created} == {
        ("create", a.id, "Deployment logged")}
    page = client.get(f"/deployments/{deployment.id}").get_data(as_text=True)
    assert "Bookshelf, living room" in page and f'href="#find-{deployment.finds[0].id}"' in page
    assert "roommate before the search" in page


@pytest.mark.parametrize("overrides, message", [
    ({"alerts-1-explanation": "  "}, "Say why nothing was recovered"),
    ({"alerts-0-find": ""}, "A confirmed alert names the find recovered there"),
    ({"alerts-0-find": "new-7"}, "not one of this deployment&#39;s finds"),
    ({"alerts-0-find": "99999999999999999999"}, "not one of this deployment&#39;s finds"),
    ({"alerts-0-outcome": "maybe"}, "Choose confirmed, unverified or explained."),
    ({"alerts-0-outcome": ""}, "Choose the outcome of this alert."),
    ({"alerts-1-outcome": "confirmed", "alerts-1-find": "new-0"}, "Another alert already names this find"),
    ({"finds-0-device_type": "", "finds-0-hiding_spot": ""}, "That find row has no device type yet"),
    ({"alerts-0-location_note": "x" * 201}, "Field cannot be longer than 200 characters"),
])
def test_the_form_refuses_an_alert_it_cannot_store_and_stores_nothing(client, login_as, field, overrides, message):
    a, _, rex, _, handler = field
    login_as("manager", a)
    before = db.session.scalar(select(db.func.count()).select_from(FieldAlert))
    response = client.post("/deployments/new", data=form_data(rex, handler, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(FieldAlert)) == before
    assert db.session.scalars(select(Deployment).where(Deployment.case_number == "26-PR-0413")).first() is None


def _edit_data(deployment, **overrides):
    """The edit form as the page posts it: the deployment's finds and alerts as they are."""
    local = deployment.started_at
    data = {"dog": deployment.dog_id, "handler": deployment.handler_id, "day": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"), "legal_authority": deployment.legal_authority,
            "case_number": deployment.case_number}
    for i, f in enumerate(deployment.finds):
        data |= {f"finds-{i}-id": str(f.id), f"finds-{i}-device_type": f.device_type_id, f"finds-{i}-evidence": f.evidence,
                 f"finds-{i}-hiding_spot": f.hiding_spot_id or ""}
    for i, alert in enumerate(deployment.alerts):
        data |= {f"alerts-{i}-id": str(alert.id), f"alerts-{i}-outcome": alert.outcome,
                 f"alerts-{i}-hiding_spot": alert.hiding_spot_id or "",
                 f"alerts-{i}-find": str(alert.find_id) if alert.find_id else "",
                 f"alerts-{i}-explanation": alert.explanation or "", f"alerts-{i}-location_note": alert.location_note or ""}
    data.update(overrides)
    return data


def _deployment(case_number):
    return db.session.scalars(select(Deployment).where(Deployment.case_number == case_number)).one()


def test_a_confirmed_alert_naming_a_find_of_another_deployment_is_refused(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    january, february = _deployment("26-CR-0110"), _deployment("26-CR-0203")
    others = str(january.finds[0].id)
    response = client.post(f"/deployments/{february.id}/edit", data=_edit_data(february, **{"alerts-0-find": others}))
    assert response.status_code == 400
    assert "That find is not one of this deployment&#39;s finds" in response.get_data(as_text=True)
    db.session.expire_all()
    assert _deployment("26-CR-0203").alerts[0].find_id == february.finds[0].id


def test_removing_the_find_of_a_confirmed_alert_is_refused_until_the_alert_changes(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    february = _deployment("26-CR-0203")
    response = client.post(f"/deployments/{february.id}/edit", data=_edit_data(february, **{"finds-0-remove": "y"}))
    assert response.status_code == 400 and "That find is being removed" in response.get_data(as_text=True)
    response = client.post(f"/deployments/{february.id}/edit", data=_edit_data(
        february, **{"finds-0-remove": "y", "alerts-0-outcome": "unverified", "alerts-0-find": ""}))
    assert response.status_code == 302
    db.session.expire_all()
    february = _deployment("26-CR-0203")
    assert february.finds == [] and [x.outcome for x in february.alerts] == ["unverified", "explained"]


def test_correcting_and_removing_alerts_is_audited_and_moves_field_accuracy(client, login_as, field):
    a, _, rex, *_ = field
    login_as("manager", a)
    march = _deployment("26-CR-0305")
    first, second = march.alerts
    response = client.post(f"/deployments/{march.id}/edit", data=_edit_data(march, **{
        "alerts-0-outcome": "explained", "alerts-0-explanation": "Residual odour: a tablet charged there",
        "alerts-1-remove": "y"}))
    assert response.status_code == 302
    entries = {(e.action, e.entity_id): e for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "field_alert", AuditEntry.action != "create"))}
    assert entries[("update", first.id)].changes["outcome"] == ["unverified", "explained"]
    assert entries[("update", first.id)].reason == "Deployment corrected"
    assert ("delete", second.id) in entries
    accuracy = metrics.deployment_impact(Filters(agency_ids=(a.id,), dog_id=rex.id)).field_accuracy
    assert (accuracy.found, accuracy.n) == (3, 6)


def test_an_alert_id_of_another_deployment_is_not_found(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    january, march = _deployment("26-CR-0110"), _deployment("26-CR-0305")
    data = _edit_data(march, **{"alerts-0-id": str(january.alerts[2].id)})
    assert client.post(f"/deployments/{march.id}/edit", data=data).status_code == 404
    db.session.expire_all()
    assert _deployment("26-CR-0110").alerts[2].outcome == "unverified"


def _alerts_of(case_number):
    db.session.expire_all()
    return [(x.outcome, x.find_id) for x in _deployment(case_number).alerts]


def test_saving_a_deployment_unchanged_keeps_its_alerts_and_writes_no_change(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    january = _deployment("26-CR-0110")
    before = _alerts_of("26-CR-0110")
    ids = [x.id for x in january.alerts]
    assert client.post(f"/deployments/{january.id}/edit", data=_edit_data(january)).status_code == 302
    assert _alerts_of("26-CR-0110") == before and [x.id for x in _deployment("26-CR-0110").alerts] == ids
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "field_alert",
                                                       AuditEntry.action != "create")).all() == []


def test_an_alert_takes_the_find_of_another_alert_in_one_save(client, login_as, field):
    """The earlier alert takes the later one's find: the later lets go first (UNIQUE find_id, no 500)."""
    a, _, rex, *_ = field
    login_as("manager", a)
    january = _deployment("26-CR-0110")
    phone, usb = (f.id for f in january.finds)
    response = client.post(f"/deployments/{january.id}/edit", data=_edit_data(january, **{
        "alerts-0-find": str(usb), "alerts-1-outcome": "unverified", "alerts-1-find": "",
        "alerts-2-outcome": "confirmed", "alerts-2-find": str(phone)}))
    assert response.status_code == 302
    assert _alerts_of("26-CR-0110") == [("confirmed", usb), ("unverified", None), ("confirmed", phone)]
    accuracy = metrics.deployment_impact(Filters(agency_ids=(a.id,), dog_id=rex.id)).field_accuracy
    assert (accuracy.found, accuracy.n) == (3, 7)
    # And saving the page again as it now is changes nothing.
    assert client.post(f"/deployments/{january.id}/edit", data=_edit_data(_deployment("26-CR-0110"))).status_code == 302
    assert _alerts_of("26-CR-0110") == [("confirmed", usb), ("unverified", None), ("confirmed", phone)]


def test_two_confirmed_alerts_exchanging_their_finds_are_saved(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    january = _deployment("26-CR-0110")
    phone, usb = (f.id for f in january.finds)
    response = client.post(f"/deployments/{january.id}/edit", data=_edit_data(january, **{
        "alerts-0-find": str(usb), "alerts-1-find": str(phone)}))
    assert response.status_code == 302
    assert sorted(_alerts_of("26-CR-0110")) == [("confirmed", phone), ("confirmed", usb), ("unverified", None)]
    assert db.session.scalar(select(db.func.count()).select_from(FieldAlert).where(
        FieldAlert.deployment_id == january.id)) == 3


def test_a_post_leaving_out_a_confirmed_alert_cannot_name_its_find_again(client, login_as, field):
    """What the fuzz test sent: the first alert's id left out, so the row reads as a new alert."""
    a = field[0]
    login_as("manager", a)
    january = _deployment("26-CR-0110")
    before = _alerts_of("26-CR-0110")
    data = _edit_data(january)
    del data["alerts-0-id"]
    response = client.post(f"/deployments/{january.id}/edit", data=data)
    assert response.status_code == 400
    assert "Another alert already names this find" in response.get_data(as_text=True)
    assert _alerts_of("26-CR-0110") == before


# --------------------------------------------------------------------------- where it shows

def test_the_dog_page_shows_field_accuracy_with_its_interval(client, login_as, field):
    a, _, rex, *_ = field
    login_as("handler", a)
    page = client.get(f"/dogs/{rex.id}").get_data(as_text=True)
    assert "Field accuracy" in page
    assert '43% <span class="text-muted small">(3 of 7; 95% CI 16–75%)</span>' in page


def test_the_program_dashboard_shows_the_agencys_field_accuracy(client, login_as, field):
    a = field[0]
    login_as("manager", a)
    page = client.get("/reports/dashboard?start=2026-01-01&end=2026-03-31").get_data(as_text=True)
    assert '50% <span class="text-muted small">(4 of 8; 95% CI 22–78%)</span>' in page
    rex_page = client.get(f"/reports/dashboard?start=2026-02-01&end=2026-02-28&dog={field[2].id}").get_data(as_text=True)
    assert '50% <span class="text-muted small">(1 of 2; 95% CI 9–91%)</span>' in rex_page


def test_the_reliability_record_lists_alerts_without_a_find_with_their_dates(client, login_as, field):
    a, _, rex, *_ = field
    manager = make_user("manager", a)
    db.session.commit()
    packet = build_packet(rex, date(2026, 3, 31), manager, datetime(2026, 4, 1, tzinfo=timezone.utc),
                          with_charts=False)
    assert (packet.impact.field_accuracy.found, packet.impact.field_accuracy.n) == (3, 7)
    login_as("manager", a)
    page = client.get(f"/dogs/{rex.id}/reliability-record?as_of=2026-03-31").get_data(as_text=True)
    assert "Field alerts" in page and "42.9% (3 of 7; 95% CI 15.8–75.0%)" in page
    for when, where in (("2026-01-10", "Furniture: Hall closet"), ("2026-02-03", "Kitchen drawer"),
                        ("2026-03-05", "Car trunk")):
        assert when in page and where in page
    assert "handed the phone to the case agent" in page
    # The archived deployment's three alerts are neither counted nor listed.
    assert page.count(">unverified<") == 3


def test_the_records_digest_covers_its_alerts(field):
    a, _, rex, *_ = field
    before = digest(source_rows(rex, date(2026, 3, 31)))
    alert = _deployment("26-CR-0305").alerts[1]
    alert.location_note = "Car trunk, spare wheel well"
    db.session.commit()
    assert digest(source_rows(rex, date(2026, 3, 31))) != before
