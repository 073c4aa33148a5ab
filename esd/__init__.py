"""ESD K9 Tracker: the application factory."""
import os
from datetime import timedelta
from functools import lru_cache

from flask import Flask, abort, g, jsonify, render_template, request, session
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from . import config, db_events, roles, security_headers
from .extensions import bootstrap, cache, csrf, db, limiter, login_manager, mail, migrate
from .models.base import utcnow
from .parsing import IdConverter, has_nul
from .rates import rate_html, rate_words

# One list of the product's areas: each is a package with a blueprint named `bp` in its views.py.
BLUEPRINTS = ("main", "auth", "admin", "dogs", "training", "certifications", "deployments", "proficiency",
              "reports", "exports", "verification", "api", "assessments", "imports")
# Modules that add routes to their area's `bp` beside views.py, imported before it is registered
# (importing them from views.py would be an import cycle).
MORE_ROUTES = {"auth": ("twofactor_views",), "admin": ("twofactor",), "deployments": ("outcome_views",),
               "reports": ("impact_views",)}


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure an app: defaults, then environment or test config, then the rest."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    os.makedirs(app.instance_path, exist_ok=True)
    # matplotlib writes a font cache; give it a writable home before anything imports it.
    os.environ.setdefault("MPLCONFIGDIR", os.path.join(app.instance_path, "mplconfig"))

    app.config.from_mapping(config.DEFAULTS)
    app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    app.config["CACHE_DIR"] = os.path.join(app.instance_path, "cache")
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)
    settings = app.config
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = config.engine_options(
        settings["SQLALCHEMY_DATABASE_URI"], settings["SQLALCHEMY_ENGINE_OPTIONS"], settings["PG_PARALLEL_WORKERS"])

    _init_extensions(app)
    # Before any route is added: every `<int:...>` then takes ASCII digits up to what the databases hold.
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    _register_security_hooks(app)
    _register_error_handlers(app)
    # Every find rate on a page is written by this one filter: `{{ rate|rate }}`.
    app.add_template_filter(rate_html, "rate")
    # …or placed apart where a layout needs it (a matrix cell): `{% set w = rate|rate_words %}`.
    app.add_template_filter(rate_words, "rate_words")
    # Templates show a link or a button to the roles that may use it, by the same names as the views.
    app.jinja_env.globals.update(RECORD_ROLES=roles.RECORD_ROLES, MANAGE_ROLES=roles.MANAGE_ROLES,
                                 AGGREGATE_ROLES=roles.AGGREGATE_ROLES)
    from .cli import register_cli
    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # …except the tablet's JSON API: 401 (JSON, by its error handler), never a redirect to a login page.
    login_manager.blueprint_login_views = {"api": None}
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    # A view may take a larger body than MAX_CONTENT_LENGTH (an import's file): its limit is set
    # before CSRF protection reads the form, which is when werkzeug enforces it.
    app.before_request(_view_request_limit)
    csrf.init_app(app)
    bootstrap.init_app(app)
    mail.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    # The database hooks (pragmas, write lock, rollups, audit, report versions), in their written order.
    db_events.register()


def _view_request_limit() -> None:
    """Apply the `max_content_length` a view function declares, instead of the app's default."""
    from flask import current_app
    limit = getattr(current_app.view_functions.get(request.endpoint), "max_content_length", None)
    if limit:
        request.max_content_length = limit


@login_manager.user_loader
def _load_user(token: str):
    """Load the user named by the session, refusing a cookie of an older session version."""
    from .models import User
    user_id, _, version = token.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    row = db.session.execute(_user_statement(), {"user_id": int(user_id)}).first()
    if row is None:
        return None
    user, unread = row
    if user.session_version != int(version) or not user.active or user.is_locked:
        return None
    g.unread_notifications = (user.id, unread)  # the bell's number (esd/certifications/views.py)
    return user


@lru_cache(maxsize=None)
def _user_statement():
    """The signed-in user, their agency, their handler record (None for most managers) and the bell's
    number in one statement: every page needs the first three, and many ask who the user handles for."""
    from sqlalchemy import bindparam, select
    from sqlalchemy.orm import joinedload

    from .models import Notification, User
    return (select(User, Notification.unread_count(User.id)).options(joinedload(User.agency), joinedload(User.handler))
            .where(User.id == bindparam("user_id")))


def _register_blueprints(app: Flask) -> None:
    import importlib
    for name in BLUEPRINTS:
        for module in MORE_ROUTES.get(name, ()):
            importlib.import_module(f".{name}.{module}", __name__)
        app.register_blueprint(importlib.import_module(f".{name}.views", __name__).bp)


def _register_security_hooks(app: Flask) -> None:
    @app.before_request
    def fresh_login_state():
        """Load the user afresh on every request, even when an app context outlives a request (tests)."""
        from flask import g
        g.pop("_login_user", None)
        g.pop("unread_notifications", None)
        g.pop("granted_agency_ids", None)  # esd/scoping.py's per-request memo
        g.pop("zone_groups", None)  # esd/agency_day.py's
        g.pop("term_names", None)  # esd/reports/metrics.py's

    @app.before_request
    def refuse_nul():
        """Refuse a NUL character in the path, query or form (no person types one, PostgreSQL cannot store
        it) and JSON too deep to read."""
        if request.is_json:
            try:
                request.get_json(silent=True)  # parsed once here; the view gets the cached result
            except RecursionError:  # Python's JSON reader recurses once per level; 100,000 overflow it
                abort(400, description="The JSON body is nested too deeply.")
        if has_nul(request):
            abort(400, description="The request contains a NUL character, which no field accepts.")

    @app.before_request
    def idle_timeout():
        """End a session idle for longer than IDLE_TIMEOUT (checked on the server, not only by cookie age)."""
        if not current_user.is_authenticated:
            return
        now = utcnow().timestamp()
        last_seen = session.get("last_seen")
        limit = app.config["IDLE_TIMEOUT"]
        if isinstance(limit, timedelta):
            limit = limit.total_seconds()
        if last_seen is not None and now - float(last_seen) > limit:
            logout_user()
            session.clear()
            if request.path.startswith("/api/"):
                abort(401)
            from flask import flash, redirect, url_for
            flash(f"Your session ended after {_duration(limit)} without activity. Please log in again.", "info")
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        # Noted again once a minute, not on every request: an unchanged session is not signed and
        # sent again (SESSION_REFRESH_EACH_REQUEST is off), and a session still ends no later than
        # IDLE_TIMEOUT after the last request (at most a minute earlier).
        if last_seen is None or now - float(last_seen) >= IDLE_NOTED_EVERY or not session.permanent:
            session["last_seen"] = now
            session.permanent = True

    security_headers.register(app)

    @app.after_request
    def no_store_for_users(response):
        # The user g already holds, not current_user: after a commit that would reload it (one more query).
        user = g.get("_login_user")
        if user is not None and not user.is_anonymous and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"  # records must not linger in shared caches
        return response


IDLE_NOTED_EVERY = 60  # seconds between two notes of a session's last activity


def _duration(seconds: float) -> str:
    """"30 minutes", "1 hour", "90 minutes": the idle timeout as the flash message says it."""
    minutes = round(seconds / 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def _register_error_handlers(app: Flask) -> None:
    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"

    def handler(code: int, message: str):
        def handle(error):
            # A view's own `abort(400, description="…")` says more than the generic message.
            if getattr(error, "description", None) and error.description != type(error).description:
                message_ = error.description
            else:
                message_ = message
            if wants_json():
                return jsonify(error=message_), code
            return render_template("error.html", code=code, message=message_), code
        return handle

    app.register_error_handler(400, handler(400, "The request could not be understood."))
    app.register_error_handler(401, handler(401, "Please log in."))
    app.register_error_handler(403, handler(403, "You may not do this."))
    app.register_error_handler(404, handler(404, "Not found."))
    app.register_error_handler(405, handler(405, "This action is not allowed here."))
    app.register_error_handler(413, handler(413, "The upload is too large (at most 10 MB)."))
    # The tablet reads every answer under /api/ as JSON, a failure included.
    app.register_error_handler(500, handler(500, "Something went wrong on our side; it has been logged."))
    app.register_error_handler(429, handler(429, "Too many requests from your address. Wait a minute and try again."))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "The form expired or was sent from elsewhere. Reload the page and try again."
        if wants_json():
            return jsonify(error=message), 400
        return render_template("error.html", code=400, message=message), 400
