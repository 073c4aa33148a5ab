"""Views of the admin area: agencies, accounts, vocabularies, and the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..forms import form_status
from ..audit import audit_reason
from ..auth.twofactor import enrolled_user_ids
from ..dogs.forms import ArchiveForm, choices
from ..extensions import db
from ..models import Agency, Dog, Handler, User, VocabularyTerm, terms
from ..models.vocab import VOCAB_KINDS
from ..parsing import page_number
from ..scoping import record_agency_ids, roles_required
from ..roles import MANAGE_ROLES, ROLE_LABELS
from . import audit_entries
from .forms import KIND_LABELS, AgencyForm, AuditFilterForm, TermForm, UserForm, timezone_choices
from .services import (AuditFilter, add_term, agency_name_taken, archive_agency_now, audit_entities, audit_query,
                       audit_users,
                       move_term, save_agency, save_user, self_edit_problem, set_term_active, unlock_account)

bp = Blueprint("admin", __name__)

PER_PAGE = 50


@bp.route("/admin")
@roles_required("admin")
def index():
    """What an administrator looks after: agencies, accounts, vocabularies, the audit log."""
    counts = {
        "agencies": db.session.scalar(select(func.count(Agency.id)).where(Agency.archived_at.is_(None))),
        "users": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))),
        "locked": db.session.scalar(select(func.count(User.id)).where(User.locked_at.is_not(None))),
        "dogs": db.session.scalar(select(func.count(Dog.id)).where(Dog.archived_at.is_(None))),
        "handlers": db.session.scalar(select(func.count(Handler.id)).where(Handler.archived_at.is_(None))),
    }
    return render_template("admin/index.html", counts=counts)


# Agencies

@bp.route("/admin/agencies")
@roles_required("admin")
def list_agencies():
    """Every agency, archived ones last."""
    agencies = db.session.scalars(select(Agency).order_by(Agency.archived_at.is_not(None), Agency.name))
    return render_template("admin/agencies.html", agencies=list(agencies), archive_form=ArchiveForm())


def _agency_form(agency: Agency | None) -> AgencyForm:
    form = AgencyForm(obj=agency) if request.method == "GET" else AgencyForm()
    form.timezone.choices = timezone_choices()
    return form


@bp.route("/admin/agencies/new", methods=["GET", "POST"])
@roles_required("admin")
def new_agency():
    """Add an agency (a task force or department)."""
    form = _agency_form(None)
    if form.validate_on_submit():
        if agency_name_taken(form.name.data):
            form.name.errors.append("An agency with this name already exists.")
        else:
            agency = save_agency(None, form.data)
            audit_reason("Agency added")
            db.session.commit()
            flash(f"{agency.name} added.", "success")
            return redirect(url_for("admin.list_agencies"))
    return render_template("admin/agency_form.html", form=form, agency=None), form_status()


@bp.route("/admin/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_agency(agency_id):
    """Change an agency's name, time zone, warning window, reminder days or training target."""
    agency = db.get_or_404(Agency, agency_id)
    form = _agency_form(agency)
    if form.validate_on_submit():
        if agency_name_taken(form.name.data, agency.id):
            form.name.errors.append("An agency with this name already exists.")
        else:
            save_agency(agency, form.data)
            audit_reason("Agency settings edited")
            db.session.commit()
            flash(f"{agency.name} saved.", "success")
            return redirect(url_for("admin.list_agencies"))
    return render_template("admin/agency_form.html", form=form, agency=agency), form_status()


@bp.route("/admin/agencies/<int:agency_id>/archive", methods=["POST"])
@roles_required("admin")
def archive_agency(agency_id):
    """Archive an agency: it leaves pickers, its users are logged out and refused; its records and history stay."""
    agency = db.get_or_404(Agency, agency_id)
    if ArchiveForm().validate_on_submit() and agency.archived_at is None:
        ended = archive_agency_now(agency, current_user)
        db.session.commit()
        flash(f"{agency.name} archived; {ended} of its users were logged out and can no longer log in.", "success")
    return redirect(url_for("admin.list_agencies"))


# Users

@bp.route("/admin/users")
@roles_required("admin")
def list_users():
    """Every account with its role, agency and lock state."""
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.name))
    return render_template("admin/users.html", users=list(users), roles=ROLE_LABELS, unlock_form=ArchiveForm(),
                           two_factor_ids=enrolled_user_ids())


def _user_form(user: User | None) -> tuple[UserForm, dict[int, Agency]]:
    if request.method == "GET" and user is not None:
        form = UserForm(data={"email": user.email, "name": user.name, "role": user.role,
                              "agency": user.agency_id, "active": user.active, "trainer": user.trainer,
                              "grants": [a.id for a in user.granted_agencies],
                              "fiscal_year_start": user.fiscal_year_start})
    else:
        form = UserForm()
    agencies = {a.id: a for a in db.session.scalars(select(Agency).order_by(Agency.name))}
    pickable = [a for a in agencies.values() if a.archived_at is None
                or (user is not None and (a.id == user.agency_id or a in user.granted_agencies))]
    form.agency.choices = choices([("", "No agency")] + [(a.id, a.name) for a in pickable])
    form.grants.choices = choices((a.id, a.name) for a in pickable)
    form.editing_id = user.id if user else None
    form.password_required = user is None
    if user is not None:
        form.password.label.text = "New password (leave empty to keep the current one)"
    return form, agencies


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    """Create an account with a role, an agency or funder grants, and an initial password."""
    form, agencies = _user_form(None)
    if form.validate_on_submit():
        user = save_user(None, form.data, agencies)
        audit_reason("Account created")
        db.session.commit()
        flash(f"Account {user.email} created. Give the person their initial password in person.", "success")
        return redirect(url_for("admin.list_users"))
    return render_template("admin/user_form.html", form=form, user=None), form_status()


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id):
    """Change an account; a new password, role or deactivation logs the person out everywhere."""
    user = db.get_or_404(User, user_id)
    form, agencies = _user_form(user)
    if form.validate_on_submit():
        problem = self_edit_problem(current_user, user, form.data)
        if problem:
            (form.role if "role" in problem else form.active).errors.append(problem)
        else:
            save_user(user, form.data, agencies)
            audit_reason("Account edited")
            db.session.commit()
            flash(f"Account {user.email} saved.", "success")
            return redirect(url_for("admin.list_users"))
    return render_template("admin/user_form.html", form=form, user=user), form_status()


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@roles_required("admin")
def unlock_user(user_id):
    """Unlock an account locked after repeated failed logins."""
    user = db.get_or_404(User, user_id)
    if ArchiveForm().validate_on_submit() and user.is_locked:
        unlock_account(user, current_user)
        audit_reason("Account unlocked")
        db.session.commit()
        flash(f"{user.email} is unlocked and may log in again.", "success")
    return redirect(url_for("admin.list_users"))


# Vocabularies

@bp.route("/admin/vocabularies")
@roles_required("admin")
def vocabularies():
    """The terms of one vocabulary, in the order pickers show them."""
    kind = request.args.get("kind", VOCAB_KINDS[0])
    if kind not in VOCAB_KINDS:
        abort(404)
    form = TermForm(kind=kind)
    return _render_vocab(form, kind)


def _render_vocab(form, kind, status=200):
    return render_template("admin/vocabularies.html", form=form, kind=kind, kinds=KIND_LABELS,
                           terms=terms(kind, include_inactive=True), button_form=ArchiveForm()), status


@bp.route("/admin/vocabularies", methods=["POST"])
@roles_required("admin")
def add_vocabulary_term():
    """Add a term to a vocabulary (at the end)."""
    form = TermForm()
    kind = form.kind.data if form.kind.data in VOCAB_KINDS else VOCAB_KINDS[0]
    if form.validate_on_submit():
        term = add_term(kind, form.name.data, current_user)
        db.session.commit()
        flash(f"“{term.name}” added to {KIND_LABELS[kind].lower()}.", "success")
        return redirect(url_for("admin.vocabularies", kind=kind))
    return _render_vocab(form, kind, 400)


@bp.route("/admin/vocabularies/<int:term_id>/active", methods=["POST"])
@roles_required("admin")
def toggle_vocabulary_term(term_id):
    """Deactivate a term (old records keep it) or bring it back."""
    term = db.get_or_404(VocabularyTerm, term_id)
    if ArchiveForm().validate_on_submit():
        set_term_active(term, request.form.get("active") == "1", current_user)
        db.session.commit()
        flash(f"“{term.name}” is {'active' if term.active else 'inactive'}.", "success")
    return redirect(url_for("admin.vocabularies", kind=term.kind))


@bp.route("/admin/vocabularies/<int:term_id>/move", methods=["POST"])
@roles_required("admin")
def move_vocabulary_term(term_id):
    """Move a term up or down in its vocabulary."""
    term = db.get_or_404(VocabularyTerm, term_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description="Move a term up or down.")
    if ArchiveForm().validate_on_submit():
        move_term(term, direction, current_user)
        db.session.commit()
    return redirect(url_for("admin.vocabularies", kind=term.kind, _anchor=f"term-{term.id}"))


# Audit log

@bp.route("/audit")
@roles_required(*MANAGE_ROLES)
def audit_log():
    """Who changed what and when: every entry for admins, the agency's for managers; newest first."""
    ids = record_agency_ids()
    form = AuditFilterForm(request.args)
    form.entity.choices = choices([("", "All kinds")] + [(e, e.replace("_", " ")) for e in audit_entities(ids)])
    users = audit_users(ids)
    form.user.choices = choices([("", "Everyone")] + [(u.id, f"{u.name} <{u.email}>") for u in users])
    if not form.validate():
        return render_template("admin/audit_log.html", form=form, pagination=None, users={}), 400
    stmt = audit_query(ids, AuditFilter(entity=form.entity.data, user_id=form.user.data,
                                        start=form.start.data, end=form.end.data))
    pagination = db.paginate(stmt, page=request.args.get("page", 1, type=page_number), per_page=PER_PAGE,
                             error_out=False, count=True)
    zones = dict(db.session.execute(select(Agency.id, Agency.timezone).where(
        Agency.id.in_({e.agency_id for e in pagination.items if e.agency_id}))).all())
    return render_template("admin/audit_log.html", form=form, pagination=pagination, zones=zones,
                           lines=audit_entries.lines,
                           page_url=lambda p: url_for("admin.audit_log", **{**request.args.to_dict(), "page": p}))
