"""JSON endpoints for the tablet: sessions (create, dedupe by client UUID, edit) and vocabularies."""
import uuid

from flask import Blueprint, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import TrainingSession, utcnow
from ..roles import RECORD_ROLES
from ..scoping import record_agency_ids, roles_required, scoped_get_or_404
from ..training import services
from ..training.forms import PayloadError

bp = Blueprint("api", __name__, url_prefix="/api")


def _json_body():
    """The request's JSON object, or a 400 answer saying what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        raise PayloadError([{"field": None, "error": "The body is not valid JSON."}], status=400)
    return data


def _error_response(exc: PayloadError):
    first = exc.errors[0]
    return jsonify(error=first["error"], field=first["field"], errors=exc.errors), exc.status


@bp.errorhandler(PayloadError)
def payload_error(exc):
    db.session.rollback()
    return _error_response(exc)


@bp.route("/csrf-token")
@roles_required(*RECORD_ROLES)
def csrf_token():
    """A fresh token: a form cached for offline use holds one that may have expired."""
    return jsonify(csrf_token=generate_csrf())


@bp.route("/vocabularies")
@roles_required(*RECORD_ROLES)
def vocabularies():
    """The tablet form's choices, most used by this agency first (the service worker caches this)."""
    return jsonify(services.vocabulary(record_agency_ids()))


@bp.route("/sessions", methods=["POST"])
@roles_required(*RECORD_ROLES)
def create_session():
    """Store a session from the tablet; a retried upload of the same client UUID returns the first."""
    data = _json_body()
    existing = services.find_by_uuid(_uuid_of(data))
    if existing is not None:
        return _existing(existing)
    clean = services.load_session(data, current_user, utcnow())
    session = services.create_session(clean, current_user)
    # The answer is built from what was just flushed: after the commit every attribute would be
    # loaded again, hides included.
    body = services.session_json(session) | {"created": True}
    try:
        db.session.commit()
    except IntegrityError:
        # Two uploads of one session raced: the other one won, answer with it.
        db.session.rollback()
        existing = services.find_by_uuid(clean.get("client_uuid"))
        if existing is None:
            raise
        return _existing(existing)
    return jsonify(body), 201


def _uuid_of(data) -> str | None:
    if not isinstance(data, dict) or not data.get("client_uuid"):
        return None
    try:
        return str(uuid.UUID(str(data["client_uuid"])))
    except ValueError:
        return None


def _existing(session: TrainingSession):
    agency_ids = record_agency_ids()
    if agency_ids is not None and session.agency_id not in agency_ids:
        return jsonify(error="This client UUID belongs to another session.", field="client_uuid"), 409
    return jsonify(services.session_json(session) | {"created": False}), 200


@bp.route("/sessions/<int:session_id>")
@roles_required(*RECORD_ROLES)
def get_session(session_id):
    """One session as the tablet form speaks it."""
    session = scoped_get_or_404(TrainingSession, session_id)
    return jsonify(services.session_json(session))


@bp.route("/sessions/<int:session_id>", methods=["PUT"])
@roles_required(*RECORD_ROLES)
def update_session(session_id):
    """Edit a session: a reason once it is over 24 hours old or signed off; sign-off is cleared."""
    session = services.editable_or_404(current_user, session_id)
    data = _json_body()
    now = utcnow()
    clean = services.load_session(data, current_user, now, session=session)
    changed = services.revise_session(session, clean, current_user, now, data.get("reason"))
    db.session.commit()
    return jsonify(services.session_json(session) | {"changed": changed}), 200
