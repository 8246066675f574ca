"""The deployment of deploy/ proven on one machine (`make stack-test`: deploy/stack.py
brings it up, this runs against it, then it comes down; never collected by the other
test runs, pytest.ini's norecursedirs): nginx with TLS in front of two gunicorn app
servers A and B, PostgreSQL, Redis for sessions and rate limits, two SMS workers and
the watcher, the SMS going to a recording gateway.

Everything goes through nginx (https, the self-signed certificate not checked). The
same browser reaches "server A" or "server B" through the stack's two extra nginx
servers, :8444 and :8445, which use the very locations file of the site with one app
server each (cookies belong to the host, not the port, so it is one session
throughout); :8443 is the site itself, both app servers behind it.

The tests run in file order and share one resident and one officer: the walk first,
then the rate limit, then the kill of server A, which leaves it dead."""
import gzip
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import signal
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import brotli
import pyotp
import pytest
from werkzeug.security import generate_password_hash

from app import open_database
from models import Notice, Person, Service, ServiceRequest, User, db, write_transaction
from models.samples import make_id_number
from tests.factories import minimal_pdf

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("deploy_stack", ROOT / "deploy" / "stack.py")
stack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stack)

PROXY = f"https://127.0.0.1:{stack.PROXY_PORT}"
SERVER = {"A": f"https://127.0.0.1:{stack.PINNED_PORTS[0]}", "B": f"https://127.0.0.1:{stack.PINNED_PORTS[1]}"}
GATEWAY = f"http://127.0.0.1:{stack.GATEWAY_PORT}/messages"
PASSWORD = "stack-walk-password-2026"
WAIT_SECONDS = 60  # for an SMS, a parked request: far beyond what each takes; then the test fails
TLS = ssl._create_unverified_context()  # the stack's self-signed certificate


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def csrf(self):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', self.text).group(1)

    def location(self):
        """The redirect's path and query (an absolute Location names the host nginx was asked for)."""
        parts = urllib.parse.urlsplit(self.headers["Location"])
        return parts.path + (f"?{parts.query}" if parts.query else "")


class Browser:
    """A browser's cookies; each request goes to `via` (the site, or server A or B
    through nginx) and follows no redirect."""

    def __init__(self, language="en"):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  urllib.request.HTTPSHandler(context=TLS), NoRedirect)
        self.language = language

    def send(self, method, path, via=PROXY, fields=None, files=None, headers=None):
        # A browser's Referer: over HTTPS, Flask-WTF accepts a form only from the same origin.
        headers = {"Accept-Language": self.language, "Referer": via + path, **(headers or {})}
        data = None
        if files is not None:
            data, headers["Content-Type"] = multipart(fields or {}, files)
        elif fields is not None:
            data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(via + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=WAIT_SECONDS + 30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def get(self, path, via=PROXY, **kwargs):
        return self.send("GET", path, via, **kwargs)

    def post(self, path, via=PROXY, **kwargs):
        return self.send("POST", path, via, **kwargs)


def multipart(fields, files):
    boundary = secrets.token_hex(16)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n"
              for name, (filename, kind, data) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def wait_for(what, found):
    """found()'s first true answer, asked again until it comes (at most WAIT_SECONDS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (answer := found()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.2)
    return answer


def sms_to(mobile):
    with urllib.request.urlopen(GATEWAY, timeout=10) as response:
        return [message for message in json.load(response) if message["to"] == mobile]


def gateway_messages():
    with urllib.request.urlopen(GATEWAY, timeout=10) as response:
        return json.load(response)


# ------------------------------------------------------------------ the stack's data

@pytest.fixture(scope="module")
def database():
    try:
        urllib.request.urlopen(PROXY + "/auth/login", context=TLS, timeout=10).read()
    except OSError as error:
        pytest.fail(f"the stack is not up ({error}): run `make stack-test`")
    db.initialize(open_database(stack.DATABASE_URL))
    with db.connection_context():
        yield db


@pytest.fixture(scope="module")
def people(database):
    """A registry entry with a mobile (no account yet) and an officer with a known
    second factor, both new."""
    suffix = secrets.randbelow(10**8)
    mobile = f"+9665{suffix:08d}"
    with write_transaction():
        person = Person.create(sponsor_id_number=make_id_number(1, suffix), id_number=make_id_number(1, suffix),
                               name="Stack Resident", nationality="SA", mobile=mobile)
        officer = User.create(username=f"stack-officer-{suffix}", full_name="Stack Officer", role="officer",
                              totp_secret=pyotp.random_base32(), password_hash=generate_password_hash(PASSWORD))
    return {"person": person, "officer": officer, "resident": Browser(), "filed": []}


def eligible_service(person):
    return next(service for service in Service.ordered() if not service.ineligibility(person))


def file_request(browser, person, via, confirm=True):
    """Through `via`: the form with a document, the check page, then (with `confirm`)
    the confirmation; the draft's token, and the request's number once filed."""
    form = browser.get("/requests/new", via)
    assert form.status == 200
    sent = browser.post("/requests/new", via, fields=dict(
        csrf_token=form.csrf(), draft="", service=eligible_service(person).code, person=str(person.id),
        description="My passport renewal is waiting: I travel for work next month, please."),
        files={"documents": ("passport.pdf", "application/pdf", minimal_pdf())})
    assert sent.status == 303, sent.text[:2000]
    check_url = sent.location()
    assert check_url.startswith("/requests/new/check?draft=")
    draft = urllib.parse.parse_qs(urllib.parse.urlsplit(check_url).query)["draft"][0]
    check = browser.get(check_url, via)
    assert check.status == 200
    if not confirm:
        return draft, check.csrf(), None
    done = browser.post("/requests/new/confirm", via, fields=dict(csrf_token=check.csrf(), draft=draft))
    assert done.status == 303 and done.location().endswith("/confirmation")
    return draft, check.csrf(), done.location().split("/")[2]


def sign_in_officer(browser, officer, via):
    page = browser.get("/auth/login", via)
    asked = browser.post("/auth/login", via, fields=dict(csrf_token=page.csrf(), username=officer.username,
                                                          password=PASSWORD))
    assert asked.status == 303 and asked.location().startswith("/auth/login/code")
    code_page = browser.get(asked.location(), via)
    signed = browser.post(asked.location(), via, fields=dict(csrf_token=code_page.csrf(),
                                                               code=pyotp.TOTP(officer.totp_secret).now()))
    assert signed.status == 303, signed.text[:2000]


# ------------------------------------------------------------------ the walk

def test_a_resident_signs_up_and_files_on_a_polls_on_b_and_an_officer_decides_on_b(people):
    resident, person = people["resident"], people["person"]
    first = resident.get("/auth/register", SERVER["A"])
    asked = resident.post("/auth/register", SERVER["A"], fields=dict(csrf_token=first.csrf(),
                                                                      id_number=person.id_number))
    assert asked.status == 303 and asked.location() == "/auth/register/code"
    sms = wait_for("the sign-up code's SMS", lambda: sms_to(person.mobile))
    code = re.search(r"\b(\d{6})\b", sms[0]["text"]).group(1)
    code_page = resident.get("/auth/register/code", SERVER["A"])
    opened = resident.post("/auth/register/code", SERVER["A"], fields=dict(
        csrf_token=code_page.csrf(), code=code, username=f"stack{person.id_number}", password=PASSWORD,
        confirm=PASSWORD))
    assert opened.status == 303 and opened.location() == "/requests/"

    _draft, _token, number = file_request(resident, person, SERVER["A"])
    people["filed"].append(number)
    poll = resident.get(f"/requests/{number}/status", SERVER["B"], headers={"HX-Request": "true"})
    assert poll.status == 200 and "Received" in poll.text  # the session and the request, seen from B

    officer = Browser()
    sign_in_officer(officer, people["officer"], SERVER["B"])
    page = officer.get(f"/staff/requests/{number}", SERVER["B"])
    assert page.status == 200 and number in page.text
    started = officer.post(f"/staff/requests/{number}/start", SERVER["B"], fields=dict(csrf_token=page.csrf()))
    assert started.status == 303
    page = officer.get(f"/staff/requests/{number}", SERVER["B"])
    decided = officer.post(f"/staff/requests/{number}/decide", SERVER["B"], fields=dict(
        csrf_token=page.csrf(), decision="accepted", reason_choice="0", reason="All in order."))
    assert decided.status == 303, decided.text[:2000]

    poll = resident.get(f"/requests/{number}/status", SERVER["B"], headers={"HX-Request": "true"})
    assert poll.status == 200 and "Accepted" in poll.text
    sent = wait_for("the decision's SMS", lambda: [m for m in sms_to(person.mobile) if number in m["text"]])
    decision_notice = Notice.get(Notice.key == sent[0]["id"])
    wait_for("the decision's notice marked delivered",
             lambda: Notice.get_by_id(decision_notice.id).status == "delivered")
    assert len([m for m in sms_to(person.mobile) if number in m["text"]]) == 1  # two workers, one SMS


def test_every_sms_of_the_walk_was_sent_exactly_once(people):
    wait_for("the outbox emptied", lambda: not Notice.select().where(Notice.status == "pending").exists())
    sent = [message["id"] for message in gateway_messages()]
    delivered = {key for key, in Notice.select(Notice.key).where(Notice.status == "delivered").tuples()}
    assert len(sent) >= 2 and sorted(sent) == sorted(delivered)  # none twice, none missing


def test_static_files_through_the_proxy_are_the_app_servers_bytes_kept_a_year(people):
    page = Browser().get("/auth/login")
    stylesheet = re.search(r'href="(/static/css/app\.css\?v=\w+)"', page.text).group(1)
    answer = Browser().get(stylesheet, headers={"Accept-Encoding": "br, gzip"})
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["Content-Encoding"] == "br"
    assert brotli.decompress(answer.body) == (ROOT / "static" / "css" / "app.css").read_bytes()
    plain = Browser().get(stylesheet, headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(plain.body) == (ROOT / "static" / "css" / "app.css").read_bytes()


def test_metrics_are_refused_from_outside(people):
    assert Browser().get("/metrics").status == 403
    assert Browser().get("/metrics?format=text").status == 403


def test_a_body_over_the_limit_gets_the_app_servers_own_page_in_the_users_language(people):
    browser = Browser(language="ar")
    form = browser.get("/auth/login")
    too_large = browser.post("/auth/login", fields=dict(csrf_token=form.csrf()), files={
        "documents": ("big.pdf", "application/pdf", b"%PDF" + b"0" * (27 * 1024 * 1024))})
    assert too_large.status == 413
    assert 'lang="ar"' in too_large.text and "nginx" not in too_large.text


def test_the_eleventh_wrong_sign_in_over_both_servers_is_refused(people):
    """RATELIMIT_LOGIN is 10 per minute per client address, counted in Redis: the tries
    alternate between A and B. Each says it comes from another address: nginx adds the
    address it saw, and the app (FLASK_PROXY_COUNT=1) believes only that one."""
    answers = []
    for attempt in range(11):
        browser = Browser()
        via = SERVER["AB"[attempt % 2]]
        page = browser.get("/auth/login", via)
        answers.append(browser.post("/auth/login", via, headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
                                    fields=dict(csrf_token=page.csrf(), username=f"nobody{attempt}",
                                                password="not-the-password-2026")).status)
    assert answers == [422] * 10 + [429]


def scrape(port):
    """/metrics of one app server, asked on its own port from loopback (FLASK_METRICS_ALLOW)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def metric(text, name, **labels):
    """The sum of a family's samples whose labels include `labels` (0 when none)."""
    total = 0.0
    for line in text.splitlines():
        found = re.fullmatch(rf"{name}(?:{{(.*)}})? (\S+)", line)
        if found and all(f'{key}="{value}"' in (found.group(1) or "") for key, value in labels.items()):
            total += float(found.group(2))
    return total


def app_log_lines():
    """The JSON lines the app servers wrote (instance/stack/log/tawasul-app@<port>.log)."""
    return [json.loads(line) for path in sorted(stack.LOG.glob("tawasul-app@*.log"))
            for line in path.read_text().splitlines() if line.startswith("{")]


def test_each_request_has_the_proxys_id_in_its_answer_and_its_log_line(people):
    answer = Browser().get("/auth/login")
    request_id = answer.headers["X-Request-ID"]
    assert answer.status == 200 and re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id
    wait_for("the request's log line", lambda: [line for line in app_log_lines()
                                                 if line.get("request_id") == request_id
                                                 and line.get("route") == "/auth/login" and line.get("status") == 200])


def test_the_app_servers_metrics_count_the_walk(people):
    """Both app servers' /metrics after the walk and the refused sign-ins (each sums its
    own gunicorn workers); the two pages are kept in instance/stack/ for the operator."""
    pages = [scrape(port) for port in stack.APP_PORTS]
    (stack.STACK / "metrics-after-walk.txt").write_text("\n".join(pages))
    total = lambda name, **labels: sum(metric(page, name, **labels) for page in pages)  # noqa: E731
    assert total("tawasul_http_requests_total", endpoint="requests.confirm", status="303") >= 1  # filed
    assert total("tawasul_http_requests_total", endpoint="staff.decide", status="303") == 1
    assert total("tawasul_http_requests_total", endpoint="auth.login", status="422") == 10
    assert total("tawasul_http_requests_total", endpoint="auth.login", status="429") == 1
    assert total("tawasul_signin_refusals_total", reason="rate_limited") == 1
    assert total("tawasul_sms_outbox_failed") == 0
    assert metric(pages[0], "tawasul_database_up") == 1 and metric(pages[1], "tawasul_database_up") == 1


# ------------------------------------------------------------------ an app server dies

def app_server_pid(port):
    return int((stack.RUN / f"tawasul-app@{port}.pid").read_text())


def accept_queue(port):
    """Connections waiting to be accepted on the listening socket of `port` (Linux)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # LISTEN
            return int(fields[4].split(":")[1], 16)
    return 0


class InFlight(threading.Thread):
    """A request under way in a thread of its own; `answer` once answered."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.answer = call, None
        self.start()

    def run(self):
        self.answer = self.call()


def park_on(port, queued, calls):
    """Sends each of `calls` through the site, one at a time, until nginx gives one to
    the paused app server on `port` (it waits in its listening socket): ([answered by
    the other], the parked one). nginx takes the app servers in turn."""
    answered = []
    for call in calls:
        sent = InFlight(call)
        wait_for("an answer from B or a request parked on A",
                 lambda sent=sent: sent.answer is not None or accept_queue(port) > queued)
        if sent.answer is None:
            return answered, sent
        answered.append(sent)
    pytest.fail("nginx gave none of the requests to the paused server")


def test_killing_server_a_mid_walk_loses_no_answer_and_half_saves_nothing(people):
    """Server A is paused (SIGSTOP, master and workers), so a request nginx gives it
    waits in its listening socket: the resident's confirmation of a new request (a
    POST), then a GET. Then A is killed (-9). nginx gives the GET to B (idempotent);
    the POST is answered 502, never sent to B, and nothing of it is saved; sent again,
    it reaches B and is filed once."""
    resident, person = people["resident"], people["person"]
    owner = User.get(User.id_number == person.id_number)
    first = people["filed"][0]
    drafts = [file_request(resident, person, PROXY, confirm=False)[:2] for _ in range(3)]
    port_a, pid_a = stack.APP_PORTS[0], app_server_pid(stack.APP_PORTS[0])
    queued = accept_queue(port_a)
    os.killpg(pid_a, signal.SIGSTOP)
    try:
        filed_on_b, confirm = park_on(port_a, queued, [
            lambda draft=draft, token=token: resident.post("/requests/new/confirm", fields=dict(
                csrf_token=token, draft=draft)) for draft, token in drafts])
        parked_draft = drafts[len(filed_on_b)][0]
        read_on_b, read = park_on(port_a, queued + 1, [lambda: resident.get(f"/requests/{first}")] * 4)
    finally:
        os.killpg(pid_a, signal.SIGKILL)
        os.killpg(pid_a, signal.SIGCONT)
    confirm.join(WAIT_SECONDS)
    read.join(WAIT_SECONDS)
    assert [sent.answer.status for sent in filed_on_b] == [303] * len(filed_on_b)
    assert read.answer.status == 200 and first in read.answer.text  # A died: B answered it
    assert all(sent.answer.status == 200 for sent in read_on_b)
    assert confirm.answer.status == 502  # A died with it: not given to B
    assert ServiceRequest.sent_from_draft(owner.id, parked_draft) is None  # nothing saved

    for draft, token in drafts:  # the resident sends each again (A is down: B answers)
        again = resident.post("/requests/new/confirm", fields=dict(csrf_token=token, draft=draft))
        assert again.status == 303 and again.location().endswith("/confirmation")
    for draft, _token in drafts:
        assert ServiceRequest.select().where(ServiceRequest.draft_token == draft).count() == 1
    assert ServiceRequest.select().where(ServiceRequest.owner == owner).count() == 1 + len(drafts)

    for _ in range(6):  # and the walk goes on
        assert resident.get("/requests/").status == 200
        assert resident.get(f"/requests/{first}/status", headers={"HX-Request": "true"}).status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port_a}/auth/login", timeout=5)
