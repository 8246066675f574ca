import base64
import gzip
import hashlib
import shutil

import brotli
import pytest
from peewee import IntegrityError, PostgresqlDatabase, SqliteDatabase

from app import create_app
from models import Draft, db
from tests.conftest import make_app
from tests.factories import TEST_SECRET_KEY, make_amal, sign_in_client


def test_config_from_test_mapping(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
                      "SECRET_KEY": TEST_SECRET_KEY})
    assert app.testing
    assert not create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/y.sqlite", "SECRET_KEY": TEST_SECRET_KEY}).testing


def on_sqlite(app):
    return app.config["DATABASE_URL"].startswith("sqlite")


def scalar(sql):
    return db.execute_sql(sql).fetchone()[0]


def test_each_engine_runs_with_its_own_settings(app):
    with db.connection_context():
        if on_sqlite(app):
            assert isinstance(db.obj, SqliteDatabase)
            assert scalar("PRAGMA journal_mode") == "wal"
            assert scalar("PRAGMA foreign_keys") == 1  # off by default in SQLite
            assert scalar("PRAGMA busy_timeout") == 10000  # writers wait for the lock, not fail
        else:
            assert isinstance(db.obj, PostgresqlDatabase)
            assert scalar("SELECT version()").startswith("PostgreSQL")
            # The options of the URL reach the server: this run's own schema (see pg_url).
            assert scalar("SELECT current_schema()").startswith("tawasul_test_")


def test_a_row_pointing_at_a_missing_parent_is_refused(app):
    with db.connection_context():
        with pytest.raises(IntegrityError), db.atomic():
            Draft.create(owner=987654321)  # no such user
        assert Draft.select().count() == 0


def test_the_audit_table_has_its_append_only_triggers(app):
    """The triggers themselves; test_staff shows them refusing an UPDATE and a DELETE."""
    if on_sqlite(app):
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal"
    with db.connection_context():
        assert {row[0] for row in db.execute_sql(sql)} == {"audit_no_update", "audit_no_delete"}


def test_safe_headers_on_every_page(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in response.headers["Cache-Control"]


def test_session_cookie_is_http_only_and_same_site(client, resident):
    response = sign_in_client(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_script_and_no_style_but_the_hashed_one(client):
    """A first visit's one <style> (web/first_screen.py) is allowed by its sha256, never by 'unsafe-inline'."""
    response = client.get("/auth/login")
    page = response.get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and page.count("<style") == 1
    served = page.split("<style>")[1].split("</style>")[0]
    digest = base64.b64encode(hashlib.sha256(served.encode()).digest()).decode()
    style_src = next(part for part in response.headers["Content-Security-Policy"].split(";")
                     if part.strip().startswith("style-src"))
    assert style_src.split() == ["style-src", "'self'", f"'sha256-{digest}'"]
    assert ".panel{" in served and "--brand: #0b6e4f" in served


def test_static_files_are_fingerprinted_and_cached_for_a_year(client):
    page = client.get("/auth/login").get_data(as_text=True)
    css_url = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert "?v=" in css_url
    response = client.get(css_url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert "immutable" in response.headers["Cache-Control"]
    assert b".panel" in brotli.decompress(response.data)
    stale = client.get(css_url.split("?")[0] + "?v=old", headers={"Accept-Encoding": "gzip"})
    assert stale.headers["Cache-Control"] == "no-cache" and b".panel" in gzip.decompress(stale.data)
    again = client.get(css_url, headers={"Accept-Encoding": "br", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/static/nope.css").status_code == 404


def test_htmx_is_served_from_the_pinned_package(client):
    response = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.mimetype in ("text/javascript", "application/javascript")
    assert b"4.0.1" in brotli.decompress(response.data)


def test_large_html_is_compressed(client, resident):
    sign_in_client(client)
    response = client.get("/requests/new", headers={"Accept-Encoding": "br"})
    assert response.headers.get("Content-Encoding") == "br"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)


def test_second_app_on_same_database(app):
    other = make_app(app.config["DATABASE_URL"])
    assert other.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("target", ["/%0aX:y", "/%0d%0aSet-Cookie:x=1", "//evil.example", "/\\evil.example",
                                    "/%5Cevil.example", "https://evil.example", "http:/evil.example",
                                    "%2F%2Fevil.example", "/%09/evil.example", "/%20/evil.example",
                                    "javascript:alert(1)", "/" + "a" * 3000, "/%C3%A9t%C3%A9", ""])
def test_next_must_be_a_plain_local_path_or_the_start_page_is_used(client, target):
    response = client.post("/auth/language", data="lang=en&next=" + target,  # as a browser encodes it
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/requests/?x=1", "/staff/?after=2026-01-01_5&q=a%20b", "/requests/123#status"])
def test_a_local_next_is_kept_as_it_is(client, target):
    response = client.post("/auth/language", data={"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == target


def test_a_long_address_is_not_copied_into_the_sign_in_redirect(client):
    assert client.get("/requests/?x=1").headers["Location"] == "/auth/login?next=/requests/?x%3D1"
    assert client.get("/requests/?x=" + "a" * 3000).headers["Location"] == "/auth/login"


def assert_unavailable(response, *texts):
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert all(text in page for text in texts), page
    assert response.headers["X-Request-ID"] in page  # the reference a resident can quote (web/logs.py)
    assert "Set-Cookie" not in response.headers


def unavailable_message(app, language):
    """The 503 page's message in `language` (as the catalogue has it)."""
    from flask_babel import force_locale

    from web.errors import MESSAGES
    with app.test_request_context(), force_locale(language):
        return str(MESSAGES[503][1])


def test_a_database_that_is_gone_answers_503_in_the_visitors_language(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app = make_app(f"sqlite:///{folder / 'tawasul.sqlite'}")
    with db.connection_context():
        make_amal([("Amal Saad", None, "SA")])
    signed_in = app.test_client()
    assert sign_in_client(signed_in).status_code == 303
    assert signed_in.get("/requests/").status_code == 200
    shutil.rmtree(folder)  # the database file, its WAL and the folder: nothing to open any more
    db.obj.close_all()  # and no pooled connection still holding the deleted file open
    arabic = ('<html lang="ar" dir="rtl">', "العودة إلى الصفحة الرئيسية", unavailable_message(app, "ar"))
    english = ('<html lang="en" dir="ltr">', "We cannot reach our records")
    client = app.test_client()
    assert_unavailable(client.get("/"), *arabic)
    assert_unavailable(client.get("/", headers={"Accept-Language": "en"}), *english)
    assert_unavailable(signed_in.get("/requests/"), *arabic)  # the session cannot be read either
    fragment = signed_in.get("/requests/", headers={"HX-Request": "true", "Accept-Language": "en"})
    assert_unavailable(fragment, "We cannot reach our records")
    assert "<html" not in fragment.get_data(as_text=True)
    assert_unavailable(client.post("/auth/language", data={"lang": "en", "next": "/"}), *arabic)
    assert client.get("/healthz").status_code == 200  # the process answers: nothing to restart
    assert client.get("/readyz").status_code == 503  # but this server cannot serve (tests/test_readiness.py)


def test_a_connection_lost_while_loading_the_account_is_a_503(signed_in, monkeypatch):
    from peewee import InterfaceError

    from web.sessions import DatabaseStore

    def lost(*args, **kwargs):
        raise InterfaceError("connection already closed")  # what psycopg2 says, wrapped by peewee
    monkeypatch.setattr(DatabaseStore, "load", lost)  # the session is read with its account, in one query
    assert_unavailable(signed_in.get("/requests/", headers={"Accept-Language": "en"}),
                       "We cannot reach our records")


def test_a_database_server_that_does_not_answer_is_a_503():
    pytest.importorskip("psycopg2")
    app = create_app(dict(TESTING=True, SECRET_KEY=TEST_SECRET_KEY, RATELIMIT_ENABLED=False,
                          DATABASE_URL="postgresql://postgres@127.0.0.1:1/test"))  # nothing listens on port 1
    response = app.test_client().get("/auth/login", headers={"Accept-Language": "en"})
    assert_unavailable(response, '<html lang="en" dir="ltr">', "We cannot reach our records")


def test_a_session_store_that_does_not_answer_is_a_503(tmp_path):
    pytest.importorskip("redis")
    # PROPAGATE_EXCEPTIONS off, as in production: an error while saving the session
    # reaches the error handlers instead of the test.
    app = make_app(f"sqlite:///{tmp_path / 'test.sqlite'}", SESSION_REDIS_URL="redis://127.0.0.1:1/0",
                   PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    english = {"Accept-Language": "en"}
    assert_unavailable(client.get("/", headers=english), "We cannot reach our records")  # saving a new one
    client.set_cookie("session", "a" * 43)
    assert_unavailable(client.get("/", headers=english), "We cannot reach our records")  # reading one
