"""gunicorn settings for production: `gunicorn wsgi:app` reads this file from the working directory.

Every value can be changed with an environment variable (GUNICORN_WORKERS, PORT, ...)."""

import multiprocessing
import os

# Only the machine itself: the reverse proxy on it is the way in. Listening everywhere would let a
# client skip the proxy (its buffering, TLS and the X-Forwarded-For the app believes from it).
bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Sync workers: the work is short and CPU-bound; two per core, plus one, keeps the cores busy
# while a worker waits on the database.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a slow leak cannot grow forever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
# The client address comes from ProxyFix (TRUSTED_PROXIES), not from gunicorn's own guess.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    """Tell the app how many processes serve it (after any --workers on the command line): with more
    than one, production refuses per-process rate-limit counters (RATELIMIT_STORAGE_URI)."""
    os.environ["PETITION_PROCESSES"] = str(server.cfg.workers)
