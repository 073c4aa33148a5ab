"""The reliability record's blind-versus-known section and assessments, and the digest over closed plans."""
from datetime import date, datetime, timezone

import pytest

from esd.assessments import services
from esd.exports.packet import build_packet, digest, document, source_rows
from esd.exports.pdf import Grid
from esd.extensions import db
from tests.assessment_builders import area, make_plan, make_standard
from tests.helpers import make_agency, make_dog, make_handler, make_session, make_team, make_user

AS_OF = date(2026, 3, 15)
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def juno(db_session):
    """A dog with a known session, a double-blind planned session, a failed single-blind assessment,
    a passed double-blind one, and a plan still open (sealed)."""
    agency = make_agency(name="Metro ICAC")
    trainer = make_user("manager", agency, name="Sgt. Trainer")
    handler = make_handler(agency, name="Officer Reyes")
    dog = make_dog(agency, name="Juno")
    make_team(dog, handler)
    make_session(dog, handler, started_at=datetime(2026, 3, 1, 15, tzinfo=timezone.utc), hides=[
        {"outcome": "found"}, {"outcome": "missed"}])
    std = make_standard(agency)
    training = make_plan(dog, handler, trainer, areas=[
        area("R1", "USB drive", "Book", "alert", "Book"), area("R2", "USB drive", "Drawer", "alert", "Drawer"),
        area("R3", "SIM card", "Book", "alert", "Book"), area("R4", "SIM card", "Book", "no_alert"),
        area("R5", outcome="alert", alert_spot="Drawer"), area("R6", outcome="no_alert")])
    failed = make_plan(dog, handler, trainer, blindness="single_blind", kind="certification", standard_id=std.id,
                       certifying_body_id=std.certifying_body_id, evaluator="J. Evaluator", areas=[
                           area("C1", "USB drive", "Book", "alert", "Book"), area("C2", "USB drive", "Book", "no_alert"),
                           area("C3", outcome="no_alert")])
    passed = make_plan(dog, handler, trainer, kind="certification", standard_id=std.id,
                       certifying_body_id=std.certifying_body_id, evaluator="J. Evaluator", areas=[
                           area("C1", "USB drive", "Book", "alert", "Book"), area("C2", "Phone", "Drawer", "alert", "Drawer"),
                           area("C3", outcome="no_alert")])
    for plan in (training, failed, passed):
        services.close(plan, trainer, NOW, 40)
    sealed = make_plan(dog, handler, trainer, areas=[area("S1", "Laptop", "Book", "no_alert")])
    db_session.commit()
    return dog, trainer, sealed


def test_blind_and_known_side_by_side_with_intervals(juno):
    dog, trainer, _ = juno
    rows = {r.label: r for r in build_packet(dog, AS_OF, trainer, NOW, with_charts=False).assessments.performance}
    assert (rows["Known to the handler (all sessions)"].rate.found, rows["Known to the handler (all sessions)"].rate.n) == (1, 2)
    blind = rows["Blind to the handler (all sessions)"].rate
    assert (blind.found, blind.n) == (6, 8)  # 3 of 4 + 1 of 2 + 2 of 2; the open plan is not counted
    assert round(blind.low, 4) == 0.4093 and round(blind.high, 4) == 0.9285  # Wilson, by hand
    double = rows["Planned, double-blind"]
    assert (double.rate.found, double.rate.n, double.false_alerts, double.negatives) == (5, 6, 1, 3)
    single = rows["Planned, single-blind"]
    assert (single.rate.found, single.rate.n, single.false_alerts, single.negatives) == (1, 2, 0, 1)
    assert "Planned, known" not in rows


def test_the_assessments_with_their_results_negative_searches_and_false_alerts(juno):
    dog, trainer, _ = juno
    packet = build_packet(dog, AS_OF, trainer, NOW, with_charts=False)
    rows = [(a.plan.result, a.found, a.hides, a.missed, a.false_alerts, a.negatives) for a in packet.assessments.assessments]
    assert rows == [("fail", 1, 2, 1, 0, 1), ("pass", 2, 2, 0, 0, 1)]
    grids = [b for b in document(packet).blocks if isinstance(b, Grid) and "Criteria not met" in b.header]
    assert grids[0].rows[0][-1].startswith("Find rate: 50% (1 of 2") and grids[0].rows[1][-1] == "none"


def test_the_digest_covers_closed_plans_and_not_sealed_ones(juno):
    dog, trainer, sealed = juno
    before = digest(source_rows(dog, AS_OF))
    sealed.areas[0].aid = "Aid changed while sealed"
    db.session.commit()
    assert digest(source_rows(dog, AS_OF)) == before  # an open plan is in no record yet
    rows = source_rows(dog, AS_OF)
    assert len(rows["planned_session"]) == 3 and len(rows["planned_area"]) == 12
    assert len(rows["assessment_standard"]) == 1
    closed_area = db.session.get(type(sealed.areas[0]), rows["planned_area"][0]["id"])
    closed_area.placed_by = "Someone else"
    db.session.commit()
    assert digest(source_rows(dog, AS_OF)) != before
