"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py app:app`.

The benchmark (benchmarks/run.py) starts the app with this file too, so what it measures is
what runs in production. Every setting can be overridden on the command line or through the
environment (WEB_CONCURRENCY, GUNICORN_THREADS, PORT/BIND).
"""
import ctypes
import ctypes.util
import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Processes for CPU-bound work (chart drawing holds the GIL), threads for requests waiting on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A worker is replaced after this many requests, so memory fragmentation cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
timeout = 60
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # e.g. "-" for stdout; off by default

_M_ARENA_MAX = -8


def post_fork(server, worker):
    """Cap glibc's malloc arenas: each request thread otherwise gets its own, and a threaded
    worker's resident memory grows by tens of MB for memory it no longer uses."""
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        pass
