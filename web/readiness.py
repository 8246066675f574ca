"""Live and ready, for the load balancer and the orchestrator.

/healthz says only that the process answers: it asks the database nothing, so a
database outage never gets the app servers restarted (restarting would not help).
/readyz says whether this server can serve: the database, and Redis where it is
configured (sessions, the rate limits), each answering within a second on a
connection of its own; otherwise 503 and what failed, by name only (no address,
no secret). Neither opens a session or a database connection of the app's."""
from flask import current_app, request

from models import check_database

PROBES = frozenset({"home.healthz", "home.readyz"})
TIMEOUT_SECONDS = 1


def is_probe():
    """This request is /healthz or /readyz: no app database connection, no session refused."""
    return request.endpoint in PROBES


def redis_answers(url, timeout=TIMEOUT_SECONDS):
    """PING on a connection of its own; raises when Redis does not answer within `timeout`."""
    import redis
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def checks(config):
    """(name, check) for each service this server needs."""
    found = [("database", lambda: check_database(TIMEOUT_SECONDS))]
    if config.get("SESSION_REDIS_URL"):
        found.append(("session store", lambda: redis_answers(config["SESSION_REDIS_URL"])))
    limits = config.get("RATELIMIT_STORAGE_URI") or ""
    if limits.startswith(("redis://", "rediss://")):
        found.append(("rate-limit store", lambda: redis_answers(limits)))
    return found


def failing():
    """The names of the services that did not answer (each failure logged, with its reason)."""
    names = []
    for name, check in checks(current_app.config):
        try:
            check()
        except Exception as error:  # noqa: BLE001 - whatever went wrong, this server is not ready
            current_app.logger.warning("not ready: %s did not answer (%s)", name, type(error).__name__)
            names.append(name)
    return names
