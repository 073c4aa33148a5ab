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
# Two workers per core, two threads each: a request holding a lock in the database (an upload, the audit chain's)
# waits for its worker's interpreter lock after each round trip, so fewer threads per process let
# it finish sooner. Measured with benchmarks/bench_uploads.py (PostgreSQL, 1M hides, 20 tablets,
# alternating): 2 workers x 4 threads 78-132 uploads/s, 4 x 2 90-145/s, 8 x 1 107-142/s (but a
# cold start per worker); see README, Performance.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
# A worker is replaced after this many requests, so memory fragmentation cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
timeout = 60
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # e.g. "-" for stdout; off by default

_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
# glibc's starting threshold, fixed: allocations this large or larger get pages of their own.
MMAP_THRESHOLD = 128 * 1024


def post_fork(server, worker):
    """Tune glibc's malloc so that a worker gives back the memory a request no longer uses.

    Arenas capped at 2: each request thread otherwise gets its own, and a threaded worker's
    resident memory grows by tens of MB for memory it no longer uses. The mmap threshold fixed:
    by default glibc raises it to the size of each large block freed (up to 32 MB), so after the
    first chart the next drawings' pixel buffers (1-4 MB each, in matplotlib, Pillow and numpy)
    are carved from the heap, whose freed holes it cannot return; drawing the charts took a
    worker from 170 to 250 MB of which 80 MB was free heap. Fixed, a buffer is mapped for its
    request and unmapped when freed.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(_M_ARENA_MAX, 2)
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        pass
