"""/verify: anyone checks a packet by its code or digest, without an account."""
from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from ..extensions import limiter
from ..roles import can_manage
from .forms import VerifyForm
from .services import KINDS, check_all, display_code, find_issued, issued_on, parse_query

bp = Blueprint("verification", __name__)


def _may_see_changes(agency_id: int) -> bool:
    """The agency's audit-log readers (its managers, administrators) see what changed."""
    return current_user.is_authenticated and can_manage(current_user, agency_id)


@bp.route("/verify")
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify():
    """Check a packet: issued here or not, for which agency and date, unchanged since or not."""
    form = VerifyForm(request.args)
    checks, asked = [], "q" in request.args
    if asked and form.validate():
        checks = check_all(find_issued(parse_query(form.q.data)))
    return render_template("verification/verify.html", form=form, asked=asked, checks=checks, kinds=KINDS,
                           display_code=display_code, issued_on=issued_on, may_see_changes=_may_see_changes)
