"""Every form field that takes digits reads Arabic-Indic (٠-٩) and Persian (۰-۹)
digits as ASCII, through one normalising step (web/fields.LatinDigits), and answers
anything else with a 4xx and a message, never a 500."""
import datetime as dt
import importlib

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from models import RecoveryCode, User, db, riyadh_today
from tests.factories import (
    PASSWORD,
    code_in,
    last_sms,
    make_id_number,
    registry_entry,
    second_factor_code,
    sign_in_client,
)
from tests.test_requests import form as request_form
from web.fields import LatinDigits

EN = {"Accept-Language": "en"}
ARABIC_INDIC, PERSIAN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JUNK = ["١٢٣abc", "é", "😀", "１２３４５６", "²", "1" * 3000, "٣ ٣", "<script>"]
NORA, NORA_MOBILE = "1000000008", "+966551234567"


def fields_that_take_digits():
    """(form class, field name) of every field of the blueprints' forms that reads digits."""
    found = set()
    for area in ("auth", "home", "requests", "staff"):
        module = importlib.import_module(f"blueprints.{area}.forms")
        for form in vars(module).values():
            if isinstance(form, type) and issubclass(form, FlaskForm) and form.__module__ == module.__name__:
                found |= {(form.__name__, name) for name in dir(form)
                          if isinstance(getattr(form, name), UnboundField)
                          and issubclass(getattr(form, name).field_class, LatinDigits)}
    return found


# Each field that takes digits, walked by a scenario below; a new one must join the walk.
WALKED = {("IdentityForm", "id_number"), ("NewAccountForm", "code"), ("NewPasswordForm", "code"),
          ("SecondFactorForm", "code"), ("InquiryForm", "number"), ("RequestForm", "id_number"),
          ("QueueForm", "q"), ("PeriodForm", "start"), ("PeriodForm", "end"), ("AwayForm", "until")}


def test_every_field_that_takes_digits_goes_through_the_one_normalising_step():
    assert fields_that_take_digits() == WALKED


def typed(value, digits):
    return value.translate(digits) if digits else value


# ------------------------------------------------------------------ the scenarios: a value typed, the answer

def identity_number(app, value):
    registry_entry("Nora Fahad", NORA, NORA_MOBILE)
    return app.test_client().post("/auth/register", data={"id_number": value}, headers=EN)


def sign_up_code(app, value, purpose="register"):
    registry_entry("Nora Fahad", NORA, NORA_MOBILE)
    client = app.test_client()
    if purpose == "reset":
        with db.connection_context():
            User.create(username="nora", full_name="Nora", id_number=NORA, password_hash="x")
    client.post(f"/auth/{purpose}", data={"id_number": NORA})
    code = code_in(last_sms(NORA_MOBILE))
    data = dict(code=value.replace("CODE", code), username="nora", password="long-enough-pass-7",
                confirm="long-enough-pass-7")
    return client.post(f"/auth/{purpose}/code", data=data, headers=EN)


def reset_code(app, value):
    return sign_up_code(app, value, "reset")


def staff_code(app, value):
    client = app.test_client()
    client.post("/auth/login", data={"username": "noura", "password": PASSWORD})
    code = second_factor_code("noura")
    return client.post("/auth/login/code", data={"code": value.replace("CODE", code)}, headers=EN)


def signed_in(app, username):
    client = app.test_client()
    sign_in_client(client, username)
    return client


def inquiry(app, value, resident_request):
    return signed_in(app, "amal").get("/inquiry", query_string={"number": value}, headers=EN)


def person_number(app, value, resident_request):
    client = signed_in(app, "amal")
    with db.connection_context():
        owner = User.get(User.username == "amal")
    data = request_form(owner, person="", id_number=value)
    return client.post("/requests/new", data=data, content_type="multipart/form-data", headers=EN)


def queue_search(app, value, resident_request):
    return signed_in(app, "noura").get("/staff/", query_string={"q": value}, headers=EN)


def figures_period(app, value, resident_request):
    return signed_in(app, "fahad").get("/staff/figures", query_string={"start": value, "end": value}, headers=EN)


def team_away(app, value):
    return signed_in(app, "fahad").post("/staff/team/noura/away", data={"until": value}, headers=EN)


SCENARIOS = {("IdentityForm", "id_number"): identity_number, ("NewAccountForm", "code"): sign_up_code,
             ("NewPasswordForm", "code"): reset_code, ("SecondFactorForm", "code"): staff_code,
             ("InquiryForm", "number"): inquiry, ("RequestForm", "id_number"): person_number,
             ("QueueForm", "q"): queue_search, ("PeriodForm", "start"): figures_period,
             ("PeriodForm", "end"): figures_period, ("AwayForm", "until"): team_away}
NEEDS_REQUEST = {inquiry, person_number, queue_search, figures_period}


def run(scenario, app, value, request):
    if scenario in NEEDS_REQUEST:
        return scenario(app, value, request.getfixturevalue("service_request"))
    return scenario(app, value)


@pytest.fixture
def people(resident, officer, supervisor):
    return resident


@pytest.mark.parametrize("digits", [None, ARABIC_INDIC, PERSIAN], ids=["ascii", "arabic-indic", "persian"])
@pytest.mark.parametrize("walked", sorted(WALKED), ids=lambda w: ".".join(w))
def test_arabic_indic_and_persian_digits_are_read_as_ascii(app, people, request, walked, digits):
    """The right value typed in each kind of digits gets the same answer: done (303),
    or the page without an error (200)."""
    scenario = SCENARIOS[walked]
    if scenario in (sign_up_code, reset_code, staff_code):  # the code is known once sent: typed then
        response = run(scenario, app, Typed("CODE", digits), request)
    else:
        right = {identity_number: NORA, figures_period: "2026-11-01",
                 team_away: (riyadh_today() + dt.timedelta(days=30)).isoformat()}.get(scenario)
        right = right or request.getfixturevalue("service_request").number
        if scenario is person_number:
            right = make_id_number(2, 11111111)  # Yusuf, linked to amal
        response = run(scenario, app, typed(right, digits), request)
    assert response.status_code in (200, 303), (walked, response.status_code)
    if response.status_code == 200:
        assert 'class="errors"' not in response.text, walked
    if scenario is queue_search:
        assert request.getfixturevalue("service_request").number in response.text


class Typed(str):
    """A value to type into a code field once the code is known: `replace` puts the
    code in, written in `digits`."""

    def __new__(cls, value, digits):
        typed_value = super().__new__(cls, value)
        typed_value.digits = digits
        return typed_value

    def replace(self, old, new, count=-1):
        return str.replace(self, old, typed(new, self.digits))


@pytest.mark.parametrize("junk", JUNK, ids=range(len(JUNK)))
@pytest.mark.parametrize("walked", sorted(WALKED), ids=lambda w: ".".join(w))
def test_anything_else_is_a_4xx_with_a_message_never_a_500(app, people, request, walked, junk):
    response = run(SCENARIOS[walked], app, junk, request)
    assert 400 <= response.status_code < 500, (walked, junk, response.status_code)
    assert 'class="errors"' in response.text, (walked, junk)


def test_a_recovery_code_typed_with_arabic_indic_digits_signs_in(app, officer):
    with app.app_context(), db.connection_context():
        recovery = RecoveryCode.replace_for(User.get(User.username == "noura"))[0]
    client = app.test_client()
    client.post("/auth/login", data={"username": "noura", "password": PASSWORD})
    typed_code = recovery.upper().translate(ARABIC_INDIC).replace("-", " - ")
    assert client.post("/auth/login/code", data={"code": typed_code}).status_code == 303
