"""`flask esd seed-demo`: a believable installation to try the app on, or a national one to measure.

Every row is written with SQLAlchemy Core `insert()` in batches, not ORM objects: a million hides
must load in minutes. That also bypasses the ORM audit hook on purpose — seeding is not a user
change; one `seed_demo` audit event records that it happened.
"""
from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import date

from sqlalchemy import func, select

from .. import planner_statistics
from ..extensions import db
from ..models import Agency, Dog, User, seed_vocabularies
from .alerts import add_field_alerts
from .catalogue import DEMO_DOMAIN, DEMO_PASSWORD
from .installation import demo_plan
from .outcomes import add_outcomes
from .plan import Summary
from .scale import scale_plan
from .writer import Writer

__all__ = ["DEMO_PASSWORD", "database_counts", "demo_logins", "seed_demo"]


def database_counts() -> dict[str, int]:
    """How many agencies, users and dogs the database holds (any of them means not empty)."""
    return {name: db.session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("agencies", Agency), ("users", User), ("dogs", Dog))}


def demo_logins() -> list[tuple[str, str]]:
    """The demo accounts to try, as (role, e-mail): admin, a manager and a handler of the first
    three task forces, a handler with the trainer right, the funder."""
    users = db.session.scalars(select(User).where(User.email.like(f"%@{DEMO_DOMAIN}"))
                               .order_by(User.id)).all()
    agencies: list = []
    picked: dict = {}
    for u in users:
        if u.role in ("manager", "handler"):
            if u.agency_id not in agencies and len(agencies) < 3:
                agencies.append(u.agency_id)
            if u.agency_id in agencies:
                picked.setdefault((u.role, u.agency_id), u)
    logins = [("admin", u.email) for u in users if u.role == "admin"]
    for role in ("manager", "handler"):
        logins += [(f"{role}, {u.agency.name}", u.email) for (r, a), u in picked.items() if r == role]
    trainer = next((u for u in users if u.role == "handler" and u.trainer), None)
    if trainer is not None:
        logins.append((f"handler with the trainer right, {trainer.agency.name}", trainer.email))
    for u in users:
        if u.role == "funder":
            granted = u.granted_agencies
            names = (" and ".join(a.name for a in granted) if len(granted) <= 2
                     else f"{len(granted)} task forces")
            logins.append((f"funder (sees aggregates of {names})", u.email))
    return logins


def seed_demo(today: date, seed: int = 2026, hides: int | None = None, progress=None) -> Summary:
    """Fill an empty database with the demo (or, with `hides`, the scale data set); commit."""
    from ..audit import record_event
    from ..auth.passwords import hash_password
    rng = random.Random(seed)
    progress = progress or (lambda length, label: nullcontext(_NoBar()))
    seed_vocabularies()
    db.session.flush()
    plan = scale_plan(today, rng, hides) if hides else demo_plan(today, rng)
    writer = Writer(plan, rng, progress)
    writer.roster(hash_password(DEMO_PASSWORD))  # hashed once: 600,000 PBKDF2 rounds are slow
    writer.certifications()
    writer.training()
    writer.deployments()
    add_field_alerts(writer)
    if not hides:
        from .assessments import seed_assessments
        seed_assessments(today)  # planned sessions and assessments, written through their services
    add_outcomes(random.Random(seed + 19), today)  # case outcomes and regions (esd/demo/outcomes.py)
    # The bulk inserts bypass the rollups' flush hooks: build the rollups from the rows written.
    from ..rollups import rebuild
    agencies = db.session.scalar(select(func.count()).select_from(Agency))
    with progress(agencies, "Rollups") as bar:
        rebuild(db.session.connection(), progress=bar.update)
    summary = writer.summary
    record_event("seed_demo", "installation", changes={
        "seed": [None, seed], "today": [None, today.isoformat()], "hides": [None, summary.hides]},
        reason="Demo data seeded by `flask esd seed-demo`.")
    from ..report_version import bump
    bump(db.session)  # the bulk inserts bypassed the hooks that move every agency's report version
    db.session.commit()
    planner_statistics.refresh()  # the bulk inserts leave the planner guessing (esd/planner_statistics.py)
    # Figures cached for an earlier database (same ids, other rows) must not be served for this one.
    from ..reports import cache as report_cache
    report_cache.clear()
    return summary


class _NoBar:
    def update(self, n: int) -> None:
        pass
