"""Sessions kept on the server (in the database, or in Redis), and the secret key."""
import datetime as dt
import os
import uuid

import pytest
import time_machine
from flask import request
from flask.sessions import SecureCookieSessionInterface

from app import ConfigurationError, create_app
from models import WebSession, db, utcnow
from tests.conftest import HX, REDIS_URL, make_app, need_service
from tests.factories import TEST_SECRET_KEY, make_amal, make_user, sign_in_client
from web.sessions import TOKEN, end_sessions_of

COOKIE = "session"


@pytest.fixture(params=["database", "redis"])
def store_app(request, app):
    """The app with its sessions in the database (both engines), and in Redis."""
    if request.param == "database":
        yield app
        return
    need_service("Redis", 6379)
    prefix = f"tawasul-test-{uuid.uuid4().hex}:"
    redis_app = make_app(app.config["DATABASE_URL"], SESSION_REDIS_URL=REDIS_URL)
    redis_app.session_interface.store.prefix = prefix
    yield redis_app
    client = redis_app.session_interface.store.redis
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def amal(app):
    return make_amal([("Amal Saad", None, "SA")])


def cookie_of(client):
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def with_cookie(app, value):
    """A new browser that holds a copy of a cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def test_the_cookie_holds_only_a_random_token(store_app, amal):
    client = store_app.test_client()
    sign_in_client(client, "amal")
    token = cookie_of(client)
    assert TOKEN.fullmatch(token)  # 32 random bytes, no data and no signature
    if not store_app.config.get("SESSION_REDIS_URL"):
        with db.connection_context():
            assert WebSession.select().where(WebSession.user == amal.id).count() == 1
            assert WebSession.get_or_none(WebSession.token_hash == token) is None  # only its hash is stored


def test_a_cookie_kept_from_before_sign_out_opens_nothing(store_app, amal):
    """The finding: a cookie saved before POST /auth/logout still opened the request page."""
    client = store_app.test_client()
    sign_in_client(client, "amal")
    saved = cookie_of(client)
    assert with_cookie(store_app, saved).get("/requests/").status_code == 200
    assert client.post("/auth/logout").status_code == 303
    assert client.get_cookie(COOKIE) is None
    assert with_cookie(store_app, saved).get("/requests/").status_code == 302
    assert with_cookie(store_app, saved).get("/requests/", headers=HX).status_code == 401


def test_a_cookie_signed_with_the_old_development_key_opens_nothing(app):
    """The finding: {"_user_id": "5", "_fresh": true} signed with dev-only-change-me
    opened a supervisor's view."""
    supervisor = make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    forged_app = create_app({"SECRET_KEY": "x" * 40, "DATABASE_URL": app.config["DATABASE_URL"]})
    forged_app.secret_key = "dev-only-change-me"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forged_app)
    forged = serializer.dumps({"_user_id": str(supervisor.id), "_fresh": True})
    client = with_cookie(app, forged)
    assert client.get("/staff/").status_code == 302
    assert client.get("/staff/figures").status_code == 302


def test_sign_in_gives_a_new_session_id(store_app, amal):
    """A token a visitor had before signing in (planted, perhaps) is not the signed-in one."""
    client = store_app.test_client()
    client.post("/auth/language", data={"lang": "en"})
    before = cookie_of(client)
    assert before
    sign_in_client(client, "amal")
    assert cookie_of(client) != before
    planted = with_cookie(store_app, before)
    assert planted.get("/requests/").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_account(store_app, amal):
    phone, laptop = store_app.test_client(), store_app.test_client()
    for client in (phone, laptop):
        sign_in_client(client, "amal")
    other = store_app.test_client()
    make_user("badr", "1876543214", full_name="Badr Ali")
    sign_in_client(other, "badr")
    assert laptop.post("/auth/account/sign-out-everywhere").status_code == 303
    assert phone.get("/requests/").status_code == 302 and laptop.get("/requests/").status_code == 302
    assert other.get("/requests/").status_code == 200  # someone else's session is untouched


def test_a_request_in_flight_cannot_bring_an_ended_session_back(store_app, amal):
    """A thief's request loaded the session just before the owner signed out
    everywhere, and changes it after: the session stays ended (found in review:
    an insert-or-update wrote the row back, still signed in)."""
    thief = store_app.test_client()
    sign_in_client(thief, "amal")
    token = cookie_of(thief)
    interface = store_app.session_interface
    with store_app.test_request_context("/auth/language", method="POST", headers={"Cookie": f"{COOKIE}={token}"}):
        with db.connection_context():
            in_flight = interface.open_session(store_app, request)
            assert in_flight.get("_user_id") == str(amal.id)
            end_sessions_of(amal.id)  # the owner, on another device
            in_flight["lang"] = "en"
            response = store_app.response_class()
            interface.save_session(store_app, in_flight, response)
        assert f"{COOKIE}=;" in response.headers["Set-Cookie"]  # the thief's cookie is dropped
    assert with_cookie(store_app, token).get("/requests/").status_code == 302


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(store_app, amal):
    here, elsewhere = store_app.test_client(), store_app.test_client()
    for client in (here, elsewhere):
        sign_in_client(client, "amal")
    response = here.post("/auth/account/password", headers={"Accept-Language": "en"},
                         data={"current": "correct-horse-42", "password": "a-new-long-phrase",
                               "confirm": "a-new-long-phrase"})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/account"
    shown = here.get("/auth/account", headers={"Accept-Language": "en"})  # reached by a GET: a refresh sends nothing
    assert "Every other session of this account ended" in shown.text
    assert "Every other session" not in here.get("/auth/account", headers={"Accept-Language": "en"}).text
    assert here.get("/requests/").status_code == 200
    assert elsewhere.get("/requests/").status_code == 302


def test_a_wrong_current_password_changes_nothing(app, amal):
    client = app.test_client()
    sign_in_client(client, "amal")
    response = client.post("/auth/account/password", headers={"Accept-Language": "en"},
                           data={"current": "not-my-password", "password": "a-new-long-phrase",
                                 "confirm": "a-new-long-phrase"})
    assert response.status_code == 422 and "current password is wrong" in response.text
    assert sign_in_client(app.test_client(), "amal").status_code == 303


def test_every_session_ends_after_twelve_hours(store_app, amal):
    client = store_app.test_client()
    sign_in_client(client, "amal")
    with time_machine.travel(utcnow() + dt.timedelta(hours=11, minutes=59), tick=False):
        assert client.get("/requests/").status_code == 200
    with time_machine.travel(utcnow() + dt.timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/requests/").status_code == 302


def test_staff_sessions_end_after_thirty_idle_minutes_and_polls_are_not_activity(store_app):
    make_user("noura", None, role="officer", full_name="Noura Officer")
    client = store_app.test_client()
    sign_in_client(client, "noura")
    start = utcnow()
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        assert client.get("/staff/").status_code == 200  # an action: idle time starts again
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        changed = client.get("/staff/", headers=dict(HX, **{"X-Shown-Version": "0"}))
        assert changed.status_code == 200 and changed.text.lstrip().startswith('<div id="queue"')
        version = changed.text.split('"X-Shown-Version": "')[1].split('"')[0]
        unchanged = client.get("/staff/", headers=dict(HX, **{"X-Shown-Version": version}))
        assert unchanged.status_code == 204  # neither poll, changed or not, keeps anything alive ...
    with time_machine.travel(start + dt.timedelta(minutes=56), tick=False):
        assert client.get("/staff/").status_code == 302  # ... so 31 minutes after the action it ends


def test_expired_sessions_are_purged(app, amal):
    old, fresh = app.test_client(), app.test_client()
    sign_in_client(old, "amal")
    with time_machine.travel(utcnow() + dt.timedelta(hours=13), tick=False):
        sign_in_client(fresh, "amal")
        result = app.test_cli_runner().invoke(args=["sessions", "purge"])
        assert result.exit_code == 0 and "Removed 1 expired session" in result.output
        assert fresh.get("/requests/").status_code == 200
    with db.connection_context():
        assert WebSession.select().count() == 1


def test_polls_and_static_files_write_no_session(app, amal):
    client = app.test_client()
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get_cookie(COOKIE) is None


def test_a_malformed_or_unknown_cookie_is_a_new_visitor(app, amal):
    for value in ("x", "A" * 43, "A" * 3000, "é" * 43):
        assert with_cookie(app, value).get("/requests/").status_code == 302


def test_when_the_session_store_is_down_visitors_get_503_with_retry_after(app, amal):
    down = make_app(app.config["DATABASE_URL"], SESSION_REDIS_URL="redis://127.0.0.1:1/0",
                    PROPAGATE_EXCEPTIONS=False)
    response = with_cookie(down, "A" * 43).get("/requests/", headers={"Accept-Language": "en"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "unavailable for a moment" in response.text
    response = down.test_client().post("/auth/language", data={"lang": "en"})
    assert response.status_code == 503 and down.test_client().get_cookie(COOKIE) is None  # nothing half-kept


# ------------------------------------------------------------------ the secret key

def plain_app(tmp_path, **config):
    return create_app(dict(DATABASE_URL=f"sqlite:///{tmp_path / 'k.sqlite'}", **config),
                      instance_path=str(tmp_path / "instance"))


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "changeme", "short-key"])
def test_the_server_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    with pytest.raises(ConfigurationError, match="FLASK_SECRET_KEY"):
        plain_app(tmp_path, SECRET_KEY=key)


def test_the_key_written_in_instance_is_read(tmp_path):
    os.makedirs(tmp_path / "instance")
    (tmp_path / "instance" / "secret_key").write_text(TEST_SECRET_KEY + "\n")
    assert plain_app(tmp_path).secret_key == TEST_SECRET_KEY
    (tmp_path / "instance" / "secret_key").write_text("dev-only-change-me\n")
    with pytest.raises(ConfigurationError):
        plain_app(tmp_path)


def test_the_cookie_is_host_prefixed_when_it_is_secure(app, amal):
    """A `__Host-` cookie is refused by the browser unless Secure, for the whole
    site, without a domain: a sub-domain or plain HTTP cannot plant one."""
    client = app.test_client()
    response = client.post("/auth/login", base_url="https://localhost",
                           data={"username": "amal", "password": "correct-horse-42"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert client.get("/requests/", base_url="https://localhost").status_code == 200
    plain = app.test_client()
    cookie = plain.post("/auth/login", data={"username": "amal", "password": "correct-horse-42"}).headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" not in cookie  # make run on http://127.0.0.1
