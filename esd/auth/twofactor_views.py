"""Two-factor sign-in pages: the code after the password, enrolment, and the guard of forced enrolment."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..forms import form_status
from ..extensions import db
from .views import bp
from .pending import CODE, ENROL, forget, pending, pending_step
from .services import cannot_sign_in, count_failed_login
from .twofactor import (begin_enrolment, check_second_factor, confirm_enrolment, grouped_secret, is_enrolled,
                        provisioning_uri, qr_svg, recovery_codes_left)
from .twofactor_forms import CodeForm, EnrolForm
from .views import sign_in

# What a person who must enrol may reach before enrolling: the enrolment page, cancelling, static files.
ENROLMENT_ENDPOINTS = {"auth.two_factor_setup", "auth.two_factor_cancel", "static", "bootstrap.static"}


@bp.before_app_request
def enrolment_first():
    """Someone who must enrol reaches nothing else (pages redirect there, the API answers 401)."""
    if pending_step() != ENROL or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if pending(ENROL) is None:
        forget()  # expired: they start again at the password
        return None
    if request.path.startswith("/api/"):
        abort(401)
    return redirect(url_for("auth.two_factor_setup"))


@bp.route("/login/code", methods=["GET", "POST"])
def two_factor_code():
    """The second step of a login: a code from the authenticator app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    waiting = pending(CODE)
    if waiting is None:
        flash("Please log in again.", "info")
        return redirect(url_for("auth.login"))
    user, state = waiting
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        error = cannot_sign_in(user)
        if error is None and check_second_factor(user, form.code.data):
            return sign_in(user, state.get("next"))
        if error is None:
            count_failed_login(user, reason="wrong second-factor code")
            error = cannot_sign_in(user)
            if error is None:
                form.code.errors.append("This code is not right, or was used already. Wait for the next one.")
        db.session.commit()
        if error:
            forget()
    status = form_status()
    return render_template("auth/two_factor_code.html", form=form, error=error), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Enrol an authenticator app: scan the QR code or type the secret, then confirm with a first code."""
    waiting = pending(ENROL)
    if current_user.is_authenticated:
        user, next_url = current_user._get_current_object(), None
    elif waiting is not None:
        user, next_url = waiting[0], waiting[1].get("next")
    else:
        return redirect(url_for("auth.login", next=request.path))
    if is_enrolled(user):
        return render_template("auth/two_factor_status.html", codes_left=recovery_codes_left(user))
    form = EnrolForm()
    factor = begin_enrolment(user)
    if form.validate_on_submit():
        codes = confirm_enrolment(user, form.code.data)
        if codes is not None:
            if not current_user.is_authenticated:
                sign_in(user, None)  # commits; the codes page below links on to where they were going
            else:
                db.session.commit()
            return render_template("auth/two_factor_codes.html", codes=codes,
                                   next_url=next_url or url_for("main.home"))
        form.code.errors.append("This code does not match. Check the app's clock and type the newest code.")
    db.session.commit()  # the secret shown must be the one checked on the next visit
    uri = provisioning_uri(user, factor)
    status = form_status()
    return render_template("auth/two_factor_setup.html", form=form, qr=Markup(qr_svg(uri)),
                           secret=grouped_secret(factor.secret), forced=not current_user.is_authenticated), status


@bp.route("/login/cancel", methods=["POST"])
def two_factor_cancel():
    """Abandon a half-finished login (to sign in as someone else)."""
    forget()  # CSRFProtect has checked the form's token before this runs
    return redirect(url_for("main.home" if current_user.is_authenticated else "auth.login"))
