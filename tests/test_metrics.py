"""The metrics against numbers computed by hand on a small fixture."""
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import NotFound

from esd.extensions import db
from esd.reports import metrics
from esd.rates import wilson_interval
from esd.reports.metrics import Filters, build_filters
from tests.helpers import (make_agency, make_certification, make_deployment, make_dog, make_handler,
                           make_session, make_user)


def at(y, m, d, h=14):
    return datetime(y, m, d, h, 0, tzinfo=timezone.utc)


def hide(outcome, device, spot, blind=False):
    return {"outcome": outcome, "device": device, "spot": spot, "blind": blind}


@pytest.fixture
def world():
    """Agency A (UTC): two dogs, three sessions, three deployments; agency B and archived rows must never count.

    Hand count for A: 7 hides, 5 found; USB 3/4, Phone 1/2, SD card 1/1; Book 3/4, Drawer 2/3;
    3 false alerts in 180 minutes; January 4 hides 3 found 1 alert 60 min, February 3 hides 2 found
    2 alerts 120 min. Deployments: 3, finds 3, 2 missed by the human search (in 2 searches),
    evidence yes 1 / no 1 / pending 1, agencies served 2 ("County Probation" twice spelled
    differently, "City PD"), 1 unverified alert.
    """
    a = make_agency(timezone="UTC")
    b = make_agency(timezone="UTC")
    h1, h2, hb = make_handler(a), make_handler(a), make_handler(b)
    d1, d2, db_ = make_dog(a), make_dog(a), make_dog(b)
    make_session(d1, h1, started_at=at(2026, 1, 10), duration_minutes=60, false_alerts=1, hides=[
        hide("found", "USB drive", "Book"), hide("found", "USB drive", "Book"),
        hide("missed", "USB drive", "Book"), hide("found", "Phone", "Drawer", blind=True)])
    make_session(d1, h1, started_at=at(2026, 2, 5), duration_minutes=30, false_alerts=2, hides=[
        hide("found", "USB drive", "Drawer", blind=True), hide("missed", "Phone", "Drawer", blind=True)])
    make_session(d2, h2, started_at=at(2026, 2, 20), duration_minutes=90, hides=[
        hide("found", "SD card", "Book")])
    make_session(d1, h1, started_at=at(2026, 2, 1), duration_minutes=45, false_alerts=5,
                 archived_at=at(2026, 2, 2), hides=[hide("missed", "USB drive", "Book")])
    make_session(db_, hb, started_at=at(2026, 1, 12), duration_minutes=120, false_alerts=4,
                 hides=[hide("missed", "Laptop", "Toy")] * 10)
    make_deployment(d1, h1, started_at=at(2026, 1, 15), requesting_agency="County Probation", finds=[
        {"device": "USB drive", "spot": "Book", "missed_by_human_search": True, "evidence": "yes"},
        {"device": "Phone", "spot": "Drawer", "missed_by_human_search": False, "evidence": "pending"}])
    make_deployment(d1, h1, started_at=at(2026, 2, 10), requesting_agency=" county probation ", finds=[
        {"device": "SD card", "spot": "Book", "missed_by_human_search": True, "evidence": "no"}])
    make_deployment(d2, h2, started_at=at(2026, 2, 11), requesting_agency="City PD",
                    alerts=[{"outcome": "unverified"}])
    make_deployment(d1, h1, started_at=at(2026, 2, 12), archived_at=at(2026, 2, 13),
                    finds=[{"device": "Phone", "missed_by_human_search": True, "evidence": "yes"}])
    make_deployment(db_, hb, started_at=at(2026, 1, 20), requesting_agency="Elsewhere",
                    finds=[{"device": "Laptop", "missed_by_human_search": True, "evidence": "yes"}] * 3)
    db.session.commit()
    return SimpleNamespace(a=a, b=b, d1=d1, d2=d2, db=db_, h1=h1, h2=h2, hb=hb,
                           f=Filters(agency_ids=(a.id,)))


def test_overall_find_rate(world):
    rate = metrics.find_rate(world.f)
    assert (rate.found, rate.n) == (5, 7)
    assert rate.rate == pytest.approx(5 / 7)
    assert (rate.low, rate.high) == wilson_interval(5, 7)


def test_find_rate_per_device_type_weakest_first(world):
    rates = metrics.find_rates(world.f, by="device_type")
    assert [(r.label, r.found, r.n) for r in rates] == [("Phone", 1, 2), ("USB drive", 3, 4), ("SD card", 1, 1)]


def test_find_rate_per_hiding_spot_weakest_first(world):
    rates = metrics.find_rates(world.f, by="hiding_spot")
    assert [(r.label, r.found, r.n) for r in rates] == [("Drawer", 2, 3), ("Book", 3, 4)]


def test_device_spot_matrix(world):
    matrix = metrics.device_spot_matrix(world.f)
    assert {k: (r.found, r.n) for k, r in matrix.cells.items()} == {
        ("USB drive", "Book"): (2, 3), ("Phone", "Drawer"): (1, 2),
        ("USB drive", "Drawer"): (1, 1), ("SD card", "Book"): (1, 1)}
    assert matrix.devices == ["Phone", "USB drive", "SD card"]
    assert matrix.spots == ["Drawer", "Book"]


def test_training_totals_false_alerts_and_hours(world):
    totals = metrics.training_totals(world.f)
    assert (totals.sessions, totals.minutes, totals.hides, totals.found, totals.false_alerts) == (3, 180, 7, 5, 3)
    assert totals.hours == 3.0
    assert totals.false_alerts_per_hour == pytest.approx(1.0)
    assert totals.false_alerts_per_100_hides == pytest.approx(300 / 7)
    assert metrics.training_hours(world.f) == 3.0
    assert metrics.false_alerts_per_hour(world.f) == pytest.approx(1.0)


def test_monthly_training(world):
    months = metrics.monthly_training(world.f)
    assert [(m.month, m.hides, m.found, m.false_alerts, m.minutes) for m in months] == [
        (date(2026, 1, 1), 4, 3, 1, 60), (date(2026, 2, 1), 3, 2, 2, 120)]
    assert months[0].false_alerts_per_100_hides == 25.0
    assert months[1].rate.found == 2 and months[1].hours == 2.0


def test_monthly_training_fills_empty_months_of_a_period(world):
    f = Filters(agency_ids=(world.a.id,), start=date(2025, 12, 1), end=date(2026, 3, 31))
    months = metrics.monthly_training(f)
    assert [(m.month.month, m.hides) for m in months] == [(12, 0), (1, 4), (2, 3), (3, 0)]


def test_blind_only_counts_blind_hides_and_their_sessions(world):
    f = Filters(agency_ids=(world.a.id,), blind_only=True)
    rate = metrics.find_rate(f)
    assert (rate.found, rate.n) == (2, 3)
    totals = metrics.training_totals(f)
    assert (totals.sessions, totals.minutes, totals.false_alerts) == (2, 90, 3)


def test_dog_handler_and_period_filters(world):
    assert metrics.find_rate(Filters(agency_ids=(world.a.id,), dog_id=world.d1.id)).n == 6
    assert metrics.find_rate(Filters(agency_ids=(world.a.id,), handler_id=world.h2.id)).n == 1
    feb = Filters(agency_ids=(world.a.id,), start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert (metrics.find_rate(feb).found, metrics.find_rate(feb).n) == (2, 3)
    assert metrics.deployment_impact(feb).deployments == 2


def test_period_boundaries_follow_the_agency_time_zone():
    agency = make_agency(timezone="America/New_York")
    handler, dog = make_handler(agency), make_dog(agency)
    # 03:00 UTC on 1 February is 22:00 on 31 January in New York.
    make_session(dog, handler, started_at=datetime(2026, 2, 1, 3, 0, tzinfo=timezone.utc),
                 hides=[hide("found", "Phone", "Book")])
    db.session.commit()
    f = Filters(agency_ids=(agency.id,), tz="America/New_York")
    assert [(m.month, m.hides) for m in metrics.monthly_training(f)] == [(date(2026, 1, 1), 1)]
    january = Filters(agency_ids=(agency.id,), tz="America/New_York", start=date(2026, 1, 1), end=date(2026, 1, 31))
    assert metrics.find_rate(january).n == 1


def test_deployment_impact(world):
    impact = metrics.deployment_impact(world.f)
    assert impact == metrics.Impact(deployments=3, devices_found=3, found_after_human_missed=2,
                                    searches_with_missed_find=2, searches_with_find=2, finds_with_evidence=1,
                                    finds_evidence_pending=1, agencies_served=2, unverified_alerts=1,
                                    alerts=1, alerts_confirmed=0, alerts_explained=0, finds_without_evidence=1)
    assert impact.share_missed_by_humans == pytest.approx(2 / 3)
    assert impact.share_searches_with_missed_find == pytest.approx(2 / 3)
    assert impact.evidence == {"yes": 1, "no": 1, "pending": 1}


def test_monthly_impact(world):
    months = metrics.monthly_impact(world.f)
    assert [(m.month.month, m.deployments, m.devices_found, m.found_after_human_missed, m.finds_with_evidence,
             m.unverified_alerts) for m in months] == [(1, 1, 2, 1, 1, 0), (2, 2, 1, 1, 0, 1)]


def test_dogs_certified_counts_valid_passes_only(world):
    make_certification(world.d1, issued_on=date(2026, 1, 1))
    make_certification(world.d1, issued_on=date(2025, 6, 1))  # same dog twice: counted once
    make_certification(world.d2, issued_on=date(2024, 1, 1))  # expired
    make_certification(world.db, issued_on=date(2026, 1, 1))  # other agency
    db.session.commit()
    assert metrics.dogs_certified(world.f, on=date(2026, 3, 1)) == 1
    assert metrics.dogs_certified(Filters(agency_ids=None), on=date(2026, 3, 1)) == 2


def test_empty_data_gives_zeroes_not_errors():
    agency = make_agency()
    db.session.commit()
    f = Filters(agency_ids=(agency.id,))
    assert metrics.find_rate(f).n == 0 and metrics.find_rate(f).rate is None
    assert metrics.find_rates(f) == [] and metrics.device_spot_matrix(f).cells == {}
    assert metrics.monthly_training(f) == [] and metrics.monthly_impact(f) == []
    assert metrics.false_alerts_per_hour(f) is None and metrics.training_hours(f) == 0
    assert metrics.deployment_impact(f).deployments == 0
    assert metrics.deployment_impact(f).share_missed_by_humans is None
    assert metrics.find_rate(Filters(agency_ids=())).n == 0  # a funder granted nothing


def test_a_dog_outside_the_filters_agencies_is_404_in_every_metric(world):
    f = Filters(agency_ids=(world.a.id,), dog_id=world.db.id)
    for call in (metrics.find_rate, metrics.find_rates, metrics.device_spot_matrix, metrics.monthly_training,
                 metrics.training_totals, metrics.deployment_impact, metrics.monthly_impact,
                 lambda f: metrics.dogs_certified(f, on=date(2026, 1, 1))):
        with pytest.raises(NotFound):
            call(f)


def test_build_filters_limits_a_funder_to_granted_agencies(world):
    funder = make_user("funder")
    funder.granted_agencies.append(world.a)
    db.session.commit()
    assert build_filters(funder).agency_ids == (world.a.id,)
    assert build_filters(funder, agency_id=world.a.id).agency_ids == (world.a.id,)
    with pytest.raises(NotFound):
        build_filters(funder, agency_id=world.b.id)
    with pytest.raises(NotFound):
        build_filters(funder, dog_id=world.d1.id)  # funders see no dog-level figures
    nobody = make_user("funder")
    assert metrics.find_rate(build_filters(nobody)).n == 0


@pytest.mark.parametrize("kwargs", [
    {"dog_id": "other"}, {"handler_id": "other"}, {"agency_id": "other"}, {"dog_id": 999999}])
def test_build_filters_refuses_records_out_of_scope(world, kwargs):
    manager = make_user("manager", world.a)
    values = {k: ({"dog_id": world.db.id, "handler_id": world.hb.id, "agency_id": world.b.id}[k]
                  if v == "other" else v) for k, v in kwargs.items()}
    with pytest.raises(NotFound):
        build_filters(manager, **values)


def test_build_filters_for_a_manager_uses_the_agency_and_its_time_zone(world):
    world.a.timezone = "America/Chicago"
    manager = make_user("manager", world.a)
    f = build_filters(manager, dog_id=world.d1.id)
    assert f.agency_ids == (world.a.id,) and f.tz == "America/Chicago"
    admin = make_user("admin")
    assert build_filters(admin).agency_ids is None
    assert build_filters(admin, dog_id=world.db.id).agency_ids == (world.b.id,)


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before the start"):
        Filters(agency_ids=(), start=date(2026, 2, 1), end=date(2026, 1, 1))
