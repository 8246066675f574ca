"""Prometheus metrics at /metrics, for the operator's scraper only.

What is counted where it happens (the requests and their durations here, in a WSGI
layer, so the unchanged polls web/fastpoll.py answers before Flask count too; a
kept page's hit or miss, a sign-in refused, a 503 in their own modules through the
small functions below), and what is read from the database when scraped (the SMS
outbox, the undecided requests at risk and overdue), so a gauge is never stale and
no worker has to keep one.

Under gunicorn every worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR
set (deploy/gunicorn.conf.py) each writes its counts to files there and a scrape,
whichever worker answers it, sums them all (prometheus_client's multiprocess mode).
Without it (tests, `flask run`) the counts live in this process.

/metrics is answered here too, before Flask: it needs no session, no sign-in and no
language, and it still answers while the database is down, when its counts of 503s
matter most (tawasul_database_up says the records could not be read). A client that
may not read it (neither an allowed address, METRICS_ALLOW, nor the bearer token,
METRICS_TOKEN) goes on to Flask, which has no such page: the normal 404.

Labels never name a person or a request: the Flask endpoint ("none" for an address
no route matches), never the path."""
import functools
import hmac
import ipaddress
import os
import time

from flask import request
from peewee import DatabaseError, InterfaceError, OperationalError, fn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from models import OPEN_STATUSES, Notice, ServiceRequest, db, riyadh_today, utcnow
from web.views import NO_STORE

# prometheus_client chooses between per-process files and memory when it is first
# imported, from this variable; the scrape follows the same choice.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
PATH = "/metrics"
ENDPOINT = "metrics"  # this page's name in its own counts
ENDPOINT_KEY = "tawasul.endpoint"  # the environ key that names the endpoint which answered
NO_ENDPOINT = "none"  # an address no route matches
UNTIMED = {"home.healthz", "home.readyz", ENDPOINT}  # probes and scrapes: counted, not timed
DEFAULT_ALLOW = "127.0.0.0/8,::1"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

SIGN_IN_REFUSALS = ("password", "code", "sms_code", "sms_limit", "paused", "rate_limited")
SIGN_IN_STEPS = ("password", "code")
SERVICES = ("database", "redis")

disable_created_metrics()  # no *_created series: the multiprocess mode has none either
PROCESS = CollectorRegistry()  # this process's counts (without the multiprocess directory)
REQUESTS = Counter("tawasul_http_requests", "HTTP requests answered, by Flask endpoint and status code.",
                   ["endpoint", "status"], registry=PROCESS)
DURATION = Histogram("tawasul_http_request_duration_seconds",
                     "Time to answer an HTTP request, by Flask endpoint (health probes and scrapes left out).",
                     ["endpoint"], buckets=BUCKETS, registry=PROCESS)
REFUSALS = Counter("tawasul_signin_refusals",
                   "Sign-in and code steps refused, by reason: password (wrong or unknown), code (wrong "
                   "second factor), sms_code (wrong SMS code), sms_limit (no SMS code sent: a limit), "
                   "paused (tries refused while paused), rate_limited (the rate limiter's 429).",
                   ["reason"], registry=PROCESS)
PAUSES = Counter("tawasul_signin_pauses", "Pauses started after too many wrong tries, by step (password, code).",
                 ["step"], registry=PROCESS)
UNAVAILABLE = Counter("tawasul_unavailable", "Requests answered 503 because a service did not answer, by service.",
                      ["service"], registry=PROCESS)
KEPT_PAGES = Counter("tawasul_kept_pages", "Pages looked for among the kept rendered pages (web/rendered.py), "
                     "by result (hit, miss).", ["result"], registry=PROCESS)
for _reason in SIGN_IN_REFUSALS:  # every series from the start: a rate over a missing series is no rate
    REFUSALS.labels(_reason)
for _step in SIGN_IN_STEPS:
    PAUSES.labels(_step)
for _service in SERVICES:
    UNAVAILABLE.labels(_service)
for _result in ("hit", "miss"):
    KEPT_PAGES.labels(_result)


# ------------------------------------------------------------------ what the modules count

def count_sign_in_refused(reason):
    REFUSALS.labels(reason).inc()


def count_pause(step):
    PAUSES.labels(step).inc()


def count_unavailable(service):
    UNAVAILABLE.labels(service).inc()


def count_kept_page(hit):
    KEPT_PAGES.labels("hit" if hit else "miss").inc()


def name_endpoint(environ, endpoint):
    """Which endpoint answered this request, for its count (web/fastpoll.py names its polls)."""
    environ[ENDPOINT_KEY] = endpoint


def name_flask_endpoint(exc):
    name_endpoint(request.environ, request.endpoint or NO_ENDPOINT)


# ------------------------------------------------------------------ read at scrape time

class RecordsCollector:
    """Gauges from the database, read when scraped: the SMS outbox and the undecided
    requests (at risk and overdue by the same SQL conditions as the staff's lists)."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        try:
            with self.app.app_context(), db.connection_context():
                families = list(outbox_families()) + list(undecided_families())
        except (DatabaseError, InterfaceError, OperationalError):
            families = []
        yield GaugeMetricFamily("tawasul_database_up", "1 when the scrape could read the database, else 0.",
                                value=1 if families else 0)
        yield from families


def outbox_families():
    waiting, failed, oldest = Notice.backlog()
    age = (utcnow() - oldest).total_seconds() if oldest else 0
    yield GaugeMetricFamily("tawasul_sms_outbox_waiting", "SMS notices waiting to be sent.", value=waiting)
    yield GaugeMetricFamily("tawasul_sms_outbox_failed", "SMS notices given up on (failed).", value=failed)
    yield GaugeMetricFamily("tawasul_sms_outbox_oldest_waiting_seconds",
                            "Age of the oldest SMS notice waiting to be sent (0 when none waits).", value=max(age, 0))


def undecided_families():
    SR = ServiceRequest  # noqa: N806 (a short alias keeps the SQL readable)
    today = riyadh_today()
    counted = dict(SR.select(SR.status, fn.COUNT(SR.id)).where(SR.decided_at.is_null())
                   .group_by(SR.status).tuples())
    by_status = GaugeMetricFamily("tawasul_undecided_requests", "Undecided requests, by status.", labels=["status"])
    for status in OPEN_STATUSES:
        by_status.add_metric([status], counted.get(status, 0))
    yield by_status
    yield GaugeMetricFamily("tawasul_undecided_requests_at_risk",
                            "Undecided requests at risk of missing their deadline (AT_RISK_WORKING_DAYS).",
                            value=SR.select().where(SR.at_risk_on(today)).count())
    yield GaugeMetricFamily("tawasul_undecided_requests_overdue", "Undecided requests past their deadline.",
                            value=SR.select().where(SR.overdue_on(today)).count())


def exposition(app):
    """The text a scrape reads: every process's counts (or this one's), and the records' gauges."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIR:
        MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    else:
        registry.register(PROCESS)
    registry.register(RecordsCollector(app))
    return generate_latest(registry)


# ------------------------------------------------------------------ who may read it

def allowed_networks(value):
    """METRICS_ALLOW: addresses and CIDRs, comma-separated (or a list)."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    try:
        return [ipaddress.ip_network(item.strip(), strict=False) for item in items if str(item).strip()]
    except ValueError as error:
        raise ValueError(f"METRICS_ALLOW: {error}") from None


class Metrics:
    """The WSGI layer that counts and times every answer, and answers /metrics."""

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.allowed = allowed_networks(app.config["METRICS_ALLOW"])
        token = app.config.get("METRICS_TOKEN")
        self.expected = f"Bearer {token}".encode() if token not in (None, "") else None

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        statuses = []

        def recording(status, headers, exc_info=None):
            statuses.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)
        try:
            if environ.get("PATH_INFO") == PATH and environ["REQUEST_METHOD"] in ("GET", "HEAD") \
                    and self.may_read(environ):
                return self.answer(environ, recording)
            return self.wsgi_app(environ, recording)
        finally:
            count(environ.get(ENDPOINT_KEY, NO_ENDPOINT), statuses[-1] if statuses else "500",
                  time.perf_counter() - started)

    def may_read(self, environ):
        given = environ.get("HTTP_AUTHORIZATION", "").encode()
        if self.expected is not None and hmac.compare_digest(given, self.expected):
            return True
        try:
            address = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
        except ValueError:
            return False
        address = getattr(address, "ipv4_mapped", None) or address
        return any(address in network for network in self.allowed)

    def answer(self, environ, start_response):
        name_endpoint(environ, ENDPOINT)
        body = exposition(self.app)
        headers = [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body))),
                   ("Cache-Control", NO_STORE), ("X-Content-Type-Options", "nosniff")]
        start_response("200 OK", headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def count(endpoint, status, seconds):
    request_series(endpoint, status).inc()
    if endpoint not in UNTIMED:
        duration_series(endpoint).observe(seconds)


# A series found once per process (endpoints and statuses are few): labels() costs more than inc().
@functools.cache
def request_series(endpoint, status):
    return REQUESTS.labels(endpoint, status)


@functools.cache
def duration_series(endpoint):
    return DURATION.labels(endpoint)


def init_app(app):
    """Call it after fastpoll.init_app and before ProxyFix wraps the app: the layer sees
    the client's real address, and fastpoll's answers."""
    app.config.setdefault("METRICS_ALLOW", DEFAULT_ALLOW)
    app.config.setdefault("METRICS_TOKEN", None)
    app.teardown_request(name_flask_endpoint)
    app.wsgi_app = Metrics(app)
