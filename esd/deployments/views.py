"""Views of the deployments area: list, log, edit, detail, archive, evidence update."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..archiving import archive
from ..audit import audit_reason
from ..extensions import db
from ..forms import form_status
from ..models import Deployment, Dog, Find, Handler, terms
from ..parsing import optional_int, page_number, parse_id
from ..roles import MANAGE_ROLES, RECORD_ROLES
from ..scoping import record_agency_ids, require_manage, roles_required, scope_clause, scoped_get_or_404
from .forms import (AUTHORITY_LABELS, EVIDENCE_LABELS, OUTCOME_LABELS, AlertForm, ArchiveForm, DeploymentFilterForm,
                    DeploymentForm, EvidenceForm, FindForm)
from .services import (ListFilter, deployments_query, find_counts, local_to_utc, open_alert_counts,
                       requesting_agencies, save_deployment, utc_to_local)

bp = Blueprint("deployments", __name__)

PER_PAGE = 50


def _scoped_rows(model, include=None):
    """Dogs or handlers the user may pick: in scope, not archived (plus the one already chosen)."""
    stmt = select(model).where(model.archived_at.is_(None))
    clause = scope_clause(model, record_agency_ids())
    if clause is not None:
        stmt = stmt.where(clause)
    rows = list(db.session.scalars(stmt.order_by(model.name)))
    if include is not None and include not in rows:
        rows.append(include)
    return rows


def _label(record) -> str:
    """A dog's or handler's name, with the agency for admins who see several."""
    return f"{record.name} ({record.agency.name})" if current_user.role == "admin" else record.name


def _prepare(form: DeploymentForm, deployment: Deployment | None = None) -> None:
    """Fill the form's choices from the user's scope and the vocabularies."""
    dogs = _scoped_rows(Dog, deployment.dog if deployment else None)
    handlers = _scoped_rows(Handler, deployment.handler if deployment else None)
    form.dog.choices = [("", "Choose…")] + [(d.id, _label(d)) for d in dogs]
    form.handler.choices = [("", "Choose…")] + [(h.id, _label(h)) for h in handlers]
    form.agency_of = {("dog", d.id): d.agency_id for d in dogs} | {("handler", h.id): h.agency_id for h in handlers}
    form.location_type.choices = [("", "—")] + [(t.id, t.name) for t in terms("location_type")]
    devices = [("", "Choose…")] + [(t.id, t.name) for t in terms("device_type")]
    spots = [("", "—")] + [(t.id, t.name) for t in terms("hiding_spot")]
    if deployment is not None:  # keep a term deactivated since it was recorded
        for record in list(deployment.finds) + list(deployment.alerts):
            if isinstance(record, Find) and record.device_type_id not in {v for v, _ in devices}:
                devices.append((record.device_type_id, record.device_type.name))
            if record.hiding_spot_id and record.hiding_spot_id not in {v for v, _ in spots}:
                spots.append((record.hiding_spot_id, record.hiding_spot.name))
    form.device_choices, form.spot_choices = devices, spots
    for entry in form.finds:
        entry.form.device_type.choices = devices
        entry.form.hiding_spot.choices = spots
    form.find_choices, form.find_problems = _linkable_finds(form, deployment)
    form.saved_alert_finds = {a.id: str(a.find_id) for a in deployment.alerts if a.find_id} if deployment else {}
    for entry in form.alerts:
        entry.form.hiding_spot.choices = spots
        entry.form.find.choices = form.find_choices
        entry.form.find_problems = form.find_problems


def _linkable_finds(form: DeploymentForm, deployment: Deployment | None) -> tuple[list, dict]:
    """The finds a confirmed alert may name: this deployment's saved finds (by id) and the form's new
    find rows ("new-<row>"); and why some of them cannot (removed, or a row without a device yet)."""
    saved = {f.id: f for f in deployment.finds} if deployment is not None else {}
    names = {value: label for value, label in form.device_choices if value != ""}
    choices, problems, listed = [("", "—")], {}, set()
    for position, entry in enumerate(form.finds):
        row = entry.form
        find = saved.get(parse_id(row.id.data)) if row.id.data else None
        value = str(find.id) if find is not None else f"new-{position}"
        device = names.get(row.device_type.data) if row.device_type.data is not None else None
        choices.append((value, f"Find {position + 1}" + (f": {device}" if device else " (new row)")))
        listed.add(value)
        if row.remove.data:
            problems[value] = "That find is being removed: choose another find or another outcome."
        elif row.device_type.data is None:
            problems[value] = "That find row has no device type yet: choose it first."
    for find in saved.values():  # saved finds a posted form left out are still this deployment's
        if str(find.id) not in listed:
            choices.append((str(find.id), f"Find: {find.device_type.name}"))
    return choices, problems


def _blank_templates(form: DeploymentForm) -> tuple[FindForm, AlertForm]:
    """Fresh, unnumbered find and alert rows the page clones when "Add a find" or "Add an alert" is pressed."""
    find = FindForm(prefix="finds-__index__-")
    find.device_type.choices = form.device_choices
    find.hiding_spot.choices = form.spot_choices
    alert = AlertForm(prefix="alerts-__index__-")
    alert.hiding_spot.choices = form.spot_choices
    alert.find.choices = form.find_choices
    return find, alert


def _render_form(form, deployment=None, status=200):
    ids = record_agency_ids()
    blank_find, blank_alert = _blank_templates(form)
    return render_template("deployments/form.html", form=form, deployment=deployment, blank_find=blank_find,
                           blank_alert=blank_alert, requesting=requesting_agencies(ids)), status


def _check_team(form: DeploymentForm):
    """The chosen dog and handler, both in scope (404 otherwise, though the form's choices already limit them)."""
    dog = scoped_get_or_404(Dog, form.dog.data)
    handler = scoped_get_or_404(Handler, form.handler.data)
    if handler.agency_id != dog.agency_id:
        abort(404)
    return dog, handler


@bp.route("/deployments")
@roles_required(*RECORD_ROLES)
def list_deployments():
    """Searches the agency's dogs worked, newest first, with filters."""
    form = DeploymentFilterForm(request.args)
    form.dog.choices = [("", "All dogs")] + [(d.id, _label(d)) for d in _scoped_rows(Dog)]
    form.handler.choices = [("", "All handlers")] + [(h.id, _label(h)) for h in _scoped_rows(Handler)]
    if not form.validate():
        return render_template("deployments/list.html", form=form, rows=[], page=1, pages=1, total=0,
                               counts={}, open_alerts={}, authority=AUTHORITY_LABELS), 400
    for model, value in ((Dog, form.dog.data), (Handler, form.handler.data)):
        if value:
            scoped_get_or_404(model, value)
    stmt = deployments_query(record_agency_ids(), ListFilter(
        dog_id=form.dog.data, handler_id=form.handler.data, start=form.start.data, end=form.end.data,
        q=form.q.data, with_finds=form.with_finds.data, archived=form.archived.data))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(request.args.get("page", 1, type=page_number), 1), pages)
    rows = list(db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return render_template("deployments/list.html", form=form, rows=rows, page=page, pages=pages, total=total,
                           counts=find_counts([d.id for d in rows]), open_alerts=open_alert_counts([d.id for d in rows]),
                           authority=AUTHORITY_LABELS,
                           page_url=lambda p: url_for("deployments.list_deployments",
                                                      **{**request.args.to_dict(), "page": p}))


@bp.route("/deployments/new", methods=["GET", "POST"])
@roles_required(*RECORD_ROLES)
def new_deployment():
    """Log a search: the dog, the handler, the warrant or consent, and what was found."""
    form = DeploymentForm()
    _prepare(form)
    if request.method == "GET":
        dog_id = request.args.get("dog_id", type=optional_int)
        if dog_id:
            dog = scoped_get_or_404(Dog, dog_id)
            form.dog.data = dog.id
            team = dog.current_team()
            form.handler.data = team.handler_id if team else None
        elif current_user.handler is not None:
            form.handler.data = current_user.handler.id
        if not form.finds.entries:
            form.finds.append_entry()
        if not form.alerts.entries:
            form.alerts.append_entry()
        _prepare(form)
    if form.validate_on_submit():
        dog, handler = _check_team(form)
        deployment = save_deployment(None, form.data, dog=dog, handler=handler, by=current_user)
        audit_reason("Deployment logged")
        db.session.commit()
        finds, alerts = len(deployment.finds), len(deployment.alerts)
        flash(f"Deployment saved with {finds} find{'s' if finds != 1 else ''} and "
              f"{alerts} alert{'s' if alerts != 1 else ''}.", "success")
        return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id))
    return _render_form(form, status=form_status())


@bp.route("/deployments/<int:deployment_id>")
@roles_required(*RECORD_ROLES)
def deployment_detail(deployment_id):
    """One search with its finds; the evidence of each find can be set when the exam comes back."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    return render_template("deployments/detail.html", deployment=deployment, authority=AUTHORITY_LABELS,
                           evidence_labels=EVIDENCE_LABELS, outcome_labels=OUTCOME_LABELS, evidence_form=EvidenceForm(), archive_form=ArchiveForm(),
                           local=utc_to_local(deployment.started_at, deployment.dog.agency.timezone),
                           can_archive=current_user.role in MANAGE_ROLES)


@bp.route("/deployments/<int:deployment_id>/edit", methods=["GET", "POST"])
@roles_required(*RECORD_ROLES)
def edit_deployment(deployment_id):
    """Correct a deployment or its finds; every change is audited."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    if request.method == "GET":
        local = utc_to_local(deployment.started_at, deployment.dog.agency.timezone)
        d = deployment
        form = DeploymentForm(
            dog=d.dog_id, handler=d.handler_id, day=local.date(), time=local.time().replace(second=0, microsecond=0),
            requesting_agency=d.requesting_agency, case_number=d.case_number, legal_authority=d.legal_authority,
            location_type=d.location_type_id, duration_minutes=d.duration_minutes,
            notes=d.notes,
            finds=[{"id": str(f.id), "device_type": f.device_type_id, "hiding_spot": f.hiding_spot_id,
                    "missed_by_human_search": f.missed_by_human_search, "evidence": f.evidence,
                    "notes": f.notes} for f in d.finds],
            alerts=[{"id": str(a.id), "hiding_spot": a.hiding_spot_id, "location_note": a.location_note,
                     "outcome": a.outcome, "find": str(a.find_id) if a.find_id else None,
                     "explanation": a.explanation} for a in d.alerts])
    else:
        form = DeploymentForm()
    _prepare(form, deployment)
    if form.validate_on_submit():
        dog, handler = _check_team(form)
        save_deployment(deployment, form.data, dog=dog, handler=handler, by=current_user)
        audit_reason("Deployment corrected")
        db.session.commit()
        flash("Deployment updated.", "success")
        return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id))
    return _render_form(form, deployment, status=form_status())


@bp.route("/deployments/<int:deployment_id>/finds/<int:find_id>/evidence", methods=["POST"])
@roles_required(*RECORD_ROLES)
def find_evidence(deployment_id, find_id):
    """Record whether a find held evidence once the forensic exam is back."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    find = db.session.get(Find, find_id)
    if find is None or find.deployment_id != deployment.id:
        abort(404)
    form = EvidenceForm()
    if not form.validate_on_submit():
        flash(" ".join(form.evidence.errors) or "Choose yes, no or pending.", "error")
        return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id)), 303
    if find.evidence != form.evidence.data:
        find.evidence = form.evidence.data
        audit_reason("Forensic exam result")
        db.session.commit()
        flash(f"Evidence for the {find.device_type.name} set to “{form.evidence.data}”.", "success")
    return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id, _anchor=f"find-{find.id}"))


@bp.route("/deployments/<int:deployment_id>/archive", methods=["POST"])
@roles_required(*RECORD_ROLES)
def archive_deployment(deployment_id):
    """Archive a deployment logged by mistake (managers and admins); it leaves every figure."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    require_manage(deployment.agency_id)
    if ArchiveForm().validate_on_submit():
        if archive(deployment, request.form.get("reason"), "Archived from the deployment page"):
            db.session.commit()
            flash("Deployment archived: it no longer counts in any figure.", "success")
    return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id))


__all__ = ["local_to_utc"]
