"""SMS notices: a return or a decision queues one SMS in the resident's language, in
the same transaction as the change; `flask notices deliver` sends the outbox to a
real HTTP gateway on 127.0.0.1 that fails, hangs and goes away, and nothing is lost
or sent twice; the demo outbox page; the counts on the figures page."""
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from app import create_app
from cli.notices import deliver_due, gateway_from
from models import (
    ACCEPTED,
    REJECTED,
    RETURNED,
    UNDER_REVIEW,
    ActionRefused,
    Event,
    Notice,
    ServiceRequest,
    User,
    db,
    mask_mobile,
)
from models.notices import DELIVERED, FAILED, PENDING, STAFF_NOTICE_KIND
from tests.factories import TEST_SECRET_KEY, make_user, sign_in_client

MOBILE = "+966501234567"
PUBLIC_URL = "https://tawasul.example"
REASON = "The photo is older than six months"
T0 = dt.datetime(2026, 5, 10, 9, 0, tzinfo=dt.UTC)
TOKEN = "s3cret-gateway-token"
EN = {"Accept-Language": "en"}


def naive(moment):
    return moment.replace(tzinfo=None)


class Gateway:
    """An SMS gateway on a loopback port. `answer` is the HTTP status it replies
    with, or "hang" (no answer until the test ends). It keeps every request it got
    and the ids it accepted (answered 2xx)."""

    def __init__(self):
        self.answer, self.port, self.requests, self.accepted = 200, 0, [], []
        self.lock, self.released = threading.Lock(), threading.Event()
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/sms"

    def start(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.requests.append(dict(path=self.path, headers=dict(self.headers), body=body))
                answer = gateway.answer
                if answer == "hang":
                    gateway.released.wait(30)
                    return
                if 200 <= answer < 300:
                    with gateway.lock:
                        gateway.accepted.append(body["id"])
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        """Connection refused from now on, until start() again on the same port."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app):
    gateway = Gateway()
    app.config.update(SMS_GATEWAY="http", SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN=TOKEN,
                      SMS_GATEWAY_TIMEOUT=3)
    yield gateway
    gateway.released.set()
    gateway.stop()


@pytest.fixture
def mobile_resident(app, resident):
    User.update(mobile=MOBILE, locale="en").where(User.id == resident.id).execute()
    app.config["PUBLIC_URL"] = PUBLIC_URL + "/"
    return User.get_by_id(resident.id)


def queue(count, kind="test"):
    for index in range(count):
        Notice.queue(f"test-{index}", MOBILE, f"Message {index}", kind)
    return [f"test-{index}" for index in range(count)]


def deliver_once(app):
    result = app.test_cli_runner().invoke(args=["notices", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    return "\n".join(line for line in result.output.splitlines() if not line.startswith("{")).strip()  # no log lines


def notice(key):
    return Notice.get(Notice.key == key)


# ------------------------------------------------------------------ decisions queue notices

@pytest.mark.parametrize("status, words", [(RETURNED, "needs more information"), (ACCEPTED, "was accepted"),
                                           (REJECTED, "was rejected")])
def test_a_return_or_decision_queues_one_sms_with_the_number_and_link(app, mobile_resident, service_request,
                                                                      status, words):
    with app.app_context():
        service_request.change_status(UNDER_REVIEW)
        assert Notice.select().count() == 0
        service_request.change_status(status, message=REASON)
    sent = Notice.get()
    event = Event.get((Event.request == service_request) & (Event.status == status))
    assert (sent.key, sent.to, sent.kind, sent.status) == (
        f"request-{service_request.number}-{event.id}", MOBILE, status, PENDING)
    assert words in sent.text and service_request.number in sent.text
    assert f"{PUBLIC_URL}/requests/{service_request.number}" in sent.text
    assert REASON not in sent.text


def test_the_sms_is_in_arabic_unless_the_resident_chose_english(app, mobile_resident, service_request):
    User.update(locale=None).where(User.id == mobile_resident.id).execute()
    with app.app_context():
        service_request.change_status(UNDER_REVIEW)
        service_request.change_status(ACCEPTED)
    url = f"{PUBLIC_URL}/requests/{service_request.number}"
    with app.test_request_context(), force_locale("ar"):
        arabic = _("Tawasul: your request %(number)s was accepted. Details: %(url)s",
                   number=service_request.number, url=url)
    assert Notice.get().text == arabic


def test_an_account_without_a_mobile_gets_no_sms(app, resident, service_request):
    with app.app_context():
        service_request.change_status(UNDER_REVIEW)
        service_request.change_status(ACCEPTED)
    assert ServiceRequest.get_by_id(service_request.id).status == ACCEPTED
    assert Notice.select().count() == 0


def test_a_refused_change_and_the_answer_queue_nothing(app, mobile_resident, service_request):
    with app.app_context():
        with pytest.raises(ActionRefused):
            service_request.change_status(ACCEPTED)  # not under review yet
        service_request.change_status(UNDER_REVIEW)
        with pytest.raises(ActionRefused):
            service_request.change_status(REJECTED)  # no reason
        service_request.change_status(RETURNED, message=REASON)
        ServiceRequest.get_by_id(service_request.id).answer(mobile_resident, "Here it is.", [])
    assert [n.kind for n in Notice.select()] == [RETURNED]


def test_the_status_change_and_its_notice_are_one_transaction(app, mobile_resident, service_request, monkeypatch):
    with app.app_context():
        service_request.change_status(UNDER_REVIEW)

        def broken(*args, **kwargs):
            Notice.insert(key="partial", to=MOBILE, text="x", kind="x").execute()
            raise RuntimeError("the outbox failed")
        monkeypatch.setattr(Notice, "queue", broken)
        with pytest.raises(RuntimeError):
            service_request.change_status(ACCEPTED)
    assert ServiceRequest.get_by_id(service_request.id).status == UNDER_REVIEW
    assert Event.select().where(Event.status == ACCEPTED).count() == 0
    assert Notice.select().count() == 0


def test_set_status_from_the_command_line_queues_the_sms(app, mobile_resident, service_request, runner):
    assert runner.invoke(args=["requests", "set-status", service_request.number, UNDER_REVIEW]).exit_code == 0
    result = runner.invoke(args=["requests", "set-status", service_request.number, REJECTED, "--reason", REASON])
    assert result.exit_code == 0, result.output
    sent = Notice.get()
    assert sent.kind == REJECTED and REASON not in sent.text and service_request.number in sent.text


def staff_client(app, username="noura"):
    """Signed in as staff: the password, then a code from the account's TOTP app."""
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def test_a_staff_decision_on_the_page_queues_the_sms(app, mobile_resident, service_request):
    make_user("noura", None, role="officer", full_name="Noura Officer")
    client, number = staff_client(app), service_request.number
    assert client.post(f"/staff/requests/{number}/start", headers=EN).status_code == 303
    decision = dict(decision=ACCEPTED, reason_choice=0, reason="Renewed.")
    assert client.post(f"/staff/requests/{number}/decide", data=decision, headers=EN).status_code == 303
    assert [(n.kind, "Renewed." in n.text) for n in Notice.select()] == [(ACCEPTED, False)]


# ------------------------------------------------------------------ delivery

def test_delivered_with_the_right_body_and_token(app, gateway, time_machine):
    time_machine.move_to(T0, tick=False)
    keys = queue(3)
    assert deliver_once(app) == "3 delivered, 0 to retry, 0 failed."
    assert sorted(gateway.accepted) == keys
    first = next(r for r in gateway.requests if r["body"]["id"] == "test-0")
    assert first["path"] == "/sms" and first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["body"] == {"id": "test-0", "to": MOBILE, "text": "Message 0"}
    row = notice("test-0")
    assert (row.status, row.attempts, row.delivered_at, row.last_error) == (DELIVERED, 1, naive(T0), None)
    assert deliver_once(app) == "0 delivered, 0 to retry, 0 failed."
    assert len(gateway.requests) == 3


@pytest.mark.alone
@pytest.mark.parametrize("outage", ["500", "hang", "down"])
def test_an_outage_delays_notices_and_loses_or_doubles_none(app, gateway, time_machine, outage):
    time_machine.move_to(T0, tick=False)
    keys = queue(4)
    if outage == "down":
        gateway.stop()
    else:
        gateway.answer = 500 if outage == "500" else "hang"
        app.config["SMS_GATEWAY_TIMEOUT"] = 0.1
    assert deliver_once(app) == "0 delivered, 4 to retry, 0 failed."
    for key in keys:
        row = notice(key)
        assert (row.status, row.attempts, row.next_try_at) == (PENDING, 1, naive(T0) + dt.timedelta(seconds=10))
        assert row.last_error
    assert deliver_once(app) == "0 delivered, 0 to retry, 0 failed."  # nothing due before its time

    time_machine.move_to(T0 + dt.timedelta(seconds=10), tick=False)
    assert deliver_once(app) == "0 delivered, 4 to retry, 0 failed."
    assert notice(keys[0]).next_try_at == naive(T0) + dt.timedelta(seconds=30)  # then 20 s

    if outage == "down":
        gateway.start()
    gateway.answer = 200
    time_machine.move_to(T0 + dt.timedelta(seconds=30), tick=False)
    assert deliver_once(app) == "4 delivered, 0 to retry, 0 failed."
    assert sorted(gateway.accepted) == keys  # each exactly once
    assert {(n.status, n.attempts) for n in Notice.select()} == {(DELIVERED, 3)}


def test_retries_wait_longer_each_time_up_to_ten_minutes_then_fail_after_a_day(app, gateway, time_machine):
    time_machine.move_to(T0, tick=False)
    queue(1)
    gateway.answer = 503
    now, waits = T0, []
    for _attempt in range(9):
        time_machine.move_to(now, tick=False)
        deliver_once(app)
        waits.append((notice("test-0").next_try_at - naive(now)).total_seconds())
        now = now + dt.timedelta(seconds=waits[-1])
    assert waits == [10, 20, 40, 80, 160, 320, 600, 600, 600]
    time_machine.move_to(T0 + dt.timedelta(hours=24), tick=False)
    assert deliver_once(app) == "0 delivered, 0 to retry, 1 failed."
    row = notice("test-0")
    assert (row.status, row.attempts) == (FAILED, 10) and "503" in row.last_error
    time_machine.move_to(T0 + dt.timedelta(hours=25), tick=False)
    assert deliver_once(app) == "0 delivered, 0 to retry, 0 failed."


@pytest.mark.parametrize("answer, status", [(400, FAILED), (404, FAILED), (408, PENDING), (429, PENDING)])
def test_a_refused_message_fails_at_once_but_busy_is_retried(app, gateway, time_machine, answer, status):
    time_machine.move_to(T0, tick=False)
    queue(1)
    gateway.answer = answer
    deliver_once(app)
    row = notice("test-0")
    assert (row.status, row.attempts) == (status, 1) and str(answer) in row.last_error


def test_two_workers_send_each_notice_once(app, gateway):
    """Two workers, each on its own connection, empty the outbox together."""
    keys = sorted(queue(40))
    send = gateway_from(app.config, app.logger)
    db.close()
    barrier, counts, errors = threading.Barrier(2), [], []

    def worker():
        with db.connection_context():
            barrier.wait()
            try:
                counts.append(deliver_due(send, batch=3))
            except Exception as error:  # shown by the assertion below
                errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.connect(reuse_if_open=True)
    assert errors == []
    assert sorted(gateway.accepted) == keys and len(gateway.requests) == 40
    assert sum(c[DELIVERED] for c in counts) == 40
    assert {(n.status, n.attempts) for n in Notice.select()} == {(DELIVERED, 1)}


def test_the_log_gateway_notes_each_message_by_its_key_never_its_mobile_or_text(
        app, caplog, mobile_resident, service_request):
    with app.app_context():
        service_request.change_status(UNDER_REVIEW)
        service_request.change_status(ACCEPTED)
    assert deliver_once(app) == "1 delivered, 0 to retry, 0 failed."
    sent = Notice.get()
    assert sent.status == DELIVERED and f"SMS {sent.key} to {mask_mobile(MOBILE)}" in caplog.text
    assert MOBILE not in caplog.text and MOBILE[4:] not in caplog.text and sent.text not in caplog.text


@pytest.mark.parametrize("config, message", [
    (dict(SMS_GATEWAY="http", SMS_GATEWAY_URL=None), "FLASK_SMS_GATEWAY_URL"),
    (dict(SMS_GATEWAY="pigeon"), "Unknown SMS_GATEWAY"),
])
def test_a_gateway_that_is_not_configured_is_refused(app, config, message):
    app.config.update(config)
    result = app.test_cli_runner().invoke(args=["notices", "deliver", "--once"])
    assert result.exit_code == 1 and message in result.output


# ------------------------------------------------------------------ demo outbox and figures

def test_the_outbox_page_exists_only_in_demo_mode(app, time_machine):
    assert app.test_client().get("/dev/outbox").status_code == 404
    db.close()
    demo = create_app(dict(TESTING=True, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=app.config["DATABASE_URL"],
                           RATELIMIT_ENABLED=False, DEMO=True))
    time_machine.move_to(T0, tick=False)
    Notice.queue("older", MOBILE, "Tawasul: 111111 is your code", "signup")
    time_machine.move_to(T0 + dt.timedelta(minutes=1), tick=False)
    Notice.queue("newer", "+966509999999", "Tawasul: 222222 is your code", "signup")
    response = demo.test_client().get("/dev/outbox", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "SMS outbox" in html
    assert html.index("222222") < html.index("111111") and "+966509999999" in html and "Waiting" in html


def test_the_figures_show_notices_pending_failed_and_delivered(app, resident):
    make_user("noura", None, role="officer", full_name="Noura Officer")
    queue(6)
    Notice.update(status=DELIVERED).where(Notice.key.in_(["test-0", "test-1", "test-2"])).execute()
    Notice.update(status=FAILED).where(Notice.key == "test-3").execute()
    Notice.queue("staff-reminder", "+966500000901", "Tawasul: 3 requests you hold are due", STAFF_NOTICE_KIND)
    html = staff_client(app).get("/staff/figures", headers=EN).get_data(as_text=True)
    assert "SMS notices to residents" in html
    assert '<td id="notices-pending">2</td>' in html and '<td id="notices-delivered">3</td>' in html
    assert '<td id="notices-failed"><strong class="overdue">1</strong></td>' in html
