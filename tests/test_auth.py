import datetime as dt
import re

import pytest
import time_machine

from models import CodeNotSent, CodeSent, Notice, OneTimeCode, Person, User, db, utcnow
from tests.conftest import HX
from tests.factories import PASSWORD, code_in, last_sms, make_id_number, registry_entry, sign_in_client

EN = {"Accept-Language": "en"}
NORA = make_id_number(1, 10000000)
NORA_MOBILE = "+966551234567"
ACCOUNT = dict(username="nora", password="long-enough-pass-7", confirm="long-enough-pass-7")


@pytest.fixture
def nora(app):
    """In the registry with a mobile, no account yet."""
    return registry_entry("Nora Fahad", NORA, NORA_MOBILE)


def ask_code(client, number=NORA, purpose="register"):
    return client.post(f"/auth/{purpose}", data={"id_number": number}, headers=EN)


def sign_up(client, code, **change):
    return client.post("/auth/register/code", data=dict(ACCOUNT, code=code, **change), headers=EN)


# ------------------------------------------------------------------ sign-up with a code

def test_sign_up_sends_a_code_to_the_registry_mobile_and_opens_the_account_with_it(client, nora):
    response = ask_code(client)
    assert response.status_code == 303 and response.headers["Location"] == "/auth/register/code"
    code = code_in(last_sms(NORA_MOBILE))
    assert code
    page = client.get("/auth/register/code", headers=EN).text
    assert "+966 5• ••• ••67" in page and NORA_MOBILE not in page
    response = sign_up(client, code)
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    user = User.get(User.username == "nora")
    assert (user.id_number, user.full_name, user.mobile) == (NORA, "Nora Fahad", NORA_MOBILE)
    assert user.check_password(ACCOUNT["password"]) and user.password_hash != ACCOUNT["password"]
    assert Person.get((Person.sponsor_id_number == NORA) & (Person.id_number == NORA)).nationality == "SA"
    assert client.get("/requests/").status_code == 200
    assert sign_up(app_client(client), code).status_code == 302  # another browser has no pending sign-up


def app_client(client):
    return client.application.test_client()


def test_sign_up_takes_arabic_indic_digits_in_the_number_and_the_code(client, nora):
    assert ask_code(client, f"{arabic(NORA[:4])} {arabic(NORA[4:])}").status_code == 303
    assert sign_up(client, arabic(code_in(last_sms(NORA_MOBILE)))).status_code == 303


def arabic(digits):
    return digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def test_a_sponsor_number_cannot_be_taken_over_without_the_code_sent_to_its_mobile(client, app):
    """The finding: registering with a sponsor's national ID handed over every person
    linked to it. Now the account needs the code sent to the sponsor's own mobile."""
    sponsor = registry_entry("Saad Sponsor", make_id_number(1, 55501234), "+966500000111")
    registry_entry("Son Of Saad", make_id_number(1, 55501235), None, sponsor=sponsor.id_number)
    assert ask_code(client, sponsor.id_number).status_code == 303
    for guess in ("000000", "111111", "222222", "333333", "444444"):
        assert sign_up(client, guess).status_code == 422
    right = code_in(last_sms("+966500000111"))
    response = sign_up(client, right)  # five wrong tries ended the code, even for the right one now
    assert response.status_code == 422 and "wrong or has expired" in response.text
    assert User.select().count() == 0


def test_a_stranger_who_types_the_same_number_cannot_spend_the_owners_code(app, nora):
    """Found in review: five wrong codes from another browser ended the owner's code."""
    owner, stranger = app.test_client(), app.test_client()
    ask_code(owner)
    code = code_in(last_sms(NORA_MOBILE))
    with time_machine.travel(utcnow() + dt.timedelta(seconds=5)):
        stranger.post("/auth/register", data={"id_number": NORA})  # within the minute: no new code
        for guess in ("000000", "111111", "222222", "333333", "444444", "555555"):
            assert sign_up(stranger, guess).status_code == 422
        assert sign_up(owner, code).status_code == 303


def test_a_number_without_a_mobile_in_the_registry_cannot_open_an_account(client, app):
    registry_entry("No Mobile", make_id_number(1, 20000000), None)
    for number in (make_id_number(1, 20000000), make_id_number(1, 30000000)):  # no mobile; not in the registry
        response = ask_code(client, number)
        assert response.status_code == 422
        assert "no mobile number for this identity number" in response.text and "passports office" in response.text
    assert Notice.select().count() == 0


@pytest.mark.parametrize("number, message", [
    ("1000000009", "not valid: check each digit"),
    ("12345", "exactly 10 digits"),
    ("3000000001", "not a border number"),
    ("", "Enter the identity number"),
])
def test_sign_up_explains_a_wrong_identity_number(client, nora, number, message):
    response = ask_code(client, number)
    assert response.status_code == 422 and message in response.text
    assert Notice.select().count() == 0


@pytest.mark.parametrize("change, message", [
    (dict(username="a"), "3 to 40 characters"),
    (dict(username="نورة"), "Latin letters"),
    (dict(password="short1", confirm="short1"), "12 to 128 characters"),
    (dict(password="eleven-char", confirm="eleven-char"), "12 to 128 characters"),
    (dict(password="x" * 129, confirm="x" * 129), "12 to 128 characters"),
    (dict(password="password123", confirm="password123"), "too easy to guess"),
    (dict(password="qwertyuiop", confirm="qwertyuiop"), "too easy to guess"),
    (dict(password="nora-my-own-words", confirm="nora-my-own-words"), "too easy to guess"),
    (dict(confirm="something-else-1"), "not the same"),
    (dict(code="12345"), "The code has 6 digits"),
])
def test_sign_up_refuses_bad_input_saves_nothing_and_keeps_the_code(client, nora, change, message):
    ask_code(client)
    code = code_in(last_sms(NORA_MOBILE))
    response = sign_up(client, **dict(dict(code=code), **change))
    assert response.status_code == 422 and message in response.text
    assert User.select().count() == 0
    assert sign_up(client, code).status_code == 303  # a refused form did not spend the code


def test_letters_and_digits_are_not_required_in_a_password(client, nora):
    ask_code(client)
    password = "كلمة سر طويلة جدا"
    assert sign_up(client, code_in(last_sms(NORA_MOBILE)), password=password, confirm=password).status_code == 303


def test_a_taken_username_is_refused(client, nora, resident):
    ask_code(client)
    response = sign_up(client, code_in(last_sms(NORA_MOBILE)), username="amal")
    assert response.status_code == 422 and "username is taken" in response.text


def test_an_existing_account_gets_the_same_page_and_a_warning_instead_of_a_code(app, resident):
    """Same answer whether or not the number has an account: the SMS tells the owner."""
    registry_entry("Other Person", make_id_number(1, 40000000), "+966500000222")
    with db.connection_context():
        Person.update(mobile="+966500000333").where(Person.id_number == resident.id_number).execute()
    pages = []
    for number in (resident.id_number, make_id_number(1, 40000000)):
        client = app.test_client()
        response = ask_code(client, number)
        page = client.get("/auth/register/code", headers=EN).text.split("+966 5")[0]
        pages.append((response.status_code, response.headers["Location"], re.sub('value="[^"]+"', "", page)))
    assert pages[0] == pages[1]
    warning = last_sms("+966500000333")
    assert code_in(warning) is None and "already" in warning and "/auth/reset" in warning
    assert code_in(last_sms("+966500000222"))


def test_a_code_works_ten_minutes_once(client, nora):
    ask_code(client)
    code = code_in(last_sms(NORA_MOBILE))
    with time_machine.travel(utcnow() + dt.timedelta(minutes=10, seconds=1)):
        assert sign_up(client, code).status_code == 422
    ask_code(client, NORA)  # a new code replaces the old one
    newer = code_in(last_sms(NORA_MOBILE))
    assert sign_up(client, newer).status_code == 303


def test_resends_are_spaced_and_capped_per_hour(client, nora):
    ask_code(client)
    response = client.post("/auth/register/resend", headers=EN)
    assert response.status_code == 200 and "You can ask for another in" in response.text
    assert Notice.select().count() == 1
    start = utcnow()
    for minute in range(1, 5):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            assert "A new code is on its way" in client.post("/auth/register/resend", headers=EN).text
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        response = client.post("/auth/register/resend", headers=EN)
        assert response.status_code == 429
        assert "This browser asked for 5 codes in the last hour. You can ask for another in 54 minutes" in response.text
        assert 53 * 60 < int(response.headers["Retry-After"]) <= 54 * 60 + 1
    assert Notice.select().count() == 5
    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        # the hour is over, but five codes are this network's share of the phone's day
        assert "asked for from your network today" in client.post("/auth/register/resend", headers=EN).text
        client.environ_base["REMOTE_ADDR"] = "10.0.7.7"  # the same phone on mobile data
        assert "A new code is on its way" in client.post("/auth/register/resend", headers=EN).text
        assert sign_up(client, code_in(last_sms(NORA_MOBILE))).status_code == 303


def browser(app, address):
    """A browser of its own (its own session) on the network `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_code_already_sent_keeps_working_whatever_others_ask(app, nora):
    """The finding: a stranger typing the owner's number a minute later replaced the
    owner's code (and shared the owner's hourly allowance)."""
    owner = browser(app, "10.0.0.1")
    ask_code(owner)
    code = code_in(last_sms(NORA_MOBILE))
    start = utcnow()
    for minute in range(1, 6):  # five strangers' browsers, each after the spacing
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            assert ask_code(browser(app, f"10.0.1.{minute}")).status_code == 303
    assert Notice.select().count() == 6  # each stranger's code went to the owner's phone, as asked
    with time_machine.travel(start + dt.timedelta(minutes=7), tick=False):
        assert sign_up(owner, code).status_code == 303


def test_a_stranger_on_one_network_cannot_keep_the_owner_from_a_code(app, nora):
    """A stranger may ask again and again from new browsers: their network gets half
    the phone's daily allowance, and the owner elsewhere still gets a code at once."""
    start = utcnow()
    for minute in range(5):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            assert ask_code(browser(app, "10.0.9.9")).status_code == 303
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        refused = ask_code(browser(app, "10.0.9.9"))
        assert refused.status_code == 429 and "asked for from your network today" in refused.text
        assert Notice.select().count() == 5
        owner = browser(app, "10.0.0.1")
        assert ask_code(owner).status_code == 303
        assert sign_up(owner, code_in(last_sms(NORA_MOBILE))).status_code == 303


def test_a_phone_gets_at_most_ten_codes_a_day_and_the_page_says_so(app, nora):
    start = utcnow()
    for minute in range(10):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            assert ask_code(browser(app, f"10.0.{minute % 2}.1")).status_code == 303
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=30), tick=False):
        refused = ask_code(browser(app, "10.0.5.1"))
        assert refused.status_code == 429
        assert "has received the most codes allowed in one day (10)" in refused.text
        assert "You can ask for another in 1 hour" in refused.text
        assert 1790 < int(refused.headers["Retry-After"]) <= 1801
    assert Notice.select().count() == 10
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        assert ask_code(browser(app, "10.0.5.1")).status_code == 303


def test_two_parallel_asks_from_one_browser_send_one_code(app, monkeypatch):
    """Two asks of one browser can read its row before either writes (PostgreSQL
    reads committed rows): the second is told to wait, never sent."""
    with app.app_context(), db.connection_context():
        registry_entry("Nora Fahad", NORA, NORA_MOBILE)
        ask = dict(purpose="signup", id_number=NORA, mobile=NORA_MOBILE, holder="session-a", network="10.0.0.1")
        monkeypatch.setattr(OneTimeCode, "get_or_none", classmethod(lambda cls, *where: None))
        OneTimeCode.issue(**ask)
        with pytest.raises(CodeNotSent):
            OneTimeCode.issue(**ask)
        monkeypatch.undo()
        read_by_both = OneTimeCode.get()
        with time_machine.travel(utcnow() + dt.timedelta(minutes=2)):
            OneTimeCode.issue(**ask)
            monkeypatch.setattr(OneTimeCode, "get_or_none", classmethod(lambda cls, *where: read_by_both))
            with pytest.raises(CodeNotSent):
                OneTimeCode.issue(**ask)
        assert [(row.holder, row.sends_this_hour) for row in OneTimeCode.select()] == [("session-a", 2)]
        assert CodeSent.select().count() == 2


def test_the_code_steps_need_the_first_step(client):
    assert client.get("/auth/register/code").headers["Location"] == "/auth/register"
    assert client.post("/auth/register/resend").headers["Location"] == "/auth/register"
    assert client.get("/auth/reset/code").headers["Location"] == "/auth/reset"


# ------------------------------------------------------------------ forgotten password

def test_forgotten_password_a_code_then_a_new_one_and_every_session_ends(app, resident):
    with db.connection_context():
        User.update(mobile="+966500000444").where(User.id == resident.id).execute()
        Person.update(mobile="+966500000444").where(Person.id_number == resident.id_number).execute()
    elsewhere = app.test_client()
    sign_in_client(elsewhere, "amal")
    client = app.test_client()
    assert ask_code(client, resident.id_number, "reset").headers["Location"] == "/auth/reset/code"
    code = code_in(last_sms("+966500000444"))
    response = client.post("/auth/reset/code", data=dict(code=code, password="a-brand-new-pass",
                                                         confirm="a-brand-new-pass"), headers=EN)
    assert response.status_code == 303 and response.headers["Location"] == "/auth/reset/done"
    done = client.get("/auth/reset/done", headers=EN)  # a refresh sends nothing again
    assert done.status_code == 200 and "every session of your account has ended" in done.text
    assert elsewhere.get("/requests/").status_code == 302
    assert "تغيّرت كلمة مرور حسابك" in last_sms("+966500000444")  # her language: Arabic, the default
    assert sign_in_client(client, "amal").status_code == 422
    assert sign_in_client(client, "amal", "a-brand-new-pass").status_code == 303


def test_a_new_password_ends_the_sign_in_pause_the_message_spoke_of(app, resident):
    with db.connection_context():
        Person.update(mobile="+966500000555").where(Person.id_number == resident.id_number).execute()
    client = app.test_client()
    for _ in range(5):
        client.post("/auth/login", data={"username": "amal", "password": "wrong-password-1"})
    assert sign_in_client(client, "amal").status_code == 422  # paused
    ask_code(client, resident.id_number, "reset")
    client.post("/auth/reset/code", data=dict(code=code_in(last_sms("+966500000555")),
                                              password="a-brand-new-pass", confirm="a-brand-new-pass"))
    assert sign_in_client(client, "amal", "a-brand-new-pass").status_code == 303


def test_reset_for_a_number_without_an_account_sends_no_code(client, nora):
    assert ask_code(client, NORA, "reset").headers["Location"] == "/auth/reset/code"
    text = last_sms(NORA_MOBILE)
    assert code_in(text) is None and "no account" in text and "/auth/register" in text
    response = client.post("/auth/reset/code", data=dict(code="123456", password="a-brand-new-pass",
                                                         confirm="a-brand-new-pass"), headers=EN)
    assert response.status_code == 422 and "wrong or has expired" in response.text


def test_login_and_logout(client, resident):
    response = sign_in_client(client)
    assert response.status_code == 303
    assert client.get("/requests/").status_code == 200
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 303
    assert client.get("/requests/").status_code == 302


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


def test_language_switch_is_kept_for_the_session_and_the_user(client, resident):
    sign_in_client(client)
    assert 'lang="ar" dir="rtl"' in client.get("/requests/").get_data(as_text=True)
    response = client.post("/auth/language", data={"lang": "en", "next": "/requests/"})
    assert response.status_code == 303 and response.headers["Location"] == "/requests/"
    assert 'lang="en" dir="ltr"' in client.get("/requests/").get_data(as_text=True)
    assert User.get_by_id(resident.id).locale == "en"
    client.post("/auth/logout")
    sign_in_client(client)  # a new session takes the language from the account
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
    ("/auth/register", {"id_number": "1\x00"}),
])
def test_a_nul_character_is_a_clear_400_on_every_engine(client, path, data):
    response = client.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "not right" in response.get_data(as_text=True)
    inquiry = client.get("/inquiry?number=%00", headers={"Accept-Language": "en"})  # before the sign-in redirect
    assert inquiry.status_code == 400 and "not right" in inquiry.get_data(as_text=True)


# ------------------------------------------------------------------ found from outside (issue 14)

@pytest.mark.parametrize("purpose, first_step", [("register", "/auth/register"), ("reset", "/auth/reset")])
def test_the_registry_dropping_the_mobile_between_the_steps_is_a_clear_4xx(client, nora, purpose, first_step):
    ask_code(client, purpose=purpose)
    code = code_in(last_sms(NORA_MOBILE))
    with db.connection_context():
        Person.update(mobile=None).where(Person.id_number == NORA).execute()
    for response in (client.get(f"{first_step}/code", headers=EN),
                     client.post(f"{first_step}/code", headers=EN,
                                 data=dict(ACCOUNT, code=code)),
                     client.post(f"{first_step}/resend", headers=EN)):
        assert response.status_code == 409, response.status_code
        assert "The registry holds no mobile number for this identity number" in response.text
    assert User.select().count() == 0


@pytest.mark.parametrize("page", ["/auth/login", "/auth/register"])
def test_signed_in_staff_land_on_the_staff_side_and_residents_on_their_requests(app, officer, resident, page):
    staff, citizen = app.test_client(), app.test_client()
    sign_in_client(staff, "noura")
    sign_in_client(citizen, "amal")
    assert staff.get(page).headers["Location"] == "/staff/"
    assert citizen.get(page).headers["Location"] == "/requests/"


def test_a_password_shorter_than_twelve_set_before_still_signs_in_until_changed(client, resident):
    with db.connection_context():
        User.get(User.username == "amal").change_password("ten-chars!")
    assert sign_in_client(client, "amal", "ten-chars!").status_code == 303
    refused = client.post("/auth/account/password", headers=EN, data=dict(
        current="ten-chars!", password="eleven-char", confirm="eleven-char"))
    assert refused.status_code == 422 and "12 to 128 characters" in refused.text


@pytest.mark.parametrize("post, data, comes_back_to", [
    ("/auth/login", {"username": "amal", "password": "wrong-password-1"}, "/auth/login"),
    ("/auth/register", {"id_number": "12345"}, "/auth/register"),
    ("/auth/register/code", dict(ACCOUNT, code="12"), "/auth/register/code"),
    ("/auth/register/resend", {}, "/auth/register/code"),
])
def test_the_language_switch_on_a_page_shown_after_a_post_returns_to_that_page(
        client, nora, resident, post, data, comes_back_to):
    ask_code(client)
    page = client.post(post, data=data, headers=EN)
    assert page.status_code in (200, 422)
    back = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
    assert back == comes_back_to
    switched = client.post("/auth/language", data={"lang": "ar", "next": back})
    assert switched.headers["Location"] == comes_back_to
    assert client.get(comes_back_to).status_code == 200


def test_spent_codes_and_the_day_old_sms_log_are_purged(app, nora):
    ask_code(browser(app, "10.0.0.1"))
    with time_machine.travel(utcnow() + dt.timedelta(hours=25), tick=False):
        ask_code(browser(app, "10.0.0.2"))
        result = app.test_cli_runner().invoke(args=["sessions", "purge"])
        assert result.exit_code == 0 and "2 spent code record(s)" in result.output
    with db.connection_context():
        assert OneTimeCode.select().count() == 1 and CodeSent.select().count() == 1  # the fresh one stays
