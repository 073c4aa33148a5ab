"""The demo's planned sessions and assessments: Josie fails her certification evaluation, then passes."""
from datetime import date

from sqlalchemy import select

from esd.demo import demo_logins, seed_demo
from esd.extensions import db
from esd.models import PlannedSession, User
from esd.roles import is_trainer


def test_the_demo_has_a_failed_then_passed_assessment_and_a_sealed_plan_for_today():
    seed_demo(date(2026, 5, 1))
    plans = list(db.session.scalars(select(PlannedSession).order_by(PlannedSession.planned_on)))
    josie = [(p.planned_on, p.result) for p in plans if p.dog.name == "Josie"]
    assert [result for _, result in josie] == ["fail", "pass"] and josie[0][0] < josie[1][0]
    failed = next(p for p in plans if p.result == "fail")
    assert [c["name"] for c in failed.criteria if not c["met"]] == ["Find rate", "Missed aids per environment"]
    open_plans = [p for p in plans if not p.is_closed]
    assert len(open_plans) == 1 and open_plans[0].blindness == "double_blind"
    assert open_plans[0].training_session_id is None and open_plans[0].observer is not None
    closed = [p for p in plans if p.is_closed]
    assert len(closed) == 4 and all(p.training_session.hide_count > 0 for p in closed)
    assert sum(p.training_session.blank_areas for p in closed) == 6


def test_the_demo_has_a_handler_with_the_trainer_right_among_its_printed_logins():
    seed_demo(date(2026, 5, 1))
    trainers = list(db.session.scalars(select(User).where(User.trainer.is_(True))))
    assert [(u.name, u.role) for u in trainers] == [("Ray Kowalski", "handler")]
    assert is_trainer(trainers[0], trainers[0].agency_id)
    assert ("handler with the trainer right, Great Plains ICAC Task Force", trainers[0].email) in demo_logins()
