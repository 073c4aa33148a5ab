"""The proficiency area's section of the home page: a manager's readiness gaps, a handler's gaps to train next."""
from __future__ import annotations

from datetime import date

from ..dogs.services import handler_dogs
from ..models import Agency, User
from . import readiness

DOGS_SHOWN = 5  # dogs with gaps named on a manager's home page, most gaps first


def readiness_section(user: User, agency: Agency, today: date) -> dict | None:
    """For a manager: the dogs with readiness gaps, most first; for a handler: the gaps of their own dogs."""
    if user.role == "handler":
        mine = {dog.id for dog in handler_dogs(user, today)}
        rows = [g for g in readiness.cached_agency_gaps(agency, today) if g.dog_id in mine]
        if not rows:
            return None
        return {"template": "proficiency/_home_gaps.html", "title": "Gaps to train next", "count": None,
                "rows": rows, "more": 0, "agency": agency}
    if user.role not in ("manager", "admin"):
        return None
    rows = [g for g in readiness.cached_agency_gaps(agency, today) if g.count]
    return {"template": "proficiency/_home_gaps.html", "title": "Readiness gaps", "count": len(rows),
            "rows": rows[:DOGS_SHOWN], "more": max(0, len(rows) - DOGS_SHOWN), "agency": agency}
