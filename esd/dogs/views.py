"""Views of the dogs area: dogs, handlers and the teams that pair them."""
from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..forms import form_status
from ..assessments import services as assessments
from ..audit import audit_reason
from ..certifications import services as certifications
from ..deployments import services as deployments
from ..exports import views as exports
from ..archiving import archive
from ..extensions import db
from ..models import Agency, Dog, Handler, TeamAssignment
from ..reports import views as reports
from ..roles import MANAGE_ROLES, RECORD_ROLES
from ..scoping import can_manage, record_agency_ids, require_manage, roles_required, scoped, scoped_get_or_404
from ..training import services as training
from .forms import STATUS_LABELS, ArchiveForm, choices, DogForm, EndTeamForm, HandlerForm, TeamForm
from .services import (end_team_problem, linkable_users, overlapping_team, save_dog, save_handler,
                       start_team, store_photo)

bp = Blueprint("dogs", __name__)

# The dog page's sections, in page order: each area's `dog_section(dog, today, user)`.
DOG_SECTIONS = (("training", training), ("certifications", certifications), ("deployments", deployments),
                ("find_rates", reports), ("packet", exports), ("assessments", assessments))


@bp.app_template_global()
def dog_status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _prepare_agency(form) -> None:
    """Admins choose the agency of a new record; a manager's own agency is implied."""
    if current_user.role == "admin":
        agencies = db.session.scalars(select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.name))
        form.agency.choices = choices([("", "Choose…")] + [(a.id, a.name) for a in agencies])
    else:
        del form.agency


def _agency_id(form) -> int:
    return form.agency.data if "agency" in form else current_user.agency_id


def _commit_or_explain(form, field: str, message: str) -> bool:
    """Commit; if a unique constraint fires (two people saving at once), put `message` beside `field`."""
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        getattr(form, field).errors.append(message)
        return False


# Dogs

@bp.route("/dogs")
@roles_required(*RECORD_ROLES)
def list_dogs():
    """The agency's dogs (all agencies for admins), filtered by status; archived dogs on request."""
    status = request.args.get("status") or None
    show_archived = request.args.get("archived") == "1"
    stmt = scoped(Dog).join(Agency, Agency.id == Dog.agency_id)
    if status in STATUS_LABELS:
        stmt = stmt.where(Dog.status == status)
    if not show_archived:
        stmt = stmt.where(Dog.archived_at.is_(None))
    dogs = list(db.session.scalars(stmt.order_by(Agency.name, Dog.name)))
    return render_template("dogs/list.html", dogs=dogs, status=status, show_archived=show_archived,
                           statuses=STATUS_LABELS, can_create=current_user.role in MANAGE_ROLES)


@bp.route("/dogs/new", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def new_dog():
    """Add a dog to the agency."""
    form = DogForm()
    _prepare_agency(form)
    if form.validate_on_submit():
        photo = _photo(form)
        if photo is not False:
            dog = save_dog(None, form.data, _agency_id(form))
            dog.photo_filename = photo
            audit_reason("Dog added")
            if _commit_or_explain(form, "microchip_id", "This microchip id is already registered to another dog."):
                flash(f"{dog.name} added.", "success")
                return redirect(url_for("dogs.dog_detail", dog_id=dog.id))
    return render_template("dogs/form.html", form=form, dog=None), form_status()


def _photo(form) -> str | None | bool:
    """The stored name of an uploaded photo, None when none was sent, False (with a message) when refused."""
    upload = form.photo.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    name = store_photo(upload.stream, os.path.join(current_app.config["UPLOAD_FOLDER"], "dogs"))
    if name is None:
        form.photo.errors.append("This file is not a JPEG or PNG picture.")
        return False
    return name


@bp.route("/dogs/<int:dog_id>")
@roles_required(*RECORD_ROLES)
def dog_detail(dog_id):
    """One dog: profile, current team, team history, and the other areas' sections."""
    dog = scoped_get_or_404(Dog, dog_id)
    today = dog.agency.today()
    # Each area gives what its section shows; the page only renders them (no queries while rendering).
    sections = {name: area.dog_section(dog, today, current_user) for name, area in DOG_SECTIONS}
    # The team history with its handlers in one statement; today's team is the latest in force (Dog.team_on).
    teams = list(db.session.scalars(select(TeamAssignment).where(TeamAssignment.dog_id == dog.id)
                                    .options(joinedload(TeamAssignment.handler))
                                    .order_by(TeamAssignment.starts_on.desc())))
    return render_template("dogs/detail.html", dog=dog, teams=teams,
                           current_team=next((t for t in teams if t.active_on(today)), None),
                           can_manage=can_manage(current_user, dog.agency_id), archive_form=ArchiveForm(),
                           end_form=EndTeamForm(formdata=None, ends_on=today), today=today, sections=sections)


@bp.route("/dogs/<int:dog_id>/photo")
@roles_required(*RECORD_ROLES)
def dog_photo(dog_id):
    """The dog's photo, only to users who may see the dog."""
    dog = scoped_get_or_404(Dog, dog_id)
    if not dog.photo_filename:
        abort(404)
    return send_from_directory(os.path.join(current_app.config["UPLOAD_FOLDER"], "dogs"), dog.photo_filename)


@bp.route("/dogs/<int:dog_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def edit_dog(dog_id):
    """Change a dog's profile; every change is audited."""
    dog = scoped_get_or_404(Dog, dog_id)
    require_manage(dog.agency_id)
    form = DogForm(obj=dog) if request.method == "GET" else DogForm()
    del form.agency  # a dog does not move between agencies
    form.editing_id, form.editing_agency_id = dog.id, dog.agency_id
    if form.validate_on_submit():
        photo = _photo(form)
        if photo is not False:
            save_dog(dog, form.data, dog.agency_id)
            if photo:
                dog.photo_filename = photo
            audit_reason("Dog profile edited")
            if _commit_or_explain(form, "microchip_id", "This microchip id is already registered to another dog."):
                flash(f"{dog.name} saved.", "success")
                return redirect(url_for("dogs.dog_detail", dog_id=dog.id))
    return render_template("dogs/form.html", form=form, dog=dog), form_status()


@bp.route("/dogs/<int:dog_id>/archive", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def archive_dog(dog_id):
    """Archive a dog: it leaves the lists, its history stays."""
    dog = scoped_get_or_404(Dog, dog_id)
    require_manage(dog.agency_id)
    if ArchiveForm().validate_on_submit():
        archive(dog, request.form.get("reason"), "Dog archived")
        db.session.commit()
        flash(f"{dog.name} archived.", "success")
    return redirect(url_for("dogs.dog_detail", dog_id=dog.id))


# Teams

@bp.route("/dogs/<int:dog_id>/teams/new", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def new_team(dog_id):
    """Pair a handler with the dog from a date; the dog has one team on any day."""
    dog = scoped_get_or_404(Dog, dog_id)
    require_manage(dog.agency_id)
    form = TeamForm()
    handlers = db.session.scalars(select(Handler).where(Handler.agency_id == dog.agency_id,
                                                        Handler.archived_at.is_(None)).order_by(Handler.name))
    form.handler.choices = choices([("", "Choose…")] + [(h.id, h.name) for h in handlers])
    if request.method == "GET":
        form.starts_on.data = dog.agency.today()
    if form.validate_on_submit():
        clash = overlapping_team(dog.id, form.starts_on.data, form.ends_on.data)
        if clash is not None:
            until = clash.ends_on.isoformat() if clash.ends_on else "now"
            form.starts_on.errors.append(
                f"{dog.name} is already teamed with {clash.handler.name} from {clash.starts_on.isoformat()} "
                f"to {until}. End that team first, or choose dates after it.")
        else:
            handler = db.session.get(Handler, form.handler.data)
            start_team(dog, handler, form.starts_on.data, form.ends_on.data, form.notes.data)
            audit_reason("Team assigned")
            db.session.commit()
            flash(f"{handler.name} and {dog.name} are a team from {form.starts_on.data.isoformat()}.", "success")
            return redirect(url_for("dogs.dog_detail", dog_id=dog.id))
    return render_template("dogs/team_form.html", form=form, dog=dog), form_status()


@bp.route("/teams/<int:team_id>/end", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def end_team(team_id):
    """End a team on a date; it stays in the dog's history."""
    team = scoped_get_or_404(TeamAssignment, team_id)
    require_manage(team.agency_id)
    form = EndTeamForm()
    if request.method == "GET":
        form.ends_on.data = team.ends_on or team.dog.agency.today()
    if form.validate_on_submit():
        problem = end_team_problem(team, form.ends_on.data)
        if problem:
            form.ends_on.errors.append(problem)
        else:
            team.ends_on = form.ends_on.data
            audit_reason("Team ended")
            db.session.commit()
            flash(f"Team of {team.handler.name} and {team.dog.name} ends on {team.ends_on.isoformat()}.", "success")
            return redirect(url_for("dogs.dog_detail", dog_id=team.dog_id))
    return render_template("dogs/end_team.html", form=form, team=team), form_status()


# Handlers

@bp.route("/handlers")
@roles_required(*RECORD_ROLES)
def list_handlers():
    """The agency's handlers (all agencies for admins); archived handlers on request."""
    show_archived = request.args.get("archived") == "1"
    stmt = scoped(Handler).join(Agency, Agency.id == Handler.agency_id)
    if not show_archived:
        stmt = stmt.where(Handler.archived_at.is_(None))
    handlers = list(db.session.scalars(stmt.order_by(Agency.name, Handler.name)))
    return render_template("dogs/handlers.html", handlers=handlers, show_archived=show_archived,
                           can_create=current_user.role in MANAGE_ROLES)


def _prepare_handler_form(form: HandlerForm, handler: Handler | None) -> None:
    if handler is not None:
        del form.agency
        form.fixed_agency_id = handler.agency_id
        form.editing_id = handler.id
        users = linkable_users([handler.agency_id], handler)
    else:
        _prepare_agency(form)
        if "agency" not in form:
            form.fixed_agency_id = current_user.agency_id
        users = linkable_users(record_agency_ids(), None)
    label = (lambda u: f"{u.name} <{u.email}> ({u.agency.name})") if current_user.role == "admin" \
        else (lambda u: f"{u.name} <{u.email}>")
    form.user.choices = choices([("", "No account")] + [(u.id, label(u)) for u in users])


@bp.route("/handlers/new", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def new_handler():
    """Add a handler to the agency, optionally linked to a handler account."""
    form = HandlerForm()
    _prepare_handler_form(form, None)
    if form.validate_on_submit():
        handler = save_handler(None, form.data, form.agency_id())
        audit_reason("Handler added")
        if _commit_or_explain(form, "badge_number", "This badge number or account is already used."):
            flash(f"{handler.name} added.", "success")
            return redirect(url_for("dogs.handler_detail", handler_id=handler.id))
    return render_template("dogs/handler_form.html", form=form, handler=None), \
        form_status()


@bp.route("/handlers/<int:handler_id>")
@roles_required(*RECORD_ROLES)
def handler_detail(handler_id):
    """One handler: contact, linked account, and the dogs they have worked."""
    handler = scoped_get_or_404(Handler, handler_id)
    return render_template("dogs/handler_detail.html", handler=handler, today=handler.agency.today(),
                           can_manage=can_manage(current_user, handler.agency_id), archive_form=ArchiveForm())


@bp.route("/handlers/<int:handler_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def edit_handler(handler_id):
    """Change a handler's details; every change is audited."""
    handler = scoped_get_or_404(Handler, handler_id)
    require_manage(handler.agency_id)
    if request.method == "GET":
        form = HandlerForm(data={"name": handler.name, "badge_number": handler.badge_number, "phone": handler.phone,
                                 "email": handler.email, "user": handler.user_id})
    else:
        form = HandlerForm()
    _prepare_handler_form(form, handler)
    if form.validate_on_submit():
        save_handler(handler, form.data, handler.agency_id)
        audit_reason("Handler edited")
        if _commit_or_explain(form, "badge_number", "This badge number or account is already used."):
            flash(f"{handler.name} saved.", "success")
            return redirect(url_for("dogs.handler_detail", handler_id=handler.id))
    return render_template("dogs/handler_form.html", form=form, handler=handler), \
        form_status()


@bp.route("/handlers/<int:handler_id>/archive", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def archive_handler(handler_id):
    """Archive a handler: gone from pickers, kept in every history."""
    handler = scoped_get_or_404(Handler, handler_id)
    require_manage(handler.agency_id)
    if ArchiveForm().validate_on_submit():
        archive(handler, request.form.get("reason"), "Handler archived")
        db.session.commit()
        flash(f"{handler.name} archived.", "success")
    return redirect(url_for("dogs.handler_detail", handler_id=handler.id))
