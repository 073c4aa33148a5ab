"""Demo case outcomes for past deployments, and a region for each demo agency (the funders' national view).

Written with Core inserts like the rest of the demo (no audit entries: seeding is not a user change).
Outcomes are known only some weeks after a search, so the most recent deployments have none.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, insert, select, update

from ..extensions import db
from ..models import Agency, CaseOutcome, Deployment, Find, utcnow

# A region from the agency's time zone: good enough for a demo installation.
REGION_OF_ZONE = {"America/Los_Angeles": "West", "America/Denver": "Mountain", "America/Phoenix": "Mountain",
                  "America/Chicago": "Central", "America/New_York": "East", "America/Detroit": "East",
                  "Pacific/Honolulu": "Pacific", "America/Anchorage": "Alaska"}
# How long after a search its outcome is first recorded.
KNOWN_AFTER = timedelta(days=45)


def add_outcomes(rng: random.Random, today: date) -> int:
    """Give every demo agency a region and most past deployments with finds a case outcome; return how many."""
    for tz, region in REGION_OF_ZONE.items():
        db.session.execute(update(Agency).where(Agency.timezone == tz, Agency.region.is_(None)).values(region=region))
    cutoff = datetime.combine(today - KNOWN_AFTER, time(), timezone.utc)
    evidence = func.sum(case((Find.evidence == "yes", 1), else_=0))
    stmt = (select(Deployment.id, Deployment.agency_id, func.count(Find.id), evidence)
            .join(Find, Find.deployment_id == Deployment.id)
            .where(Deployment.started_at < cutoff, Deployment.archived_at.is_(None))
            .group_by(Deployment.id, Deployment.agency_id).order_by(Deployment.id))
    rows = []
    for deployment_id, agency_id, finds, with_evidence in db.session.execute(stmt):
        if rng.random() < 0.2:  # not recorded yet
            continue
        examined = finds
        held = min(examined, int(with_evidence or 0))
        arrests = int(held > 0 and rng.random() < 0.6)
        rows.append({"deployment_id": deployment_id, "agency_id": agency_id, "devices_examined": examined,
                     "devices_with_evidence": held, "arrests": arrests,
                     "charges": arrests * rng.choice((1, 1, 2, 3, 4)) if arrests else 0,
                     "children_safeguarded": rng.choice((0, 0, 0, 1, 2)) if arrests else None,
                     "updated_at": utcnow()})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(CaseOutcome.__table__), rows[start:start + 5000])
    return len(rows)
