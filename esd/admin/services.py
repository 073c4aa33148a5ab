"""Administration rules: agencies, accounts, vocabularies and reading the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, or_, select

from ..agency_day import local_days_clause, on_days
from ..archiving import archive
from ..audit import record_event
from ..auth.passwords import hash_password
from ..auth.services import end_all_sessions
from ..extensions import db
from ..models import Agency, AuditEntry, User, VocabularyTerm
from ..models.core import DEFAULT_PROFICIENCY_STANDARD, DEFAULT_READINESS_WINDOW_DAYS
from ..scoping import scope_clause
from ..roles import AGENCY_ROLES, TRAINER_RIGHT_ROLES

AGENCY_FIELDS = ("name", "timezone", "warning_window_days", "reminder_thresholds", "monthly_training_target_hours",
                 "temperature_unit", "proficiency_standard", "readiness_window_days",
                 "region")
# What a blank optional field means.
AGENCY_BLANK = {"monthly_training_target_hours": 0, "proficiency_standard": DEFAULT_PROFICIENCY_STANDARD,
                "readiness_window_days": DEFAULT_READINESS_WINDOW_DAYS}


def save_agency(agency: Agency | None, data: dict) -> Agency:
    """Create or update an agency from validated form data."""
    if agency is None:
        agency = Agency()
        db.session.add(agency)
    for field in AGENCY_FIELDS:
        value = data[field]
        if value is None and field in AGENCY_BLANK:
            value = AGENCY_BLANK[field]
        if field == "region":
            value = value or None
        setattr(agency, field, value)
    return agency


STANDARD_FIELDS = ("proficiency_standard", "readiness_window_days")


def save_standards(agency: Agency, data: dict) -> Agency:
    """Set an agency's training standards from validated form data (a blank one takes its default)."""
    for field in STANDARD_FIELDS:
        value = data[field]
        setattr(agency, field, AGENCY_BLANK[field] if value is None else value)
    return agency


def archive_agency_now(agency: Agency, by: User) -> int:
    """Archive `agency` and end every session of its users (each audited); return how many users.

    Their logins are refused from now on (auth.services.authenticate); administrators still read
    the agency's records.
    """
    archive(agency, default="Agency archived")
    users = list(db.session.scalars(select(User).where(User.agency_id == agency.id)))
    for user in users:
        end_all_sessions(user)
        record_event("sessions_ended", "user", user.id, user_id=by.id, agency_id=agency.id,
                     reason=f"agency {agency.name} archived")
    return len(users)


def agency_name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Agency.id).where(Agency.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Agency.id != exclude_id)
    return db.session.scalar(stmt) is not None


def save_user(user: User | None, data: dict, agencies_by_id: dict[int, Agency]) -> User:
    """Create or update an account from validated form data; a new password or role ends its sessions."""
    creating = user is None
    if creating:
        user = User(session_version=1, failed_logins=0)
        db.session.add(user)
    changed_access = not creating and (user.role != data["role"] or (user.active and not data["active"]))
    user.email = data["email"]
    user.name = data["name"]
    user.role = data["role"]
    user.agency_id = data["agency"] if data["role"] in AGENCY_ROLES else None
    user.active = data["active"]
    user.trainer = bool(data.get("trainer")) and data["role"] in TRAINER_RIGHT_ROLES
    user.fiscal_year_start = data.get("fiscal_year_start") or 1
    user.granted_agencies = [agencies_by_id[i] for i in (data["grants"] or [])] if data["role"] == "funder" else []
    if data.get("password"):
        user.password_hash = hash_password(data["password"])
        changed_access = changed_access or not creating
    if changed_access:
        end_all_sessions(user)
    return user


def self_edit_problem(actor: User, user: User, data: dict) -> str | None:
    """Why an administrator may not make this change to their own account, or None."""
    if actor.id != user.id:
        return None
    if data["role"] != "admin":
        return "You cannot take away your own administrator role; ask another administrator."
    if not data["active"]:
        return "You cannot deactivate your own account."
    return None


def unlock_account(user: User, by: User) -> None:
    """Let a locked-out user log in again; audited as an "unlock" event."""
    from ..auth.services import unlock
    failures = user.failed_logins
    unlock(user)
    record_event("unlock", "user", user.id, user_id=by.id, agency_id=user.agency_id,
                 reason=f"Unlocked by {by.email} after {failures} failed logins")


# Vocabularies

def add_term(kind: str, name: str, by: User) -> VocabularyTerm:
    """Append a term at the end of its vocabulary."""
    last = db.session.scalar(select(VocabularyTerm.position).where(VocabularyTerm.kind == kind)
                             .order_by(VocabularyTerm.position.desc()).limit(1))
    term = VocabularyTerm(kind=kind, name=name, position=(last or 0) + 1, active=True)
    db.session.add(term)
    db.session.flush()
    record_event("create", "vocabulary_term", term.id, user_id=by.id,
                 changes={"kind": [None, kind], "name": [None, name]})
    return term


def set_term_active(term: VocabularyTerm, active: bool, by: User) -> None:
    """Deactivate a term (kept on old records, gone from pickers) or bring it back."""
    if term.active == active:
        return
    record_event("update", "vocabulary_term", term.id, user_id=by.id,
                 changes={"active": [term.active, active]}, reason=f"{term.kind}: {term.name}")
    term.active = active


def move_term(term: VocabularyTerm, direction: str, by: User) -> bool:
    """Move a term one place up or down in its vocabulary; False when it is already at that end."""
    siblings = list(db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.kind == term.kind)
                                       .order_by(VocabularyTerm.position, VocabularyTerm.name)))
    index = siblings.index(term)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(siblings):
        return False
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    record_event("update", "vocabulary_term", term.id, user_id=by.id,
                 changes={"position": [index, other]}, reason=f"{term.kind}: {term.name} moved {direction}")
    return True


# Audit log

@dataclass
class AuditFilter:
    entity: str | None = None
    user_id: int | None = None
    start: date | None = None
    end: date | None = None


def audit_query(agency_ids: list[int] | None, f: AuditFilter) -> Select:
    """Audit entries the reader may see (admins: all; managers: their agency's), newest first."""
    stmt = select(AuditEntry)
    clause = scope_clause(AuditEntry, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    if f.entity:
        stmt = stmt.where(AuditEntry.entity == f.entity)
    if f.user_id:
        stmt = stmt.where(AuditEntry.user_id == f.user_id)
    if f.start or f.end:
        # Each agency's entries on its own days; an administrator's entries of no agency in UTC.
        days = local_days_clause(AuditEntry.at, AuditEntry.agency_id, agency_ids, f.start, f.end)
        if agency_ids is None:
            days = or_(days, and_(AuditEntry.agency_id.is_(None), on_days(AuditEntry.at, f.start, f.end, "UTC")))
        stmt = stmt.where(days)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def audit_entities(agency_ids: list[int] | None) -> list[str]:
    """The record kinds that appear in the reader's audit log."""
    stmt = select(AuditEntry.entity).distinct()
    clause = scope_clause(AuditEntry, agency_ids)
    if clause is not None:
        stmt = stmt.where(clause)
    return sorted(db.session.scalars(stmt))


def audit_users(agency_ids: list[int] | None) -> list[User]:
    """Users the reader may filter the log by: everyone for admins, the agency's accounts for managers."""
    stmt = select(User).order_by(User.name)
    if agency_ids is not None:
        stmt = stmt.where(User.agency_id.in_(agency_ids or [-1]))
    return list(db.session.scalars(stmt))
