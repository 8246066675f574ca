"""Tawasul: the application factory. It reads the configuration, opens the database,
binds the extensions (web/extensions.py), registers the blueprints with their URL
prefixes, the error pages, the static files and the commands (cli/)."""
import os

from flask import Flask, abort, has_request_context, request, session
from flask_babel import format_date, format_percent, get_locale
from flask_login import current_user
from playhouse.db_url import connect
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
from models import ID_TYPE_LABELS, STATUS_LABELS, User, db, mask_mobile
from web import (  # noqa: F401  (ratelimit: the database:// scheme)
    errors,
    fastpoll,
    first_screen,
    language,
    logs,
    metrics,
    ratelimit,
    readiness,
    rendered,
    sessions,
    static_files,
)
from web.extensions import babel, compress, csrf, limiter, login_manager
from web.formatting import (
    day_text,
    deadline,
    format_day,
    format_days,
    format_filesize,
    format_hours,
    format_moment,
    moment_text,
    nationality_name,
)
from web.views import NO_STORE, site_url_for

# Values seen in tutorials and in this project's own history: a key anyone can read.
KNOWN_KEYS = {"dev-only-change-me", "dev", "development", "secret", "secret-key", "change-me", "changeme", "test"}
SECRET_KEY_FILE = "secret_key"  # in instance/, written once by `make run`


class ConfigurationError(RuntimeError):
    """The server must not start this way; the message says what to do."""


def select_locale():
    if not has_request_context():
        return "en"  # command-line output
    account = current_user.locale if current_user and current_user.is_authenticated else None
    return language.choose(session.get("lang"), account, request.accept_languages)


@login_manager.user_loader
def load_user(user_id):
    user = session.account if session.account and session.account.id == int(user_id) else None
    user = user or User.get_or_none(User.id == int(user_id))
    return user if user and user.is_active else None


def create_app(test_config=None, instance_path=None):
    app = Flask(__name__, instance_relative_config=True, static_folder=None, instance_path=instance_path)
    app.config.from_mapping(
        SECRET_KEY=None,  # FLASK_SECRET_KEY, or instance/secret_key (see require_secret_key)
        DATABASE_URL="sqlite:///" + os.path.join(app.instance_path, "tawasul.sqlite"),
        MAX_CONTENT_LENGTH=27 * 1024 * 1024,  # five 5 MB files and the form around them
        MAX_DOCUMENTS=5,
        MAX_DOCUMENT_BYTES=5 * 1024 * 1024,
        STATUS_POLL_SECONDS=10,  # a panel asks this often after a change, then backs off ...
        STATUS_POLL_MAX_SECONDS=60,  # ... to this (static/js/app.js)
        QUEUE_POLL_SECONDS=30,
        RENDERED_CACHE_SIZE=2000,  # request pages kept per worker (web/rendered.py); 0: none
        SERVER_TIMING=False,  # FLASK_SERVER_TIMING=1 (make bench): kept or rendered, in a Server-Timing header
        NOJS_REFRESH_SECONDS=60,
        OBJECTION_DAYS=30,  # a rejection may be objected to this many calendar days after it
        BABEL_DEFAULT_LOCALE="ar",
        BABEL_DEFAULT_TIMEZONE="Asia/Riyadh",
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(app.root_path, "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # a slow typist must not lose a long description
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PROXY_COUNT=0,
        RATELIMIT_STORAGE_URI="database://",  # shared by every worker; redis://... where deployed
        RATELIMIT_LOGIN="10 per minute",
        RATELIMIT_CODES="10 per 10 minutes",  # sign-up and reset: numbers asked, codes checked
        SESSION_REDIS_URL=None,  # sessions in Redis instead of the database
        RATELIMIT_HEADERS_ENABLED=False,
        AT_RISK_WORKING_DAYS=2,  # a request with this many working days left or fewer is at risk
        WATCH_SECONDS=60,  # the watcher (`flask staff watch`) looks for requests at risk this often
        PUBLIC_URL="http://127.0.0.1:8000",  # the portal's address as residents reach it: links in SMS
        SMS_GATEWAY="log",  # "log" writes each SMS to the log; "http" posts it to SMS_GATEWAY_URL
        SMS_GATEWAY_URL=None,
        SMS_GATEWAY_TOKEN=None,  # sent as "Authorization: Bearer <token>"
        SMS_GATEWAY_TIMEOUT=5,  # seconds
        DEMO=False,  # FLASK_DEMO=1 (make run): the outbox page /dev/outbox shows every SMS
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/csv", "application/javascript",
                            "image/svg+xml"],
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("FLASK")
        if os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    require_secret_key(app)

    fastpoll.init_app(app)  # unchanged polls answered before Flask (inside ProxyFix: it sees the real scheme)
    metrics.init_app(app)  # counts every answer, fastpoll's too; /metrics (inside ProxyFix: the real address)
    if app.config["PROXY_COUNT"]:  # behind a TLS proxy: real client address and scheme
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"],
                                x_proto=app.config["PROXY_COUNT"])
    logs.init_app(app)  # outermost: every request's JSON line and X-Request-ID (web/logs.py)
    if db.obj is not None and hasattr(db.obj, "close_all"):
        db.obj.close_all()  # a previous app of this process (tests) gives its connections back
    db.initialize(open_database(app.config["DATABASE_URL"], pooled=True))
    app.before_request(refuse_nul)
    app.before_request(connect_db)
    app.teardown_request(close_db)

    sessions.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    compress.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.unauthorized_handler(errors.unauthorized)

    register_blueprints(app)
    static_files.init_app(app)
    first_screen.init_app(app)
    rendered.init_app(app)
    errors.init_app(app)

    app.after_request(security_headers)
    app.context_processor(template_globals)
    app.jinja_env.globals["url_for"] = site_url_for
    app.jinja_env.filters.update(day=format_day, moment=format_moment, day_text=day_text, moment_text=moment_text,
                                  filesize=format_filesize, nationality=nationality_name,
                                  deadline=deadline, days=format_days,
                                  duration=format_hours, percent=format_percent,
                                  format_date=format_date)
    cli.init_app(app)
    return app


def require_secret_key(app):
    """The key that signs CSRF tokens and keys the code hashes: FLASK_SECRET_KEY, or
    the file `make run` writes once in instance/. Without one, or with a known
    development value, the server refuses to start."""
    path = os.path.join(app.instance_path, SECRET_KEY_FILE)
    if not app.config.get("SECRET_KEY") and os.path.exists(path):
        with open(path, encoding="utf-8") as file:
            app.config["SECRET_KEY"] = file.read().strip()
    key = app.config.get("SECRET_KEY") or ""
    if key in KNOWN_KEYS or len(key) < 32:
        raise ConfigurationError(
            "Tawasul needs a secret key of at least 32 random characters that nobody else knows: "
            f"set FLASK_SECRET_KEY, or write one to {path} (`make run` does it once). "
            "Refusing to start with " + ("a known development value." if key else "none."))


def register_blueprints(app):
    from blueprints.auth import bp as auth_bp
    from blueprints.home import bp as home_bp
    from blueprints.requests import bp as requests_bp
    from blueprints.staff import bp as staff_bp
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(requests_bp, url_prefix="/requests")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    if app.config["DEMO"]:
        from blueprints.dev import bp as dev_bp
        app.register_blueprint(dev_bp, url_prefix="/dev")


def open_database(url, pooled=False):
    """The database at `url`. Pooled (the app's own): connections stay open and are
    reused by the next request, so a request does not pay for a new connection and
    SQLite's pragmas each time (playhouse.pool)."""
    options = {}
    if pooled:
        scheme, rest = url.split("://", 1)
        url = f"{scheme.removesuffix('+pool')}+pool://{rest}"
        options = dict(max_connections=64, stale_timeout=300)
    if url.startswith("sqlite"):
        options["pragmas"] = {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 10000, "synchronous": "normal"}
        if pooled:  # a connection is used by one thread at a time, but not always the one that opened it
            options["check_same_thread"] = False
    return connect(url, **options)


def refuse_nul():
    """A NUL character is never typed by a person, and PostgreSQL refuses it in text."""
    values = [v for _key, vs in request.args.lists() for v in vs]
    values += [v for _key, vs in request.form.lists() for v in vs]
    values += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if any("\x00" in value for value in values):
        abort(400)


def connect_db():
    if not readiness.is_probe():  # /healthz asks the database nothing; /readyz asks on its own terms
        db.connect(reuse_if_open=True)


def close_db(exc):
    if not db.is_closed():
        db.close()


def template_globals():
    locale = get_locale()
    return dict(locale=locale, lang=locale.language, status_labels=language.Translated(STATUS_LABELS),
                id_type_labels=language.Translated(ID_TYPE_LABELS), languages=language.LANGUAGES,
                mask_mobile=mask_mobile, return_address=language.return_address,
                **language.template_translators())


# The one inline <style> (web/first_screen.py) is allowed by its hash.
CSP = (f"default-src 'self'; script-src 'self'; style-src 'self' '{first_screen.HASH}'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def security_headers(response):
    """Safe headers on every response; the page-only ones just on HTML, so a poll's
    204 and a cached static file stay a few hundred bytes.

    Caching has one rule, here: no browser or proxy keeps a response, whatever its
    type (a page, a fragment, a CSV, a document, JSON) or status (a redirect, an
    error, a poll's 204 or 304): any may carry personal data, and a kept poll answer
    would freeze a panel. Only a static file, the same for everyone, says itself how
    long it may be kept (web/static_files.py), and so does a view that marks its
    answer public, the same for everyone and nothing personal (the published
    figures' CSV). The unchanged polls that web/fastpoll.py answers before Flask say
    the same."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    kept = request.endpoint == "static" or response.cache_control.public
    if not (kept and response.status_code < 400):
        response.headers["Cache-Control"] = NO_STORE
    if response.mimetype == "text/html" and response.status_code != 204:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    return response
