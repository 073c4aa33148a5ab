"""Administration of two-factor sign-in: who must use it, and resetting a user's second factor."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..forms import form_status
from ..audit import audit_reason
from ..auth.twofactor import reset_second_factor, rules, set_rules
from ..auth.twofactor_forms import TwoFactorRulesForm
from ..dogs.forms import ArchiveForm, choices
from ..extensions import db
from ..models import Agency, TwoFactor, User
from ..roles import ROLE_LABELS
from ..scoping import roles_required
from .views import bp


def _rules_form() -> TwoFactorRulesForm:
    roles, agency_ids = rules()
    form = TwoFactorRulesForm(data={"roles": roles, "agencies": agency_ids}) if request.method == "GET" \
        else TwoFactorRulesForm()
    form.roles.choices = choices(ROLE_LABELS.items())
    agencies = db.session.scalars(select(Agency).where((Agency.archived_at.is_(None)) | Agency.id.in_(agency_ids))
                                  .order_by(Agency.name))
    form.agencies.choices = choices((a.id, a.name) for a in agencies)
    return form


@bp.route("/admin/two-factor", methods=["GET", "POST"])
@roles_required("admin")
def two_factor_rules():
    """Choose the roles and agencies whose users must sign in with a second factor."""
    form = _rules_form()
    if form.validate_on_submit():
        set_rules(form.roles.data or [], form.agencies.data or [])
        audit_reason("Two-factor requirement changed")
        db.session.commit()
        flash("Saved. Users it now covers set up their second factor at their next sign-in.", "success")
        return redirect(url_for("admin.two_factor_rules"))
    enrolled = db.session.scalar(select(db.func.count(TwoFactor.user_id)).where(TwoFactor.confirmed_at.is_not(None)))
    return render_template("admin/two_factor.html", form=form, enrolled=enrolled), \
        form_status()


@bp.route("/admin/users/<int:user_id>/two-factor/reset", methods=["POST"])
@roles_required("admin")
def reset_two_factor(user_id):
    """Remove a user's authenticator and recovery codes (a lost phone); their sessions end."""
    user = db.get_or_404(User, user_id)
    if ArchiveForm().validate_on_submit() and db.session.get(TwoFactor, user.id) is not None:
        reset_second_factor(user, current_user)
        db.session.commit()
        flash(f"The second factor of {user.email} is reset and their sessions have ended. "
              "They set it up again at their next sign-in.", "success")
    return redirect(url_for("admin.list_users"))
