"""Logs as JSON lines on stdout: one formatter and one handler for the web server,
the notices worker and the watcher (all three log through the app's logger, which
create_app hands to `use_json`), so a log collector reads one shape everywhere.

Every request gets one line, written by a WSGI layer outside everything else
(ProxyFix, the unchanged polls of web/fastpoll.py, Flask), so a poll answered
before Flask is counted like any page. The line names the URL rule, never the real
path (it carries request numbers), and the account by its id: a name, an identity
number, a mobile or a code never goes into a log.

Each request has an id: the proxy's X-Request-ID when it is a sane token, else a
new one. It is echoed in the response's X-Request-ID, written on every line logged
while the request runs, and shown on the 500 and 503 pages, so a resident can quote it."""
import json
import logging
import re
import secrets
import sys
import time

from flask import has_request_context, request
from flask.globals import request_ctx
from flask.logging import default_handler

from models.clock import utcnow
from web.sessions import user_id

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What the layers inside tell the request line, in the WSGI environ they share.
ID_KEY, ROUTE_KEY, ACCOUNT_KEY = "tawasul.request_id", "tawasul.route", "tawasul.account"


class JsonFormatter(logging.Formatter):
    """time (UTC, from models.clock), level, logger, message, the request id when there
    is one, the record's `fields` (extra={"fields": {...}}), and a traceback if any."""

    def format(self, record):
        line = {"time": utcnow().isoformat(timespec="milliseconds") + "Z", "level": record.levelname.lower(),
                "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            line["request_id"] = request_id
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the moment (pytest and click swap it)."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


HANDLER = StdoutHandler()


def use_json(logger):
    """`logger` writes JSON lines to stdout, from INFO up (Flask's own stderr handler off)."""
    logger.removeHandler(default_handler)
    if HANDLER not in logger.handlers:
        logger.addHandler(HANDLER)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


def sane_id(value):
    return value if value and SANE_ID.fullmatch(value) else None


def current_request_id():
    return request.environ.get(ID_KEY) if has_request_context() else None


def note(environ, route, account):
    """What the request line says of the request's route (a URL rule) and account (an id)."""
    environ[ROUTE_KEY] = route
    environ[ACCOUNT_KEY] = account


class RequestLog:
    """The outermost WSGI layer: gives each request its id and writes its line."""

    def __init__(self, wsgi_app, logger):
        self.wsgi_app = wsgi_app
        self.logger = logger

    def __call__(self, environ, start_response):
        request_id = sane_id(environ.get("HTTP_X_REQUEST_ID")) or secrets.token_hex(8)
        environ[ID_KEY] = request_id
        answered = []

        def start(status, headers, exc_info=None):
            answered[:] = [int(status.split(" ", 1)[0])]
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        started = time.perf_counter()  # a duration, not a moment: the monotonic counter
        try:
            return self.wsgi_app(environ, start)
        except BaseException:
            answered[:] = [500]  # escaped Flask (only when it propagates errors: tests)
            raise
        finally:
            self.write(environ, answered[0] if answered else None, time.perf_counter() - started)

    def write(self, environ, status, seconds):
        # REMOTE_ADDR is read after the call: ProxyFix, inside, sets the client's own there.
        fields = dict(method=environ.get("REQUEST_METHOD"), route=environ.get(ROUTE_KEY), status=status,
                      duration_ms=round(seconds * 1000, 1), account=environ.get(ACCOUNT_KEY),
                      client=environ.get("REMOTE_ADDR"))
        self.logger.info("request", extra={"request_id": environ[ID_KEY], "fields": fields})


def note_flask_request(_error=None):
    """At teardown: the URL rule Flask matched (none for a 404) and the signed-in account."""
    rule, current = request.url_rule, request_ctx.session  # None if the session could not be opened
    note(request.environ, rule.rule if rule else None, user_id(current) if current is not None else None)


def unhandled_error_logger(logger):
    """Flask's log_exception, without the real path Flask would write."""
    def log_exception(exc_info):
        rule = request.url_rule if has_request_context() else None
        logger.error("unhandled error", exc_info=exc_info,
                     extra={"fields": {"route": rule.rule if rule else None}})
    return log_exception


def init_app(app):
    """After ProxyFix wraps the app: the request line is the outermost layer."""
    use_json(app.logger)
    app.teardown_request(note_flask_request)
    app.log_exception = unhandled_error_logger(app.logger)
    app.wsgi_app = RequestLog(app.wsgi_app, app.logger.getChild("requests"))
