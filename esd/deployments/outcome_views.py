"""The case outcome of a deployment, on its own page: recorded and corrected by managers, audited."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..audit import audit_reason
from ..extensions import db
from ..forms import form_status
from ..models import CaseOutcome, Deployment
from ..models.outcomes import OUTCOME_COUNTS
from ..roles import MANAGE_ROLES
from ..scoping import require_manage, roles_required, scoped_get_or_404
from .outcome_forms import OUTCOME_LABELS, CaseOutcomeForm
from .services import utc_to_local
from .views import bp


def outcome_of(deployment: Deployment) -> CaseOutcome | None:
    """The deployment's case outcome, None before anything was recorded."""
    return db.session.scalar(select(CaseOutcome).where(CaseOutcome.deployment_id == deployment.id))


def save_outcome(deployment: Deployment, counts: dict, by) -> CaseOutcome:
    """Create or correct the deployment's case outcome (the audit hooks record what changed)."""
    outcome = outcome_of(deployment)
    if outcome is None:
        outcome = CaseOutcome(deployment_id=deployment.id, agency_id=deployment.agency_id)
        db.session.add(outcome)
    for name in OUTCOME_COUNTS:
        setattr(outcome, name, counts[name])
    outcome.updated_by_id = by.id
    return outcome


@bp.route("/deployments/<int:deployment_id>/outcome", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def case_outcome(deployment_id):
    """Record what a search led to as it becomes known: devices examined, evidence, arrests, charges, children."""
    deployment = scoped_get_or_404(Deployment, deployment_id)
    require_manage(deployment.agency_id)
    outcome = outcome_of(deployment)
    form = CaseOutcomeForm(obj=outcome) if request.method == "GET" else CaseOutcomeForm()
    if form.validate_on_submit():
        save_outcome(deployment, form.counts(), current_user)
        audit_reason("Case outcome recorded" if outcome is None else "Case outcome corrected")
        db.session.commit()
        flash("Case outcome saved.", "success")
        return redirect(url_for("deployments.deployment_detail", deployment_id=deployment.id))
    local = utc_to_local(deployment.started_at, deployment.dog.agency.timezone)
    return render_template("deployments/outcome_form.html", form=form, deployment=deployment, outcome=outcome,
                           local=local, labels=OUTCOME_LABELS), form_status()
