"""The JSON log (web/logs.py): one line per request, answered by Flask or by the
unchanged-poll layer before it, named by its URL rule and account id; the request
id taken from the proxy or made, echoed and shown on error pages; and nothing a
resident typed or was sent (identity number, mobile, code, password, name) in any line."""
import io
import json
import re

import pytest

from models import ACCEPTED, Draft, Person, Reason, ServiceRequest, User, mask_mobile
from tests.conftest import HX, make_app
from tests.factories import PASSWORD, code_in, last_sms, make_id_number, minimal_pdf, registry_entry, second_factor_code

NORA_NAME = "Nora Fahad"
NORA = make_id_number(1, 10000000)
NORA_MOBILE = "+966551234567"
NORA_PASSWORD = "long-enough-pass-7"
EN = {"Accept-Language": "en"}
SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def request_lines(text):
    return [line for line in json_lines(text) if line.get("message") == "request"]


def arabic(digits):
    return digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def secrets_of_the_walk(codes):
    """Every form of what must never be logged."""
    local = NORA_MOBILE.removeprefix("+966")  # 551234567
    mobiles = [NORA_MOBILE, "966" + local, "0" + local, local]
    found = [NORA, arabic(NORA), NORA_NAME, NORA_PASSWORD, PASSWORD, *codes]
    return found + mobiles + [arabic(m.lstrip("+")) for m in mobiles]


class Walk:
    """A test client whose every request sends its own X-Request-ID and remembers
    what the log should say of it: (request id, status, route)."""

    def __init__(self, client):
        self.client = client
        self.sent = []

    def __call__(self, method, path, route, **kwargs):
        request_id = f"walk-{len(self.sent)}.{method.lower()}"
        headers = dict(kwargs.pop("headers", {}), **{"X-Request-ID": request_id})
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.headers["X-Request-ID"] == request_id  # echoed
        self.sent.append((request_id, response.status_code, route))
        return response


def test_a_walk_from_sign_up_to_a_decision_logs_one_line_a_request_and_nothing_personal(
        app, officer, capfd, caplog):
    registry_entry(NORA_NAME, NORA, NORA_MOBILE)
    walk = Walk(app.test_client())
    walk("GET", "/auth/register", "/auth/register", headers=EN)
    assert walk("POST", "/auth/register", "/auth/register", data={"id_number": arabic(NORA)}).status_code == 303
    code = code_in(last_sms(NORA_MOBILE))
    signed_up = walk("POST", "/auth/register/code", "/auth/register/code", data=dict(
        username="nora", password=NORA_PASSWORD, confirm=NORA_PASSWORD, code=arabic(code)))
    assert signed_up.status_code == 303
    nora = User.get(User.username == "nora")

    walk("GET", "/requests/new", "/requests/new")
    person = Person.get(Person.id_number == NORA)
    new = walk("POST", "/requests/new", "/requests/new", content_type="multipart/form-data", data=dict(
        service="passport", person=str(person.id), id_number="",
        description="My passport expires next month and I need it renewed soon.",
        documents=[(io.BytesIO(minimal_pdf()), "passport.pdf")]))
    assert new.status_code == 303
    walk("GET", new.headers["Location"], "/requests/new/check")
    sent = walk("POST", "/requests/new/confirm", "/requests/new/confirm", data={"draft": Draft.get().token})
    number = ServiceRequest.get().number
    assert sent.headers["Location"] == f"/requests/{number}/confirmation"
    page = walk("GET", f"/requests/{number}", "/requests/<number>").text
    version = re.search(r'"X-Shown-Version": "([^"]+)"', page).group(1)
    poll = dict(HX, **{"X-Shown-Version": version})
    unchanged = walk("GET", f"/requests/{number}/status", "/requests/<number>/status", headers=poll)
    assert unchanged.status_code == 204  # answered before Flask (web/fastpoll.py), logged all the same
    poll_id = walk.sent[-1][0]

    staff = Walk(app.test_client())
    staff.sent = walk.sent  # one list: every request of the walk
    step = staff("POST", "/auth/login", "/auth/login", data={"username": "noura", "password": PASSWORD})
    totp = second_factor_code("noura", app)
    staff("POST", step.headers["Location"], "/auth/login/code", data={"code": totp})
    assert staff("POST", f"/staff/requests/{number}/start", "/staff/requests/<number>/start").status_code == 303
    decided = staff("POST", f"/staff/requests/{number}/decide", "/staff/requests/<number>/decide",
                    data=dict(decision=ACCEPTED, reason_choice=Reason.get(Reason.code == "done").id, reason="Done."))
    assert decided.status_code == 303

    delivered = app.test_cli_runner().invoke(args=["notices", "deliver", "--once"])  # the log gateway
    assert delivered.exit_code == 0 and "2 delivered" in delivered.output  # the code, the decision
    worker_lines = json_lines(delivered.output)
    assert [line["message"].split(" ")[0] for line in worker_lines] == ["SMS", "SMS"]

    out, err = capfd.readouterr()
    lines = request_lines(out)
    for request_id, status, route in walk.sent:
        mine = [line for line in lines if line["request_id"] == request_id]
        assert len(mine) == 1, (request_id, mine)
        method = request_id.split(".")[1].upper()
        assert (mine[0]["status"], mine[0]["route"], mine[0]["method"]) == (status, route, method)
        assert mine[0]["client"] == "127.0.0.1" and mine[0]["duration_ms"] >= 0
    by_id = {line["request_id"]: line for line in lines}
    assert by_id[walk.sent[-1][0]]["account"] == officer.id  # the decision: the officer, by id
    assert by_id[poll_id]["account"] == nora.id  # the unchanged poll: Nora, by id
    assert number not in json.dumps(lines)  # a route, never the real path

    logged = "\n".join([out, err, delivered.output, caplog.text]
                       + [json.dumps(vars(r), default=str, ensure_ascii=False) for r in caplog.records])
    for secret in secrets_of_the_walk([code, totp]):
        assert secret not in logged, secret
    assert all(mask_mobile(NORA_MOBILE) in line["message"] for line in worker_lines)  # masked, at most


@pytest.mark.parametrize("sent", ["has space", "x" * 65, "semi;colon", "slash/", ""])
def test_a_request_id_that_is_not_a_sane_token_is_replaced(client, capfd, sent):
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    made = response.headers["X-Request-ID"]
    assert made != sent and SANE.fullmatch(made)
    assert [line["request_id"] for line in request_lines(capfd.readouterr().out)] == [made]


def test_the_longest_sane_request_id_is_kept(client, capfd):
    sent = "A-z_0.9" + "x" * 57
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent
    assert [line["request_id"] for line in request_lines(capfd.readouterr().out)] == [sent]


def test_the_client_address_is_the_one_the_proxy_saw(app, capfd):
    behind_proxy = make_app(app.config["DATABASE_URL"], PROXY_COUNT=1)
    behind_proxy.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert [line["client"] for line in request_lines(capfd.readouterr().out)] == ["203.0.113.9"]


def test_an_error_logs_its_traceback_with_the_request_id_and_the_page_shows_it(app, capfd):
    failing = make_app(app.config["DATABASE_URL"], PROPAGATE_EXCEPTIONS=False)

    def broken(number):
        raise ZeroDivisionError("the view failed")
    failing.add_url_rule("/broken/<number>", "broken", broken)
    response = failing.test_client().get("/broken/123456789", headers=dict(EN, **{"X-Request-ID": "ref-42"}))
    assert response.status_code == 500 and "Reference: ref-42" in response.text
    lines = [line for line in json_lines(capfd.readouterr().out) if line.get("request_id") == "ref-42"]
    error, = [line for line in lines if line["level"] == "error"]
    assert "ZeroDivisionError: the view failed" in error["traceback"] and error["route"] == "/broken/<number>"
    request, = [line for line in lines if line["message"] == "request"]
    assert (request["status"], request["route"]) == (500, "/broken/<number>")
    assert "123456789" not in json.dumps(lines)  # the real path is never written


def test_the_reference_is_translated(app):
    failing = make_app(app.config["DATABASE_URL"], PROPAGATE_EXCEPTIONS=False)
    failing.add_url_rule("/broken", "broken", lambda: 1 / 0)
    page = failing.test_client().get("/broken", headers={"X-Request-ID": "ref-7"}).text
    assert "المرجع: ref-7" in page
