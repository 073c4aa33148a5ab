"""Log in, log out, change password."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..audit import record_event
from ..extensions import db
from ..redirects import safe_next
from .forms import ChangePasswordForm, LoginForm
from .passwords import hash_password, verify_password
from .pending import second_step
from .services import authenticate, complete_login, end_all_sessions

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user, error = authenticate(form.email.data, form.password.data, request.remote_addr)
        if user:
            return after_password(user, safe_next(request.args.get("next")))
        db.session.commit()
    return render_template("auth/login.html", form=form, error=error)


def sign_in(user, next_url: str | None):
    """Start the signed-in session of `user`, whose every login step passed, and go on."""
    complete_login(user)
    db.session.commit()
    session.clear()  # a fresh session on login: no fixation
    login_user(user)
    session.permanent = True
    return redirect(next_url or url_for("main.home"))


def after_password(user, next_url: str | None):
    """Sign in, or ask for the second factor (or its enrolment) first."""
    return second_step(user, next_url) or sign_in(user, next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out and invalidate the session cookie everywhere."""
    user = current_user._get_current_object()
    end_all_sessions(user)
    record_event("logout", "user", user.id, user_id=user.id, agency_id=user.agency_id)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session ends."""
    form = ChangePasswordForm()
    form.email_for_check = current_user.email
    form.agency_name_for_check = current_user.agency.name if current_user.agency else None
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("This is not your current password.")
        else:
            user = current_user._get_current_object()
            user.password_hash = hash_password(form.new_password.data)
            end_all_sessions(user)
            record_event("password_changed", "user", user.id, user_id=user.id, agency_id=user.agency_id)
            db.session.commit()
            login_user(user)  # this browser keeps its session with the new version
            flash("Password changed. Other sessions have been logged out.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)
