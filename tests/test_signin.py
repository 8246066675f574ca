"""Sign-in that leaks nothing and cannot be turned against anyone, and the staff's
second factor."""
import datetime as dt
import re
import threading

import pyotp
import pytest
import time_machine

import blueprints.auth.routes as auth_routes
from models import SIGN_IN_TRIES, RecoveryCode, SignInFailure, User, db, utcnow
from tests.factories import PASSWORD, make_user, sign_in_client

EN = {"Accept-Language": "en"}
FAILED = "Sign-in failed: the username or the password is wrong"


def try_password(client, username, password, address="192.0.2.10"):
    return client.post("/auth/login", data={"username": username, "password": password}, headers=EN,
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def hashes(monkeypatch):
    """Every password hash the sign-in checks: (hash method, password)."""
    checked = []
    real = auth_routes.check_password_hash

    def spy(pwhash, password):
        checked.append((pwhash.split("$")[0], password))
        return real(pwhash, password)
    monkeypatch.setattr(auth_routes, "check_password_hash", spy)
    return checked


def test_unknown_wrong_disabled_and_paused_get_one_message_and_the_same_work(app, resident, hashes):
    """Enumeration by message and by timing: the four cases show the same page, and
    each checks exactly one password hash of the same kind (an unknown user is
    checked against a dummy hash), so none answers faster."""
    make_user("dana", None, full_name="Dana Disabled")
    with db.connection_context():
        User.update(disabled=True).where(User.username == "dana").execute()
        SignInFailure.create(username="paula", address="192.0.2.10", failures=0,
                             locked_until=utcnow() + dt.timedelta(minutes=5))
    make_user("paula", None, full_name="Paula Paused")
    client = app.test_client()
    client.get("/auth/login")  # the form first: no answer is a first visit (web/first_screen.py)
    pages = {}
    for case, username, password in [("unknown", "nobody", PASSWORD), ("wrong", "amal", "wrong-password-1"),
                                     ("disabled", "dana", PASSWORD), ("paused", "paula", PASSWORD)]:
        response = try_password(client, username, password)
        assert response.status_code == 422, case
        pages[case] = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text.replace(username, "NAME"))
    assert len(set(pages.values())) == 1 and FAILED in pages["unknown"]
    assert "disabled" not in pages["disabled"] and "locked" not in pages["paused"]
    assert len(hashes) == 4 and len({method for method, _ in hashes}) == 1
    assert hashes[0][0] == User.get(User.username == "amal").password_hash.split("$")[0]


def test_a_disabled_account_is_judged_only_after_its_password_and_its_session_ends(app, resident):
    client = app.test_client()
    sign_in_client(client, "amal")
    with db.connection_context():
        User.update(disabled=True).where(User.id == resident.id).execute()
    assert client.get("/requests/").status_code == 302
    assert FAILED in try_password(app.test_client(), "amal", PASSWORD).text


def test_five_wrong_passwords_pause_that_address_only_and_the_pause_grows(app, resident):
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(SIGN_IN_TRIES):
        assert try_password(attacker, "amal", "wrong-password-1").status_code == 422
    assert try_password(attacker, "amal", PASSWORD).status_code == 422  # paused: even the right one
    assert try_password(owner, "amal", PASSWORD, address="198.51.100.7").status_code == 303  # not locked out
    first_pause = paused_until("amal", "192.0.2.10") - utcnow()
    assert dt.timedelta(minutes=4) < first_pause <= dt.timedelta(minutes=5)
    with time_machine.travel(utcnow() + dt.timedelta(minutes=5, seconds=1), tick=False):
        for _ in range(SIGN_IN_TRIES):
            try_password(attacker, "amal", "wrong-password-1")
        assert paused_until("amal", "192.0.2.10") - utcnow() == dt.timedelta(minutes=10)


def paused_until(username, address):
    with db.connection_context():
        return SignInFailure.get((SignInFailure.username == username) & (SignInFailure.address == address)).locked_until


def test_the_right_password_clears_the_count(app, resident):
    client = app.test_client()
    for _ in range(SIGN_IN_TRIES - 1):
        try_password(client, "amal", "wrong-password-1")
    assert try_password(client, "amal", PASSWORD).status_code == 303
    with db.connection_context():
        assert SignInFailure.select().count() == 0


def test_unknown_usernames_pause_like_real_ones(app):
    client = app.test_client()
    for _ in range(SIGN_IN_TRIES):
        try_password(client, "nobody", "wrong-password-1")
    assert paused_until("nobody", "192.0.2.10") > utcnow()


def test_forty_parallel_wrong_passwords_check_at_most_five(app, resident, hashes):
    """Tries are counted in the UPDATE that checks the pause, so a burst cannot
    test more passwords than the allowance."""
    answers = []

    def attempt(index):
        answers.append(try_password(app.test_client(), "amal", f"guess-number-{index}").status_code)
    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [422] * 40
    guesses_checked = [password for _, password in hashes if password.startswith("guess-number-")]
    assert len(guesses_checked) == 40  # each costs a hash ...
    with db.connection_context():
        row = SignInFailure.get(SignInFailure.username == "amal")
    assert row.locks == 1 and row.locked_until > utcnow()  # ... but only five counted before the pause
    assert try_password(app.test_client(), "amal", PASSWORD).status_code == 422



def test_two_tries_that_read_the_spent_allowance_start_one_pause(app, monkeypatch):
    """The last two wrong tries of a burst can both read the spent row before either
    starts the pause (PostgreSQL reads committed rows): the second must not double it."""
    with db.connection_context():
        SignInFailure.create(username="amal", address="192.0.2.10", failures=SIGN_IN_TRIES)
        read_by_both = SignInFailure.get(SignInFailure.username == "amal")
        SignInFailure.pause_if_spent("amal", "192.0.2.10")
        monkeypatch.setattr(SignInFailure, "get_or_none", classmethod(lambda cls, *where: read_by_both))
        SignInFailure.pause_if_spent("amal", "192.0.2.10")
        row = SignInFailure.get(SignInFailure.username == "amal")
    assert (row.locks, row.failures) == (1, 0)
    assert row.locked_until - utcnow() <= dt.timedelta(minutes=5)

# ------------------------------------------------------------------ the staff's second factor

def test_staff_need_a_code_after_the_password(app, officer):
    client = app.test_client()
    response = try_password(client, "noura", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"].startswith("/auth/login/code")
    assert client.get("/staff/").status_code == 302  # not signed in yet
    code = pyotp.TOTP(officer.totp_secret).now()
    response = client.post("/auth/login/code", data={"code": code}, headers=EN)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_code_works_once_and_a_wrong_one_is_refused(app, officer):
    code = pyotp.TOTP(officer.totp_secret).now()
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        try_password(client, "noura", PASSWORD)
    assert first.post("/auth/login/code", data={"code": code}).status_code == 303
    response = second.post("/auth/login/code", data={"code": code}, headers=EN)
    assert response.status_code == 422 and "wrong or was used already" in response.text
    assert second.post("/auth/login/code", data={"code": "000000"}, headers=EN).status_code == 422
    assert second.get("/staff/").status_code == 302


def test_a_recovery_code_works_once(app, officer):
    with app.app_context(), db.connection_context():
        codes = RecoveryCode.replace_for(officer)
    client = app.test_client()
    try_password(client, "noura", PASSWORD)
    assert client.post("/auth/login/code", data={"code": codes[0].upper()}).status_code == 303
    again = app.test_client()
    try_password(again, "noura", PASSWORD)
    assert again.post("/auth/login/code", data={"code": codes[0]}).status_code == 422


def test_the_code_step_needs_the_password_first_and_only_for_five_minutes(app, officer):
    client = app.test_client()
    assert client.get("/auth/login/code").headers["Location"] == "/auth/login"
    try_password(client, "noura", PASSWORD)
    with time_machine.travel(utcnow() + dt.timedelta(minutes=6)):
        code = pyotp.TOTP(officer.totp_secret).now()
        assert client.post("/auth/login/code", data={"code": code}).headers["Location"] == "/auth/login"


def test_new_addresses_buy_no_new_code_guesses(app, officer):
    """Found in review: each address had its own five guesses at the code step."""
    for number in range(1, 5):
        client = app.test_client()
        try_password(client, "noura", PASSWORD, address=f"203.0.113.{number}")
        for _ in range(5):
            client.post("/auth/login/code", data={"code": "000000"},
                        environ_base={"REMOTE_ADDR": f"203.0.113.{number}"})
    with db.connection_context():
        account = SignInFailure.get((SignInFailure.username == "noura\x1f2") & (SignInFailure.address == "*"))
    assert account.locked_until > utcnow()  # ten wrong codes from anywhere pause the code step
    client = app.test_client()
    try_password(client, "noura", PASSWORD, address="203.0.113.9")
    code = pyotp.TOTP(officer.totp_secret).now()
    assert client.post("/auth/login/code", data={"code": code},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 422


def test_an_ipv6_client_counts_as_its_whole_64(app, resident):
    for host in range(1, SIGN_IN_TRIES + 1):
        try_password(app.test_client(), "amal", "wrong-password-1", address=f"2001:db8:1:2::{host}")
    assert try_password(app.test_client(), "amal", PASSWORD, address="2001:db8:1:2::99").status_code == 422
    assert try_password(app.test_client(), "amal", PASSWORD, address="2001:db8:1:3::1").status_code == 303


def test_the_code_step_gets_a_new_session_id_and_ends_when_the_password_changes(app, officer):
    client = app.test_client()
    client.post("/auth/language", data={"lang": "en"})
    before = client.get_cookie("session").value
    try_password(client, "noura", PASSWORD)
    assert client.get_cookie("session").value != before  # a planted cookie learns nothing
    with db.connection_context():
        officer.change_password("another-long-password")
    code = pyotp.TOTP(officer.totp_secret).now()
    assert client.post("/auth/login/code", data={"code": code}).headers["Location"] == "/auth/login"


def test_wrong_codes_pause_the_code_step_too(app, officer):
    client = app.test_client()
    try_password(client, "noura", PASSWORD)
    for _ in range(SIGN_IN_TRIES):
        client.post("/auth/login/code", data={"code": "000000"}, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    code = pyotp.TOTP(officer.totp_secret).now()
    response = client.post("/auth/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 422
