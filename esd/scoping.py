"""Who may see which agency's records: the one place every query is limited.

Every query for agency-owned data goes through `scoped()` or `scoped_get_or_404()`;
a record outside the user's scope answers 404, never 403, so its existence leaks nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, has_request_context
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, false, select

from .extensions import db
from .models import funder_grants
from .roles import AGENCY_ROLES, can_manage



def record_agency_ids(user=None) -> list[int] | None:
    """Agencies whose records `user` may read: None means all (admin), [] means none (funder)."""
    user = user or current_user
    if not user or not user.is_authenticated:
        return []
    if user.role == "admin":
        return None
    if user.role in AGENCY_ROLES:
        return [user.agency_id]
    return []


def aggregate_agency_ids(user=None) -> list[int] | None:
    """Agencies whose aggregates (charts, dashboards) `user` may see: None means all."""
    user = user or current_user
    if not user or not user.is_authenticated:
        return []
    if user.role == "funder":
        # Ids only: loading the granted Agency objects was a fifth of a warm funder dashboard. Read once
        # per request (a dashboard asked three times); a funder's grants change only in an admin's request.
        memo = g.setdefault("granted_agency_ids", {}) if has_request_context() else {}
        if user.id not in memo:
            memo[user.id] = tuple(db.session.scalars(_GRANTED, {"user_id": user.id}))
        return list(memo[user.id])
    return record_agency_ids(user)


_GRANTED = select(funder_grants.c.agency_id).where(funder_grants.c.user_id == bindparam("user_id")) \
    .order_by(funder_grants.c.agency_id)


def scope_clause(model, agency_ids: list[int] | None):
    """The WHERE clause limiting `model` (which has `agency_id`) to `agency_ids`."""
    if agency_ids is None:
        return None
    if not agency_ids:
        return false()
    return model.agency_id.in_(agency_ids)


def scoped(model, user=None, stmt: Select | None = None) -> Select:
    """A SELECT of `model` limited to the agencies whose records `user` may read."""
    stmt = select(model) if stmt is None else stmt
    clause = scope_clause(model, record_agency_ids(user))
    return stmt if clause is None else stmt.where(clause)


def scoped_get_or_404(model, record_id, user=None):
    """Load one record the user may read.

    Raises NotFound (404) when it does not exist, is archived-and-hidden by the
    caller's choice, or belongs to an agency outside the user's scope.
    """
    obj = db.session.get(model, record_id)
    if obj is None:
        abort(404)
    agency_ids = record_agency_ids(user)
    owner = obj.id if model.__name__ == "Agency" else obj.agency_id
    if agency_ids is not None and owner not in agency_ids:
        abort(404)
    return obj


def roles_required(*roles):
    """Allow a view to the given roles only; everyone else gets 404, anonymous users the login page."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def require_manage(agency_id: int, user=None) -> None:
    """Abort 404 unless the user may manage the agency's records."""
    if not can_manage(user or current_user, agency_id):
        abort(404)
