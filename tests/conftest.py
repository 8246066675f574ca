import functools
import os
import shutil
import socket
import threading

import pytest
import time_machine
from werkzeug.security import check_password_hash
from werkzeug.serving import make_server

import models.users
from app import create_app
from blueprints.auth import routes as auth_routes
from models import db, upgrade
from tests.databases import copy_sqlite_template, fresh_postgres, migrate_sqlite_template
from tests.factories import (  # noqa: F401
    PASSWORD,
    TEST_SECRET_KEY,
    make_amal,
    make_id_number,
    make_resident,
    make_user,
    nobody_available,
    password_hash,
    second_factor_code,
    sign_in_client,
    submit_request,
)

PG_URL = os.environ.get("TAWASUL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TAWASUL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# .ci/run sets this: there a missing PostgreSQL or Redis fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("TAWASUL_REQUIRE_SERVICES") == "1"
HX = {"HX-Request": "true"}


@pytest.fixture(scope="session", autouse=True)
def suite_clock():
    """TAWASUL_TEST_CLOCK=2026-12-31T23:30:00Z runs the whole suite as if started at
    that moment (the clock keeps ticking): CI uses it to prove the date-sensitive
    tests pass on any day and at any hour."""
    start = os.environ.get("TAWASUL_TEST_CLOCK")
    if not start:
        yield None
        return
    with time_machine.travel(start, tick=True) as traveller:
        yield traveller


@functools.cache
def remembered_check(pwhash, password):
    return check_password_hash(pwhash, password)


@pytest.fixture(scope="session", autouse=True)
def password_checks_remembered():
    """The factories give every account the same hash of PASSWORD (made once): the app's
    check of a (hash, password) pair it has checked before answers from memory instead
    of running scrypt again (a third of a second a sign-in). The answer is the same;
    each check is still counted where a test spies on them (tests/test_signin.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_routes, "check_password_hash", remembered_check)
        patch.setattr(models.users, "check_password_hash", remembered_check)
        yield


def reachable(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def need_service(name, port):
    if not reachable(port):
        message = f"{name} is not reachable on 127.0.0.1:{port}"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def make_app(url, **extra):
    """The app on `url`. A new database starts as the migrations leave it, from this
    process's template (tests/databases.py); on PostgreSQL the schema starts anew.
    An existing SQLite file is upgraded, as at a server's start."""
    on_sqlite = url.startswith("sqlite")
    copied = on_sqlite and copy_sqlite_template(url, make_sqlite_template)
    app = create_app(app_config(url, **extra))
    with app.app_context(), db.connection_context():
        if not on_sqlite:
            fresh_postgres(url)
        elif not copied:
            upgrade()
    return app


def app_config(url, **extra):
    config = dict(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=url,
                  RATELIMIT_ENABLED=False)
    config.update(extra)
    return config


def make_sqlite_template(url):
    app = create_app(app_config(url))
    with app.app_context(), db.connection_context():
        migrate_sqlite_template()
    db.obj.close_all()


@pytest.fixture(scope="session")
def pg_url():
    """A schema of its own in the test database, so two test runs never meet."""
    need_service("PostgreSQL", 5432)
    import psycopg2
    schema = f"tawasul_test_{os.getpid()}"
    connection = psycopg2.connect(PG_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    if not db.is_closed():
        db.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def app(request, tmp_path):
    """The app on a fresh database: every test that uses it runs on SQLite and on
    the PostgreSQL server of this machine."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    app = make_app(url)
    yield app  # no app context kept open: each test request gets its own `g`
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def resident(app):
    """A citizen with herself and three linked persons."""
    return make_amal([("Amal Saad", None, "SA"), ("Yusuf Yemeni", make_id_number(2, 11111111), "YE"),
                      ("Ravi Indian", make_id_number(2, 22222222), "IN"),
                      ("Sami Syrian", "3000000001", "SY")])


@pytest.fixture
def other_resident(app):
    with db.connection_context():
        return make_resident("badr", "Badr Ali", make_id_number(1, 87654321), password_hash())


@pytest.fixture
def officer(app):
    return make_user("noura", None, role="officer", full_name="Noura Officer")


@pytest.fixture
def officer2(app):
    return make_user("khalid", None, role="officer", full_name="Khalid Officer")


@pytest.fixture
def supervisor(app):
    return make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")


@pytest.fixture
def service_request(resident):
    """Amal's request, sent while no officer was available: it waits unassigned in the
    shared queue, where any officer may take it (tests of the rule that gives every
    request an officer are in tests/test_assignment.py)."""
    with nobody_available():
        return submit_request(resident)


@pytest.fixture
def signed_in(client, resident):
    sign_in_client(client)
    return client


# ------------------------------------------------------------------ browser tests

CHROMIUM = "/usr/bin/chromium"
# Screenshots the browser tests take of the pages they visit, to look at (never committed).
SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
POLL = 1


def need_playwright():
    """The playwright package's sync API. Without it the browser tests are skipped;
    with TAWASUL_REQUIRE_SERVICES=1 (.ci/run) they fail, as a missing service does."""
    try:
        import playwright.sync_api as sync_api
    except ImportError as error:
        message = f"the playwright package is missing ({error}): `make test` installs it"
        if REQUIRE_SERVICES:
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return sync_api


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by the playwright package (never its own browser),
    started once per test process (each test opens its own context). A missing Chromium
    always fails: the playwright package alone brings no browser here."""
    sync_api = need_playwright()
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live(tmp_path):
    """The app served on a free loopback port, on its own SQLite file."""
    app = make_app(f"sqlite:///{tmp_path / 'e2e.sqlite'}", STATUS_POLL_SECONDS=POLL, NOJS_REFRESH_SECONDS=2,
                   STATUS_POLL_MAX_SECONDS=POLL)  # no back-off here; tests/test_e2e_backoff.py has it
    yield from serve(app)


def serve(app):
    """Serve `app` on a free loopback port in a thread; yields its address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def e2e_resident(live):
    return make_amal([("أمل سعد", None, "SA"), ("يوسف اليمني", make_id_number(2, 11111111), "YE")])


def sign_in(page, live, username="amal", lands_on="/requests/"):
    page.goto(f"{live}/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button")
    if lands_on.startswith("/staff"):  # staff: the second step, a code from the authenticator app
        page.wait_for_url(f"{live}/auth/login/code**")
        page.fill("#code", second_factor_code(username))
        page.click("main button")
    page.wait_for_url(f"{live}{lands_on}")


def screenshot(page, name, widths=(360, 1280)):
    """Full-page screenshots of the page as it is, at phone and desktop width, into
    screenshots/ (ignored by git): screenshots/<name>-<width>.png."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    size = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": size["height"] if size else 800})
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{width}.png"), full_page=True)
    if size:
        page.set_viewport_size(size)
