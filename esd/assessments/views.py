"""Planned, sealed sessions and assessments: plan, record at the site (offline too), close and compare; standards."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..forms import form_status
from ..agency_day import viewer_today
from ..audit import audit_reason
from ..extensions import db
from ..models import AssessmentStandard, Dog, PlannedSession, terms, utcnow
from ..models.assessments import BLINDNESS_LABELS, KIND_LABELS
from ..parsing import optional_int
from ..roles import MANAGE_ROLES, RECORD_ROLES, is_trainer
from ..scoping import record_agency_ids, require_manage, roles_required, scoped_get_or_404
from ..training.services import agency_tz
from . import comparison, services
from .forms import CloseForm, PlanForm, StandardForm, StartForm

bp = Blueprint("assessments", __name__)


@bp.app_context_processor
def labels():
    return {"BLINDNESS_LABELS": BLINDNESS_LABELS, "KIND_LABELS": KIND_LABELS}


def _plan_or_404(plan_id: int) -> PlannedSession:
    return scoped_get_or_404(PlannedSession, plan_id)


def _may_plan(user) -> bool:
    """A trainer of their own agency (an admin of any): managers, and handlers given the trainer right."""
    return user.role in RECORD_ROLES and is_trainer(user, user.agency_id)


def trainer_required(view):
    """Allow a view to trainers only; everyone else gets 404, anonymous users the login page."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not _may_plan(current_user):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


@bp.route("/planned")
@roles_required(*RECORD_ROLES)
def list_plans():
    """Planned sessions and assessments, newest first: the areas only until each is closed."""
    plans = services.plans_in_scope(record_agency_ids())
    return render_template("assessments/list.html", plans=plans,
                           may_see={p.id: services.may_see_plan(current_user, p) for p in plans},
                           may_plan=_may_plan(current_user))


def _save_plan(form: PlanForm, plan: PlannedSession):
    dog = form.chosen_dog()
    try:
        services.save_plan(plan, form.plan_values(), form.area_values(agency_tz(dog.agency)), current_user,
                           utcnow(), form.reason.data)
    except services.PlanError as error:
        db.session.rollback()
        target = form.reason if error.field == "reason" else None
        if target is not None:
            target.errors = list(target.errors) + [error.message]
        else:
            flash(error.message, "danger")
        return None
    db.session.commit()
    return plan


@bp.route("/planned/new", methods=["GET", "POST"])
@trainer_required
def new_plan():
    """A trainer plans a session: the dog, the areas and what is placed in each (sealed from the handler)."""
    form = PlanForm(user=current_user)
    if request.method == "GET":
        dog_id = optional_int(request.args.get("dog_id"))
        if dog_id is not None:
            dog = scoped_get_or_404(Dog, dog_id)
            if not is_trainer(current_user, dog.agency_id):
                abort(404)
            form.dog_id.data = dog.id
            team = dog.current_team()
            form.handler_id.data = team.handler_id if team else None
        form.planned_on.data = current_user.agency.today() if current_user.agency else viewer_today()
        form.pad(5)
    if form.validate_on_submit():
        plan = _save_plan(form, PlannedSession())
        if plan is not None:
            flash(f"Planned: {len(plan.areas)} areas for {plan.dog.name} on {plan.planned_on}. "
                  "The handler sees the areas only.", "success")
            return redirect(url_for("assessments.plan_detail", plan_id=plan.id))
    status = form_status()
    return render_template("assessments/plan_form.html", form=form, plan=None), status


@bp.route("/planned/<int:plan_id>/edit", methods=["GET", "POST"])
@trainer_required
def edit_plan(plan_id):
    """Change a plan: freely before the start; after it only its trainer, with a reason (audited)."""
    plan = _plan_or_404(plan_id)
    if not services.may_see_plan(current_user, plan):
        abort(404)
    if not services.may_edit_plan(current_user, plan):
        flash("This plan can no longer be changed: " + ("the session is closed." if plan.is_closed else
              "the session has started and only its trainer may change it."), "warning")
        return redirect(url_for("assessments.plan_detail", plan_id=plan.id))
    form = PlanForm(user=current_user, plan=plan, obj=plan if request.method == "GET" else None)
    if request.method == "GET":
        tz = agency_tz(plan.dog.agency)
        for entry, area in zip(form.areas.entries, plan.areas):
            if area.placed_at is not None:
                entry.form.placed_at.data = area.placed_at.astimezone(tz).replace(tzinfo=None)
        form.pad()
    if form.validate_on_submit():
        if plan.is_started and not (form.reason.data or "").strip():
            form.reason.errors = list(form.reason.errors) + [
                "The session has started: give a reason for changing its plan (it is kept in the audit log)."]
        elif _save_plan(form, plan) is not None:
            flash("Plan saved.", "success")
            return redirect(url_for("assessments.plan_detail", plan_id=plan.id))
    status = form_status()
    return render_template("assessments/plan_form.html", form=form, plan=plan), status


@bp.route("/planned/<int:plan_id>")
@roles_required(*RECORD_ROLES)
def plan_detail(plan_id):
    """The plan to a trainer; to the handler and the observer only the areas, until it is closed."""
    plan = _plan_or_404(plan_id)
    revealed = services.may_see_plan(current_user, plan)
    result = services.compare_plan(plan) if revealed else None
    return render_template("assessments/detail.html", plan=plan, revealed=revealed, result=result,
                           verdict_labels=comparison.VERDICT_LABELS,
                           may_record=services.may_record(current_user, plan),
                           may_edit=services.may_edit_plan(current_user, plan),
                           may_close=is_trainer(current_user, plan.agency_id) and not plan.is_closed
                           and revealed, close_form=CloseForm(duration_minutes=services.default_duration(plan, utcnow())),
                           recorded=sum(1 for a in plan.areas if a.outcome is not None))


@bp.route("/planned/<int:plan_id>/record")
@roles_required(*RECORD_ROLES)
def record(plan_id):
    """The tablet page of the site: each area to search and its outcome; kept for offline use."""
    plan = _plan_or_404(plan_id)
    if not services.may_record(current_user, plan):
        abort(404)
    spots = [{"id": t.id, "name": t.name} for t in terms("hiding_spot")]
    return render_template("assessments/record.html", plan=plan, spots=spots, start_form=StartForm())


@bp.route("/planned/<int:plan_id>/start", methods=["POST"])
@roles_required(*RECORD_ROLES)
def start(plan_id):
    """Mark the session started: from now its plan changes only with its trainer's reason."""
    plan = _plan_or_404(plan_id)
    if not services.may_record(current_user, plan) or not StartForm().validate_on_submit():
        abort(404)
    services.start(plan, current_user, utcnow())
    db.session.commit()
    flash("Session started.", "success")
    return redirect(url_for("assessments.record", plan_id=plan.id))


@bp.route("/planned/<int:plan_id>/areas/<int:area_id>/outcome", methods=["POST"])
def record_outcome(plan_id, area_id):
    """Record one area's outcome (JSON, from the tablet; an identical retry answers 200, not a second outcome)."""
    if not current_user.is_authenticated:
        return jsonify(error="Log in again to upload."), 401
    if current_user.role not in RECORD_ROLES:
        abort(404)
    plan = _plan_or_404(plan_id)
    try:
        area, created = services.record_outcome(plan, area_id, request.get_json(silent=True), current_user, utcnow())
        db.session.commit()
    except services.PlanError as error:
        db.session.rollback()
        return jsonify(error=error.message, field=error.field), error.status
    recorded = sum(1 for a in plan.areas if a.outcome is not None)
    return jsonify(area_id=area.id, outcome=area.outcome, created=created, recorded=recorded,
                   areas=len(plan.areas)), 201 if created else 200


@bp.route("/planned/<int:plan_id>/close", methods=["POST"])
@trainer_required
def close(plan_id):
    """Reveal and compare: the plan becomes a training session with its hides and false alerts."""
    plan = _plan_or_404(plan_id)
    if not is_trainer(current_user, plan.agency_id) or not services.may_see_plan(current_user, plan):
        abort(404)
    form = CloseForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("assessments.plan_detail", plan_id=plan.id))
    try:
        audit_reason("Planned session closed")
        session = services.close(plan, current_user, utcnow(), form.duration_minutes.data)
        db.session.commit()
    except services.PlanError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("assessments.plan_detail", plan_id=plan_id))
    summary = f"{session.found} of {session.hide_count} hides found, {len(session.false_alerts)} false alerts"
    if plan.result:
        summary += f"; assessment {'passed' if plan.result == 'pass' else 'failed'}"
    flash(f"Closed and revealed: {summary}.", "success" if plan.result != "fail" else "warning")
    return redirect(url_for("assessments.plan_detail", plan_id=plan.id))


# ---------------------------------------------------------------- standards

@bp.route("/standards")
@roles_required(*RECORD_ROLES)
def standards():
    """Each agency's standards: the limits an assessment by a certifying body is judged against."""
    return render_template("assessments/standards.html", standards=services.standards_in_scope(record_agency_ids()),
                           may_manage=current_user.role in MANAGE_ROLES)


def _standard_form(standard: AssessmentStandard | None):
    form = StandardForm(user=current_user, standard=standard, obj=standard if request.method == "GET" else None)
    if form.validate_on_submit():
        agency_id = form.target_agency_id
        require_manage(agency_id)
        standard = standard or AssessmentStandard(agency_id=agency_id)
        for name in ("certifying_body_id", "min_find_rate_percent", "max_misses", "max_false_responses",
                     "negative_search_required"):
            setattr(standard, name, form[name].data)
        standard.name = form.name.data.strip()
        db.session.add(standard)
        db.session.commit()
        flash(f"Standard “{standard.name}” saved.", "success")
        return redirect(url_for("assessments.standards"))
    status = form_status()
    return render_template("assessments/standard_form.html", form=form, standard=standard), status


@bp.route("/standards/new", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def new_standard():
    """Set up a standard: minimum find rate, most misses and false responses per environment, negative search."""
    return _standard_form(None)


@bp.route("/standards/<int:standard_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def edit_standard(standard_id):
    """Change a standard (assessments already closed keep the result they were given)."""
    standard = scoped_get_or_404(AssessmentStandard, standard_id)
    require_manage(standard.agency_id)
    return _standard_form(standard)
