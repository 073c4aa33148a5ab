"""Configuration read from environment variables, with safe defaults."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL: `postgres://` (as some hosts give) is not accepted by SQLAlchemy 2."""
    if not raw:
        return "sqlite:///esd.sqlite3"  # relative: resolved inside instance/
    if raw.startswith("postgres://"):
        return "postgresql://" + raw[len("postgres://"):]
    return raw


def engine_options(uri: str, options: dict, parallel_workers: int) -> dict:
    """The engine's options for this database: on PostgreSQL, each connection limits its parallel
    query workers to `parallel_workers` (default 0, none).

    The app's statements are small (rollups, a dog's rows, index look-ups), and several run at once
    from the gunicorn workers, which the parallel workers would take cores from. Started for one of
    them, they cost more than they save: a funder's cold dashboard at 1M hides read its case outcomes
    in 20-22 ms with two parallel workers and in 10 without; the whole dashboard cold, in three
    alternating runs of `benchmarks/run.py`, 150-178 ms with and 137-147 without.
    """
    if not uri.startswith("postgresql"):
        return options
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = f"-c max_parallel_workers_per_gather={parallel_workers}"
    return {**options, "connect_args": connect_args}


def instance_secret_key(instance_path: str) -> str:
    """Return the secret key kept in instance/, generating it on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def development_mail_backend(environ) -> str | None:
    """"console" when no mail server is configured: `make run` prints e-mails instead of failing to
    reach localhost:25. None when MAIL_SERVER or MAIL_BACKEND is set (the operator decided)."""
    if environ.get("MAIL_SERVER") or environ.get("MAIL_BACKEND"):
        return None
    return "console"


def from_environment() -> dict:
    """Settings an operator may set; everything else has a default in the factory."""
    https = env_bool("ESD_HTTPS")
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "ESD_HTTPS": https,  # also sends Strict-Transport-Security (esd/security_headers.py)
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": env_bool("MAIL_USE_SSL"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_FROM", "esd-k9@localhost"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp"),
        "REMINDER_TIME": os.environ.get("REMINDER_TIME", "06:00"),
        # Reminder e-mails link back to the app; a job has no request to take the address from.
        "BASE_URL": os.environ.get("ESD_BASE_URL", "http://127.0.0.1:5000"),
        # Charts and dashboard numbers, shared by all workers: files in instance/cache by default,
        # RedisCache with CACHE_REDIS_URL when the app runs on several hosts.
        "CACHE_TYPE": os.environ.get("CACHE_TYPE", "FileSystemCache"),
    }
    for name in ("CACHE_DIR", "CACHE_REDIS_URL", "UPLOAD_FOLDER", "RATELIMIT_STORAGE_URI", "VERIFY_RATE_LIMIT",
                 "PDF_SIGNING_KEY", "PDF_SIGNING_CERT", "PDF_SIGNING_KEY_PASSPHRASE", "PDF_SIGNING_CHAIN",
                 "PDF_SIGNER_NAME"):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    for name in ("CACHE_DEFAULT_TIMEOUT", "CACHE_THRESHOLD", "PG_PARALLEL_WORKERS"):
        if os.environ.get(name):
            settings[name] = int(os.environ[name])
    if os.environ.get("ESD_IDLE_TIMEOUT_MINUTES"):
        # A session idle this long ends; the cookie lives no longer than that either.
        minutes = int(os.environ["ESD_IDLE_TIMEOUT_MINUTES"])
        if not 1 <= minutes <= 24 * 60:
            raise ValueError("ESD_IDLE_TIMEOUT_MINUTES must be from 1 to 1440")
        settings["IDLE_TIMEOUT"] = settings["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=minutes)
    if os.environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = os.environ["SECRET_KEY"]
    return settings


DEFAULTS = {
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:600000",  # OWASP minimum; werkzeug's scrypt default is below it
    "PERMANENT_SESSION_LIFETIME": timedelta(minutes=30),  # idle timeout
    "IDLE_TIMEOUT": timedelta(minutes=30),
    # The cookie is sent again when the session changes, at least once a minute of activity (esd/__init__.py).
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": timedelta(hours=8),  # we never set it, but never a 365-day default either
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,  # 10 MB certificate plus form overhead
    "BOOTSTRAP_SERVE_LOCAL": True,  # the app must work with no internet
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "PG_PARALLEL_WORKERS": 0,  # PostgreSQL's parallel query workers per statement (config.engine_options)
    "LOGIN_LOCKOUT_THRESHOLD": 5,
    "LOGIN_IP_LIMIT": 20,  # failed logins per address per window before the address is slowed down
    "LOGIN_IP_WINDOW": timedelta(minutes=15),
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
    "SCHEDULER_ENABLED": False,
    # Keys carry a data version, so entries never go stale; the timeout and threshold only bound the space.
    "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
    # Files kept by FileSystemCache (a PNG is 20-60 kB). Past it, cachelib drops the expired entries
    # and, if still over, every entry, reading each file first: one request then pays for it (about
    # 0.5 s at a few thousand files) and the cache starts empty. High, so that happens rarely; an
    # installation with heavy report traffic should use Redis with an LRU eviction policy instead.
    "CACHE_THRESHOLD": 20000,
    "CACHE_KEY_PREFIX": "esd:",  # RedisCache.clear() then deletes only our keys, not the whole database
    # /verify answers anyone, so it is rate-limited per address; "memory://" counts per process,
    # a redis:// URL (RATELIMIT_STORAGE_URI in the environment) counts across workers and hosts.
    "RATELIMIT_STORAGE_URI": "memory://",
    "VERIFY_RATE_LIMIT": "30 per minute",
}
