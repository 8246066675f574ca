"""The unchanged poll, answered before Flask. An open status panel asks every few
seconds whether its request changed; nearly always it has not. This WSGI layer
answers that case with an empty 204 after ONE indexed query that checks the session,
the account and the request's version together (on PostgreSQL planned once per
connection), without routing, sessions, login or templates. Everything else (no or
unknown session, a changed panel, another language, an expired session, sessions
kept in Redis) goes on to Flask, which answers it in full; so the rules stay in one
place each: the session's expiry (web/sessions.is_expired), the page's language
(web/language.choose) and the panel's version (blueprints/requests/routes.panel_version,
"<version>-<language>")."""
import re
from http.cookies import SimpleCookie

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from models import WebSession, db, utcnow
from models.base import execute_planned
from web import language, logs
from web.metrics import name_endpoint
from web.sessions import TOKEN, DatabaseStore, cookie_name, is_expired, serializer, token_hash, user_id
from web.views import NO_STORE

POLL = re.compile(r"/requests/([0-9]{9})/status")
ENDPOINT = "requests.status_panel"  # the Flask view of the same URL: one name in the counts and the log
# What Flask's 204 would carry (app.security_headers): a cache that kept it would freeze the panel.
HEADERS = [("X-Content-Type-Options", "nosniff"), ("Vary", "Accept-Encoding, Cookie"), ("Cache-Control", NO_STORE)]
QUERY = ('SELECT r.version, s.data, s.created_at, s.seen_at, u.locale '
         'FROM websession s JOIN "user" u ON u.id = s.user_id JOIN servicerequest r ON r.owner_id = u.id '
         'WHERE s.token_hash = {p} AND r.number = {p} AND NOT u.disabled')


class UnchangedPolls:
    def __init__(self, app):
        self.flask = app
        self.wsgi_app = app.wsgi_app
        self.config = app.config
        self._route = None

    def __call__(self, environ, start_response):
        session = self.unchanged(environ)
        if session is not None:
            name_endpoint(environ, ENDPOINT)
            logs.note(environ, self.route(), user_id(session))  # its line in the log, as Flask's would be
            start_response("204 No Content", HEADERS + self.hsts(environ))
            return [b""]
        return self.wsgi_app(environ, start_response)

    def unchanged(self, environ):
        """The poll's session data when its panel is unchanged, else None."""
        shown = environ.get("HTTP_X_SHOWN_VERSION")
        found = environ["REQUEST_METHOD"] == "GET" and shown and POLL.fullmatch(environ.get("PATH_INFO", ""))
        if not found or not isinstance(self.flask.session_interface.store, DatabaseStore):
            return None
        secure = self.config["SESSION_COOKIE_SECURE"] or environ.get("wsgi.url_scheme") == "https"
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(cookie_name(self.config, secure))
        if morsel is None or not TOKEN.fullmatch(morsel.value):
            return None
        row = self.current(token_hash(morsel.value), found.group(1))
        if row is None:
            return None
        version, data, created_at, seen_at, account_language = row
        session = serializer.loads(data)
        if is_expired(created_at, seen_at, bool(session.get("_staff")), utcnow()):
            return None
        accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        unchanged = shown == f"{version}-{language.choose(session.get('lang'), account_language, accept)}"
        return session if unchanged else None

    def route(self):
        """The URL rule Flask would have matched, as the log names it (web/logs.py)."""
        if self._route is None:
            self._route = next(self.flask.url_map.iter_rules(ENDPOINT)).rule
        return self._route

    @staticmethod
    def current(key, number):
        """(version, session data, created, seen, account language), or None."""
        try:
            with db.connection_context():
                cursor = execute_planned(QUERY.format(p=db.param), (key, number))
                row = cursor.fetchone()
        except Exception:  # noqa: BLE001 - any trouble: Flask answers, and says it properly
            return None
        if row is None:
            return None
        version, data, created_at, seen_at, locale = row
        return version, data, as_datetime(created_at), as_datetime(seen_at), locale

    def hsts(self, environ):
        secure = environ.get("wsgi.url_scheme") == "https"
        return [("Strict-Transport-Security", "max-age=31536000")] if secure else []


def as_datetime(value):
    """SQLite hands back text; PostgreSQL a datetime."""
    return WebSession.created_at.python_value(value)


def init_app(app):
    app.wsgi_app = UnchangedPolls(app)
