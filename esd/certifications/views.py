"""Certification pages: the status board, upcoming expiries, record and renew, certificates, the bell."""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request, send_file, url_for)
from flask_login import current_user, login_required
from sqlalchemy import select, update

from ..forms import form_status
from ..agency_day import viewer_today
from ..archiving import archive
from ..audit import audit_reason
from ..dates import one_year_after
from ..extensions import db
from ..models import Agency, Certification, Dog, Notification, Reminder, User, utcnow
from ..models.certifications import expiry_phrase
from ..parsing import optional_int
from ..redirects import safe_next
from ..roles import MANAGE_ROLES, RECORD_ROLES
from ..scoping import (can_manage, record_agency_ids, require_manage, roles_required,
                       scoped_get_or_404)
from . import services
from .forms import CertificationForm, CorrectionForm, ReminderPreferenceForm, dog_label

bp = Blueprint("certifications", __name__)


# --- Template globals: the bell ----------------------------------------

@bp.app_template_global()
def unread_notification_count() -> int:
    """The number on the bell."""
    if not current_user.is_authenticated:
        return 0
    noted = g.get("unread_notifications")  # read with the user, in the same statement (esd/__init__.py)
    if noted is not None and noted[0] == current_user.id:
        return noted[1]
    return db.session.scalar(select(Notification.unread_count(current_user.id))) or 0


bp.add_app_template_filter(expiry_phrase, "days_phrase")


# --- The status board --------------------------------------------------------------------------

def _board_request():
    """Rows of the board as the query string asks: statuses to show, sort column and direction."""
    statuses = [s for s in request.args.getlist("status") if s in services.STATUSES]
    sort = request.args.get("sort", "status")
    if sort not in services.SORT_KEYS:
        sort = "status"
    descending = request.args.get("dir") == "desc"
    everything = services.board_rows(record_agency_ids(), all_in_training=_all_in_training())
    rows = services.sort_rows(services.filter_rows(everything, statuses), sort, descending)
    return everything, rows, statuses, sort, descending


def _all_in_training() -> bool:
    return request.args.get("training") == "all"


@bp.route("/certifications")
@roles_required(*RECORD_ROLES)
def board():
    """Every dog that holds or needs a certification, with days left and status; most urgent first."""
    everything, rows, statuses, sort, descending = _board_request()
    all_in_training = _all_in_training()
    return render_template("certifications/board.html", groups=services.group_by_agency(rows),
                           counts=services.status_counts(everything), shown=len(rows),
                           left_out=services.left_out(record_agency_ids(), all_in_training),
                           training="all" if all_in_training else None,
                           statuses=statuses, sort=sort, descending=descending,
                           labels=services.STATUS_LABELS, all_statuses=services.STATUSES,
                           can_record=current_user.role in MANAGE_ROLES)


@bp.route("/certifications/board.csv")
@roles_required(*RECORD_ROLES)
def board_csv():
    """The board as CSV, filtered and sorted as on screen."""
    _, rows, *_ = _board_request()
    stamp = viewer_today().isoformat()
    return Response(services.board_csv(rows), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="certification-status-{stamp}.csv"'})


@bp.route("/certifications/upcoming")
@roles_required(*RECORD_ROLES)
def upcoming():
    """Expiries of the next 180 days, month by month."""
    agency = current_user.agency
    today = agency.today() if agency else viewer_today()
    months = services.upcoming(record_agency_ids(), today)
    return render_template("certifications/upcoming.html", months=months, today=today,
                           days=services.UPCOMING_DAYS, show_agency=agency is None)


# --- Record, renew, read, archive ----------------------------------------------------------------

def _save(form: CertificationForm, replaces: Certification | None = None) -> Certification:
    """Store the file, then the row; if the row fails, the file goes too (nothing half-saved)."""
    stored = services.store_certificate(form.certificate.data) if form.certificate.data else None
    try:
        audit_reason("Renewal recorded" if replaces is not None else "Certification recorded")
        cert = services.record_certification(form.data, stored, by=current_user, replaces=replaces)
        db.session.commit()
    except Exception:
        db.session.rollback()
        services.remove_certificate(stored)
        raise
    return cert


def _prefill_dates(form: CertificationForm, today: date) -> None:
    if request.method == "GET":
        form.issued_on.data = form.issued_on.data or today
        form.expires_on.data = form.expires_on.data or one_year_after(form.issued_on.data)


@bp.route("/certifications/new", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def new_certification():
    """Record a team's certification, with its certificate file."""
    dog = None
    dog_id = optional_int(request.args.get("dog_id"))  # an id no record has is not found (404)
    if dog_id is not None:
        dog = scoped_get_or_404(Dog, dog_id)
        require_manage(dog.agency_id)
    assessment_id = optional_int(request.args.get("assessment"))  # from a passed assessment: its figures
    if assessment_id is not None:
        from ..assessments.services import passed_assessment_or_404
        dog = passed_assessment_or_404(assessment_id).dog
    form = CertificationForm(user=current_user)
    if request.method == "GET" and assessment_id is not None:
        form.process(data=passed_assessment_or_404(assessment_id, prefill=True))
    elif request.method == "GET" and dog is not None:
        form.dog_id.data = dog.id
        team = dog.current_team(dog.agency.today())
        form.handler_id.data = team.handler_id if team else None
    _prefill_dates(form, dog.agency.today() if dog else viewer_today())
    if form.validate_on_submit():
        cert = _save(form)
        flash(f"Certification recorded for {cert.dog.name}: expires {cert.expires_on.isoformat()}.", "success")
        return redirect(url_for("certifications.certification_detail", certification_id=cert.id))
    status = form_status()
    return render_template("certifications/form.html", form=form, renewing=None, dog=dog), status


@bp.route("/certifications/<int:certification_id>/renew", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def renew_certification(certification_id):
    """Record the next certification of the same team; the old one is kept as history."""
    old = scoped_get_or_404(Certification, certification_id)
    require_manage(old.agency_id)
    if old.archived_at is not None or old.replaced_by_id is not None:
        flash("This certification was already renewed or archived; renew the current one.", "warning")
        return redirect(url_for("certifications.certification_detail", certification_id=old.id))
    form = CertificationForm(user=current_user, fixed_dog=old.dog)
    if request.method == "GET":
        form.dog_id.data = old.dog_id
        form.handler_id.data = old.handler_id
        form.certifying_body_id.data = old.certifying_body_id
        form.discipline.data = old.discipline
        form.evaluator.data = old.evaluator
        today = old.dog.agency.today()
        form.issued_on.data = today
        form.expires_on.data = one_year_after(today)
    if form.validate_on_submit():
        cert = _save(form, replaces=old)
        if cert.result == "pass":
            flash(f"Renewal recorded for {cert.dog.name}: expires {cert.expires_on.isoformat()}. "
                  "Reminders for the previous certification are cancelled.", "success")
        else:
            flash(f"Recorded as failed. The previous certification of {cert.dog.name} stays current "
                  f"until {old.expires_on.isoformat()}.", "warning")
        return redirect(url_for("certifications.certification_detail", certification_id=cert.id))
    status = form_status()
    return render_template("certifications/form.html", form=form, renewing=old, dog=old.dog), status


@bp.route("/certifications/<int:certification_id>/correct", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def correct_certification(certification_id):
    """Correct a certification entered wrong, with a reason; each change is audited before → after."""
    cert = scoped_get_or_404(Certification, certification_id)
    require_manage(cert.agency_id)
    if cert.archived_at is not None:
        abort(404)
    form = CorrectionForm(user=current_user, fixed_dog=cert.dog)
    if request.method == "GET":
        for name in services.RECORD_FIELDS:
            getattr(form, name).data = getattr(cert, name)
    if form.validate_on_submit():
        audit_reason(form.reason.data.strip())
        changed = services.correct_certification(cert, form.data)
        db.session.commit()
        if changed:
            flash(f"Certification corrected ({', '.join(c.replace('_', ' ') for c in changed)}); the change and "
                  "its reason are in the audit log.", "success")
        else:
            flash("Nothing was changed.", "info")
        return redirect(url_for("certifications.certification_detail", certification_id=cert.id))
    status = form_status()
    return render_template("certifications/form.html", form=form, renewing=None, correcting=cert, dog=cert.dog), status


@bp.route("/certifications/<int:certification_id>")
@roles_required(*RECORD_ROLES)
def certification_detail(certification_id):
    """One certification: its status, score, certificate, the renewal chain and the notices sent."""
    cert = scoped_get_or_404(Certification, certification_id)
    today = cert.dog.agency.today()
    renews = db.session.scalars(select(Certification).where(Certification.replaced_by_id == cert.id)).all()
    manage = can_manage(current_user, cert.agency_id)
    reminders = []
    if manage:
        reminders = db.session.scalars(
            select(Reminder).where(Reminder.certification_id == cert.id)
            .order_by(Reminder.threshold_days.desc(), Reminder.recipient_id, Reminder.channel)).all()
    current = services.current_certification(cert.dog)
    return render_template("certifications/detail.html", cert=cert, today=today, renews=renews,
                           status=cert.status_on(today, cert.dog.agency.warning_window_days),
                           is_current=current is not None and current.id == cert.id,
                           labels=services.STATUS_LABELS, manage=manage, reminders=reminders,
                           dog_name=dog_label(cert.dog))


@bp.route("/certifications/<int:certification_id>/archive", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def archive_certification(certification_id):
    """Take a certification entered by mistake off the board; it stays in the audit log."""
    cert = scoped_get_or_404(Certification, certification_id)
    require_manage(cert.agency_id)
    if archive(cert, request.form.get("reason"), "Archived from the certification page"):
        services.cancel_reminders(cert)
        db.session.commit()
        flash("Certification archived.", "success")
    return redirect(url_for("certifications.certification_detail", certification_id=cert.id))


@bp.route("/certifications/<int:certification_id>/certificate")
@roles_required(*RECORD_ROLES)
def certificate_file(certification_id):
    """The certificate, to users who may read the certification; under its original name."""
    cert = scoped_get_or_404(Certification, certification_id)
    path = services.certificate_path(cert)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=cert.certificate_mime, as_attachment=False,
                         download_name=cert.certificate_name or "certificate", max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- Notifications and the reminder preference -----------------------------------------------------

@bp.route("/notifications")
@login_required
def notifications():
    """The user's in-app notifications, unread first."""
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .limit(200)).all()
    return render_template("certifications/notifications.html", items=items)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id):
    """Mark one notification read; another user's is not found."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    if item.read_at is None:
        item.read_at = utcnow()
        db.session.commit()
        g.pop("unread_notifications", None)
    return redirect(safe_next(request.form.get("next")) or url_for("certifications.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    """Mark every notification of the user read."""
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                   Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    g.pop("unread_notifications", None)
    flash("All notifications marked read.", "success")
    return redirect(url_for("certifications.notifications"))


@bp.route("/account/reminders", methods=["GET", "POST"])
@login_required
def account():
    """Turn certification reminder e-mails on or off for oneself."""
    user = db.session.get(User, current_user.id)
    # An unticked box sends nothing: the posted form, even empty, is the answer (not the stored value).
    form = ReminderPreferenceForm(formdata=request.form if request.method == "POST" else None, obj=user)
    if form.validate_on_submit():
        user.email_reminders = bool(form.email_reminders.data)
        audit_reason("Reminder e-mail preference changed by the user")
        db.session.commit()
        flash("Reminder e-mails are " + ("on." if user.email_reminders else "off. You still see reminders "
                                         "under the bell."), "success")
        return redirect(url_for("certifications.account"))
    receives = user.role == "manager" or (user.role == "handler" and user.handler is not None)
    agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
    return render_template("certifications/account.html", form=form, receives=receives, agency=agency)
