"""The assessments area's section of the home page: a handler-trainer's open planned sessions to run and close."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Agency, PlannedSession, User
from ..roles import is_trainer
from .services import may_see_plan

OPEN_SHOWN = 10


def trainer_section(user: User, agency: Agency, today: date) -> dict | None:
    """For a handler with the trainer right: the agency's open plans they may see and close, oldest day first
    (a manager finds them under Planned; a plan they handle or observe is not theirs to close)."""
    if user.role != "handler" or not is_trainer(user, agency.id):
        return None
    plans = db.session.scalars(select(PlannedSession).where(
        PlannedSession.agency_id == agency.id, PlannedSession.closed_at.is_(None)).order_by(
        PlannedSession.planned_on, PlannedSession.id).limit(100))
    return {"template": "assessments/_home_trainer.html", "title": "Planned sessions to close", "count": None,
            "plans": [p for p in plans if may_see_plan(user, p)][:OPEN_SHOWN], "today": today}
