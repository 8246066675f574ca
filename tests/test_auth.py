import datetime as dt

import pytest

from models import Person, User, utcnow
from tests.conftest import HX, make_app
from tests.factories import PASSWORD

GOOD = dict(username="nora", full_name="Nora Fahad", id_number="1000000008", nationality="SA",
            password="long-enough-pass-7", confirm="long-enough-pass-7")


def test_register_creates_the_account_and_its_own_person(client):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    user = User.get(User.username == "nora")
    assert user.password_hash != GOOD["password"] and user.check_password(GOOD["password"])
    me = Person.get(Person.sponsor_id_number == "1000000008")
    assert (me.id_number, me.name, me.nationality) == ("1000000008", "Nora Fahad", "SA")
    assert client.get("/requests/").status_code == 200


def test_register_accepts_arabic_indic_digits(client):
    response = client.post("/auth/register", data=dict(GOOD, id_number="١٠٠٠ ٠٠٠ ٠٠٨"))
    assert response.status_code == 303
    assert User.get(User.username == "nora").id_number == "1000000008"


@pytest.mark.parametrize("change, message", [
    (dict(id_number="1000000009"), "not valid: check each digit"),
    (dict(id_number="12345"), "exactly 10 digits"),
    (dict(id_number="3000000001"), "not a border number"),
    (dict(username="a"), "3 to 40 characters"),
    (dict(username="نورة"), "Latin letters"),
    (dict(password="short1", confirm="short1"), "at least 10 characters"),
    (dict(password="onlyletterspassword", confirm="onlyletterspassword"), "at least one digit"),
    (dict(password="nora-is-123456", confirm="nora-is-123456"), "must not contain the username"),
    (dict(confirm="something-else-1"), "not the same"),
    (dict(full_name=""), "Enter your full name"),
])
def test_register_refuses_bad_input_and_saves_nothing(client, change, message):
    response = client.post("/auth/register", data=dict(GOOD, **change), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert User.select().count() == 0 and Person.select().count() == 0


def test_register_refuses_a_taken_username_or_identity(client, resident):
    response = client.post("/auth/register", data=dict(GOOD, username="amal"), headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "username is taken" in response.get_data(as_text=True)
    response = client.post("/auth/register", data=dict(GOOD, id_number=resident.id_number),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "already exists for this identity" in response.get_data(as_text=True)
    assert User.select().count() == 1


def test_login_and_logout(client, auth, resident):
    response = auth.login()
    assert response.status_code == 303
    assert client.get("/requests/").status_code == 200
    assert client.get("/auth/logout").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/requests/").status_code == 302


def test_wrong_password_gets_one_message_for_both_fields(client, auth, resident):
    for username in ("amal", "nobody"):
        response = client.post("/auth/login", data={"username": username, "password": "wrong"},
                               headers={"Accept-Language": "en"})
        assert response.status_code == 422
        assert "The username or the password is wrong." in response.get_data(as_text=True)


def test_five_failures_lock_the_account_for_fifteen_minutes(client, auth, resident):
    for _ in range(4):
        assert auth.login(password="wrong").status_code == 422
    response = client.post("/auth/login", data={"username": "amal", "password": "wrong"},
                           headers={"Accept-Language": "en"})
    assert "locked for 15 minutes" in response.get_data(as_text=True)
    locked_until = User.get_by_id(resident.id).locked_until
    assert dt.timedelta(minutes=14) < locked_until - utcnow() <= dt.timedelta(minutes=15)
    response = client.post("/auth/login", data={"username": "amal", "password": PASSWORD},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "Try again in 15 minutes" in response.get_data(as_text=True)
    assert client.get("/requests/").status_code == 302


def test_the_lock_holds_across_app_processes_and_ends(app, resident, tmp_path):
    """The count lives in the database: a second app on the same database sees it."""
    first = app.test_client()
    for _ in range(5):
        first.post("/auth/login", data={"username": "amal", "password": "wrong"})
    second = make_app(app.config["DATABASE_URL"]) if app.config["DATABASE_URL"].startswith("sqlite") else app
    response = second.test_client().post("/auth/login", data={"username": "amal", "password": PASSWORD})
    assert response.status_code == 422
    User.update(locked_until=utcnow() - dt.timedelta(seconds=1)).where(User.id == resident.id).execute()
    assert first.post("/auth/login", data={"username": "amal", "password": PASSWORD}).status_code == 303
    assert User.get_by_id(resident.id).failed_logins == 0


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(client, auth, resident):
    auth.login()
    User.update(disabled=True).where(User.id == resident.id).execute()
    assert client.get("/requests/").status_code == 302
    response = client.post("/auth/login", data={"username": "amal", "password": PASSWORD},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "disabled" in response.get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/requests/new", "/requests/new"),
    ("http://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("javascript:alert(1)", "/"),
])
def test_login_only_follows_local_next(client, resident, target, expected):
    response = client.post("/auth/login?next=" + target, data={"username": "amal", "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/requests/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_anonymous_htmx_call_gets_401_with_hx_redirect(client, service_request):
    response = client.get(f"/requests/{service_request.number}/status", headers=HX)
    assert response.status_code == 401 and response.data == b""
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_language_switch_is_kept_for_the_session_and_the_user(client, auth, resident):
    auth.login()
    assert 'lang="ar" dir="rtl"' in client.get("/requests/").get_data(as_text=True)
    response = client.post("/auth/language", data={"lang": "en", "next": "/requests/"})
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    assert 'lang="en" dir="ltr"' in client.get("/requests/").get_data(as_text=True)
    assert User.get_by_id(resident.id).locale == "en"
    auth.logout()
    auth.login()  # a new session takes the language from the account
    assert 'lang="en"' in client.get("/requests/").get_data(as_text=True)


def test_forms_need_a_csrf_token(app, resident):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "amal", "password": PASSWORD},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/auth/login", data={"username": "amal", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303




@pytest.mark.parametrize("path, data", [
    ("/auth/login", {"username": "a\x00b", "password": "x"}),
    ("/auth/register", dict(GOOD, username="a\x00b")),
])
def test_a_nul_character_is_a_clear_400_on_every_engine(client, path, data):
    response = client.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "not right" in response.get_data(as_text=True)
    assert client.get("/inquiry?number=%00").status_code in (302, 400)
