"""Training pages: the tablet log, session lists and detail, sign-off, the agency overview, offline support."""

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, Dog, Handler, TrainingSession, utcnow
from ..parsing import parse_id
from ..proficiency import readiness
from ..roles import MANAGE_ROLES, RECORD_ROLES
from ..scoping import record_agency_ids, roles_required, scoped_get_or_404
from . import forms, services
from . import queue as sign_off_queue
from .queue_forms import QueueFilterForm, SessionListFilterForm, SignOffForm

bp = Blueprint("training", __name__)

# v2: the shell holds limits.js; v3: app.js without its own find rate; v4: the rejected list redrawn only on change
SW_VERSION = "training-v4"
BOOTSTRAP_ICONS_QUERY = "?e34853135f9e39acf64315236852cd5a"  # as bootstrap-icons.min.css asks for it


@bp.app_template_filter("training_local")
def training_local(moment, agency, fmt="%Y-%m-%d %H:%M"):
    """Show a stored UTC instant in the agency's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(services.agency_tz(agency)).strftime(fmt)


@bp.route("/training")
@roles_required(*RECORD_ROLES)
def overview():
    """Training hours per dog this week and month against the agency's target: who is behind."""
    now = utcnow()
    agency_ids = record_agency_ids()
    stmt = select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.name)
    if agency_ids is not None:
        stmt = stmt.where(Agency.id.in_(agency_ids))
    groups = [(agency, services.agency_overview(agency, now)) for agency in db.session.scalars(stmt)]
    return render_template("training/overview.html", groups=groups, now=now)


@bp.route("/training/new")
@roles_required(*RECORD_ROLES)
def new_session():
    """The tablet form: dog and handler from the current team, start now; works offline once loaded."""
    dogs = services.dog_choices(current_user)
    return render_template("training/session_form.html", mode="new", dogs=dogs,
                           handlers=services.handler_choices(current_user),
                           default_dog_id=services.default_dog_id(current_user, dogs), session=None,
                           reason_required=False, limits=forms.limits(), plan=_plan(dogs))


def _plan(dogs: list[dict]) -> dict | None:
    """The suggested next session's hides when the form is opened as a plan (?plan=<dog id>); 404 for a dog not offered."""
    raw = request.args.get("plan")
    if not raw:
        return None
    dog_id = parse_id(raw)
    if dog_id is None or dog_id not in {d["id"] for d in dogs}:
        abort(404)
    return readiness.cached_plan(scoped_get_or_404(Dog, dog_id)).tablet_json()


@bp.route("/training/sessions/<int:session_id>")
@roles_required(*RECORD_ROLES)
def session_detail(session_id):
    """One session with its summary, hides, false alerts, sign-off and earlier versions."""
    session = scoped_get_or_404(TrainingSession, session_id)
    return render_template("training/detail.html", session=session,
                           summary=services.session_summary(session),
                           may_edit=services.may_edit(current_user, session),
                           may_sign_off=services.may_sign_off(current_user, session),
                           revisions=services.revisions(session), saved=request.args.get("saved"))


@bp.route("/training/sessions/<int:session_id>/edit")
@roles_required(*RECORD_ROLES)
def edit_session(session_id):
    """The tablet form filled with a saved session (needs a connection)."""
    session = services.editable_or_404(current_user, session_id)
    return render_template("training/session_form.html", mode="edit",
                           dogs=services.dog_choices(current_user, include_id=session.dog_id),
                           handlers=services.handler_choices(current_user), default_dog_id=session.dog_id,
                           session=services.session_json(session),
                           reason_required=services.reason_required(session, utcnow()), limits=forms.limits())


@bp.route("/training/sessions/<int:session_id>/sign-off", methods=["POST"])
@roles_required(*RECORD_ROLES)
def sign_off(session_id):
    """A manager signs a session off, locking it until the next change."""
    session = scoped_get_or_404(TrainingSession, session_id)
    if not services.may_sign_off(current_user, session):
        abort(404)
    if session.is_signed_off:
        flash("This session is already signed off.", "info")
    else:
        services.sign_off(session, current_user, utcnow())
        db.session.commit()
        flash("Session signed off. A later change needs a reason and clears the sign-off.", "success")
    return redirect(url_for("training.session_detail", session_id=session.id))


# ---------------------------------------------------------------- the sign-off queue

QUEUE_ARGS = ("dog", "handler", "start", "end")


def _queue_args() -> dict:
    """The queue's filter values from the query string, to keep them across a sign-off."""
    return {k: request.args[k] for k in QUEUE_ARGS if request.args.get(k)}


@bp.route("/training/queue")
@roles_required(*MANAGE_ROLES)
def queue():
    """The agency's sessions waiting for sign-off, oldest first, filtered by dog, handler and dates."""
    agency_ids = record_agency_ids()
    form = QueueFilterForm(request.args)
    dogs, handlers = sign_off_queue.filter_choices(agency_ids)
    form.dog.choices = [("", "Any dog")] + dogs
    form.handler.choices = [("", "Any handler")] + handlers
    valid = form.validate()
    filters = sign_off_queue.QueueFilters()
    if valid:
        # A dog or handler of another agency is out of scope: 404, like the record itself.
        dog = scoped_get_or_404(Dog, form.dog.data) if form.dog.data else None
        handler = scoped_get_or_404(Handler, form.handler.data) if form.handler.data else None
        filters = sign_off_queue.QueueFilters(dog_id=dog.id if dog else None,
                                              handler_id=handler.id if handler else None,
                                              start=form.start.data, end=form.end.data)
    total, rows = sign_off_queue.unsigned_sessions(agency_ids, filters) if valid else (0, [])
    return render_template("training/queue.html", form=form, rows=rows, total=total, valid=valid,
                           sign_off_form=SignOffForm(), args=_queue_args(),
                           filtered=bool(_queue_args()), purposes=services.PURPOSE_LABELS,
                           limit=sign_off_queue.QUEUE_LIMIT), 200 if valid else 400


@bp.route("/training/queue/sign-off", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def sign_off_many():
    """Sign off the sessions ticked in the queue, all or none: an id out of scope signs nothing (404)."""
    form = SignOffForm()
    if not form.validate_on_submit():
        flash("The form expired: nothing was signed off. Tick the sessions again.", "warning")
        return redirect(url_for("training.queue", **_queue_args()))
    raw = request.form.getlist("session_id")
    if not raw:
        flash("Tick at least one session to sign off.", "warning")
        return redirect(url_for("training.queue", **_queue_args()))
    if len(raw) > sign_off_queue.MAX_CHOSEN:
        flash(f"Sign off at most {sign_off_queue.MAX_CHOSEN} sessions at once: nothing was signed off.", "warning")
        return redirect(url_for("training.queue", **_queue_args()))
    ids = [parse_id(value) for value in raw]
    if None in ids:
        abort(404)
    try:
        signed, already = sign_off_queue.sign_off_many(ids, current_user, utcnow())
    except sign_off_queue.OutOfScope:
        db.session.rollback()
        abort(404)
    db.session.commit()
    message = f"{len(signed)} session{'' if len(signed) == 1 else 's'} signed off."
    if already:
        message += f" {already} had been signed off already by someone else."
    flash(message, "success")
    return redirect(url_for("training.queue", **_queue_args()))


def _session_filters() -> tuple[SessionListFilterForm, services.SessionFilters]:
    """The session list's filter form and what it filters by: a field with an error filters nothing."""
    form = SessionListFilterForm(request.args)
    form.purpose.choices = [("", "Any")] + list(services.PURPOSE_LABELS.items())
    form.validate()

    def valid(field):
        return None if field.errors else field.data or None

    return form, services.SessionFilters(start=valid(form.start), end=valid(form.end),
                                         purpose=valid(form.purpose), blind_only=bool(form.blind.data))


@bp.route("/dogs/<int:dog_id>/sessions")
@roles_required(*RECORD_ROLES)
def dog_sessions(dog_id):
    """A dog's sessions, newest first, filtered by dates, purpose and blind hides, page by page."""
    dog = scoped_get_or_404(Dog, dog_id)
    form, filters = _session_filters()
    rows, next_cursor = services.dog_sessions_page(dog, filters, request.args.get("after"))
    args = {k: v for k, v in request.args.items() if k not in ("after", "dog_id")}  # dog_id is the path's
    return render_template("training/dog_sessions.html", dog=dog, rows=rows, form=form,
                           next_url=url_for("training.dog_sessions", dog_id=dog.id, after=next_cursor, **args)
                           if next_cursor else None,
                           first_url=url_for("training.dog_sessions", dog_id=dog.id, **args)
                           if request.args.get("after") else None,
                           purposes=services.PURPOSE_LABELS)


@bp.route("/sw.js")
@login_required
def service_worker():
    """The service worker, at the root so its scope covers the whole app."""
    bootstrap_files = ["css/bootstrap.min.css", "css/font/bootstrap-icons.min.css",
                       "css/font/fonts/bootstrap-icons.woff2",
                       "umd/popper.min.js", "js/bootstrap.min.js"]
    shell = [url_for("training.new_session"), url_for("api.vocabularies"),
             url_for("static", filename="css/app.css"), url_for("static", filename="training/app.js"),
             url_for("static", filename="training/limits.js"),
             url_for("static", filename="training/training.css"), url_for("static", filename="js/site.js"),
             url_for("static", filename="training/manifest.json"),
             url_for("static", filename="training/icon-192.png"),
             url_for("static", filename="training/icon-512.png")]
    shell += [url_for("bootstrap.static", filename=f) for f in bootstrap_files]
    # The icon font is requested with its version in the query string; cache it under that URL.
    shell = [u + BOOTSTRAP_ICONS_QUERY if u.endswith(".woff2") else u for u in shell]
    body = render_template("training/sw.js", shell=shell, version=SW_VERSION,
                           new_session_url=url_for("training.new_session"),
                           debug=current_app.debug)
    return Response(body, mimetype="text/javascript", headers={
        "Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})
