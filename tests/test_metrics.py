"""/metrics (web/metrics.py): who may read it, what moves its counts, the gauges read
from the records, no person or request in any label, the sum over several worker
processes, gunicorn's hooks, and the example alert rules (promtool)."""
import datetime as dt
import os
import re
import runpy
import shutil
import subprocess
import sys

import pytest
import time_machine
from flask import request_started
from prometheus_client.parser import text_string_to_metric_families

from models import RETURNED, UNDER_REVIEW, Notice, ServiceRequest, db, riyadh_today
from models.notices import FAILED
from tests.conftest import REQUIRE_SERVICES, make_app
from tests.factories import PASSWORD, TEST_SECRET_KEY, sign_in_client, submit_request
from web import fastpoll

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}
TOKEN = "a-scraper-token-nobody-else-knows-0123456789"


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    return response.text


def samples(text):
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(text, name, **labels):
    """The sample's value, 0 when the series is absent."""
    found = [s.value for s in samples(text) if s.name == name and s.labels == labels]
    return found[0] if found else 0


def moved(client, action, name, **labels):
    """How much `action()` moved the sample."""
    before = value(scrape(client), name, **labels)
    action()
    return value(scrape(client), name, **labels) - before


def requests_counted(client, action, endpoint, status):
    return moved(client, action, "tawasul_http_requests_total", endpoint=endpoint, status=status)


# ------------------------------------------------------------------ who may read it

def test_loopback_reads_the_metrics_without_a_session_and_kept_nowhere(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "# HELP tawasul_http_requests_total" in response.text
    assert "no-store" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_another_address_gets_the_normal_404_page(client):
    response = client.get("/metrics", environ_base=ELSEWHERE, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "tawasul_" not in response.text
    assert "<html" in response.text and "<h1>Not found</h1>" in response.text
    assert "no-store" in response.headers["Cache-Control"]
    normal = client.application.test_client().get("/no-such-page", environ_base=ELSEWHERE)
    assert ("Set-Cookie" in response.headers) == ("Set-Cookie" in normal.headers)  # nothing tells them apart


def test_the_token_or_an_allowed_network_opens_it(app):
    configured = make_app(app.config["DATABASE_URL"], METRICS_TOKEN=TOKEN, METRICS_ALLOW="10.0.0.0/8, 192.0.2.1")
    client = configured.test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", environ_base=ELSEWHERE, headers=bearer).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    for headers in ({"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}, {}):
        assert client.get("/metrics", environ_base=ELSEWHERE, headers=headers).status_code == 404
    assert client.get("/metrics").status_code == 404  # loopback is no longer in the list


def test_without_a_configured_token_no_token_opens_it(client):
    for given in ("Bearer ", "Bearer None", "Bearer"):
        assert client.get("/metrics", environ_base=ELSEWHERE, headers={"Authorization": given}).status_code == 404


def test_behind_a_proxy_the_clients_address_decides(app):
    proxied = make_app(app.config["DATABASE_URL"], PROXY_COUNT=1).test_client()
    from_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    outside = proxied.get("/metrics", environ_base=from_proxy, headers={"X-Forwarded-For": "203.0.113.9"})
    assert outside.status_code == 404
    inside = proxied.get("/metrics", environ_base=from_proxy, headers={"X-Forwarded-For": "127.0.0.1"})
    assert inside.status_code == 200


# ------------------------------------------------------------------ what moves the counts

def test_pages_and_unknown_addresses_are_counted_by_endpoint(client):
    assert requests_counted(client, lambda: client.get("/"), "home.index", "200") == 1
    assert requests_counted(client, lambda: client.get("/requests/123456789/x"), "none", "404") == 1
    timed = moved(client, lambda: client.get("/"), "tawasul_http_request_duration_seconds_count",
                  endpoint="home.index")
    assert timed == 1


def test_probes_and_scrapes_are_counted_but_not_timed(client):
    assert requests_counted(client, lambda: client.get("/healthz"), "home.healthz", "200") == 1
    assert requests_counted(client, lambda: client.get("/metrics"), "metrics", "200") == 2  # it and the one after
    text = scrape(client)
    timed = {s.labels.get("endpoint") for s in samples(text) if s.name.startswith("tawasul_http_request_duration")}
    assert "home.healthz" not in timed and "metrics" not in timed and "home.readyz" not in timed


@pytest.fixture
def polling(app, resident):
    """Amal signed in, her request and the version her panel shows."""
    service_request = submit_request(resident)
    client = app.test_client()
    sign_in_client(client, "amal")
    page = client.get(f"/requests/{service_request.number}").text
    version = re.search(r'"X-Shown-Version": "([^"]+)"', page).group(1)
    return client, service_request, version


def test_an_unchanged_poll_answered_before_flask_is_counted_as_the_poll_view(app, polling):
    client, service_request, version = polling
    reached_flask = []

    def record(sender, **extra):
        reached_flask.append(True)
    url = f"/requests/{service_request.number}/status"
    unchanged = {"HX-Request": "true", "X-Shown-Version": version}

    def poll():
        request_started.connect(record, app)
        try:
            assert client.get(url, headers=unchanged).status_code == 204
        finally:
            request_started.disconnect(record, app)
    assert requests_counted(client, poll, fastpoll.ENDPOINT, "204") == 1
    assert not reached_flask  # answered before Flask (web/fastpoll.py)
    changed = {"HX-Request": "true", "X-Shown-Version": "0-ar"}
    assert requests_counted(client, lambda: client.get(url, headers=changed), fastpoll.ENDPOINT, "200") == 1
    assert app.url_map.bind("").match(url)[0] == fastpoll.ENDPOINT  # Flask's name for the same URL


def test_kept_pages_count_their_misses_and_hits(polling):
    client, service_request, _version = polling
    url = f"/requests/{service_request.number}"
    client.get(url, headers={"Accept-Language": "en"})
    text = scrape(client)
    misses, hits = (value(text, "tawasul_kept_pages_total", result=r) for r in ("miss", "hit"))
    client.get(url, headers={"Accept-Language": "en"})  # the same page again: kept
    after = scrape(client)
    assert value(after, "tawasul_kept_pages_total", result="hit") == hits + 1
    assert value(after, "tawasul_kept_pages_total", result="miss") == misses
    client.get(url, headers={"Accept-Language": "ar"})  # the other language: another page, drawn
    assert value(scrape(client), "tawasul_kept_pages_total", result="miss") == misses + 1


def test_wrong_passwords_and_the_pause_they_start_are_counted(client, resident):
    def wrong():
        assert client.post("/auth/login", data={"username": "amal", "password": "wrong-" + PASSWORD}).status_code == 422
    assert moved(client, wrong, "tawasul_signin_refusals_total", reason="password") == 1
    before = scrape(client)
    for _ in range(4):  # the fifth wrong try (SIGN_IN_TRIES) starts a pause
        wrong()
    after = scrape(client)
    assert value(after, "tawasul_signin_pauses_total", step="password") == \
        value(before, "tawasul_signin_pauses_total", step="password") + 1
    assert moved(client, wrong, "tawasul_signin_refusals_total", reason="paused") == 1


def test_the_rate_limiters_429_is_counted(app):
    limited = make_app(app.config["DATABASE_URL"], RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1 per minute")
    client = limited.test_client()
    data = {"username": "nobody", "password": "wrong"}
    client.post("/auth/login", data=data)

    def refused():
        assert client.post("/auth/login", data=data).status_code == 429
    assert moved(client, refused, "tawasul_signin_refusals_total", reason="rate_limited") == 1


def test_a_database_that_is_gone_is_counted_and_the_metrics_still_answer(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app = make_app(f"sqlite:///{folder / 'tawasul.sqlite'}")
    client = app.test_client()
    before = scrape(client)
    assert value(before, "tawasul_database_up") == 1
    shutil.rmtree(folder)
    db.obj.close_all()
    assert client.get("/").status_code == 503
    after = scrape(client)
    assert value(after, "tawasul_unavailable_total", service="database") == \
        value(before, "tawasul_unavailable_total", service="database") + 1
    assert value(after, "tawasul_http_requests_total", endpoint="home.index", status="503") == \
        value(before, "tawasul_http_requests_total", endpoint="home.index", status="503") + 1
    assert value(after, "tawasul_database_up") == 0 and "tawasul_sms_outbox_waiting" not in after


def test_a_session_store_that_does_not_answer_is_counted_as_redis(tmp_path):
    pytest.importorskip("redis")
    app = make_app(f"sqlite:///{tmp_path / 'test.sqlite'}", SESSION_REDIS_URL="redis://127.0.0.1:1/0",
                   PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    client.set_cookie("session", "a" * 43)

    def unavailable():
        assert client.get("/").status_code == 503
    assert moved(client, unavailable, "tawasul_unavailable_total", service="redis") == 1


# ------------------------------------------------------------------ read from the records

def test_the_outbox_gauges_match_the_notices(client):
    written = dt.datetime(2026, 5, 10, 9, 0)
    with time_machine.travel(written, tick=False), db.connection_context():
        for n in range(3):
            Notice.queue(f"metrics-{n}", "+966551234567", "text", "test")
        Notice.update(status=FAILED).where(Notice.key == "metrics-2").execute()
    with time_machine.travel(written + dt.timedelta(minutes=7), tick=False):
        text = scrape(client)
    assert value(text, "tawasul_sms_outbox_waiting") == 2
    assert value(text, "tawasul_sms_outbox_failed") == 1
    assert value(text, "tawasul_sms_outbox_oldest_waiting_seconds") == 7 * 60


def test_the_undecided_gauges_match_the_requests(client, resident):
    made = [submit_request(resident) for _ in range(4)]
    today = riyadh_today()
    with db.connection_context():
        def change(service_request, **values):
            ServiceRequest.update(**values).where(ServiceRequest.id == service_request.id).execute()
        change(made[0], status=UNDER_REVIEW, due_on=today - dt.timedelta(days=20))  # overdue
        change(made[1], status=RETURNED, due_on=today - dt.timedelta(days=20))  # paused: never overdue
        change(made[2], due_on=today)  # due today: at risk
        change(made[3], due_on=today + dt.timedelta(days=60))  # plenty of time
        statuses = [r.status for r in ServiceRequest.select()]
    text = scrape(client)
    for status in ("received", "under_review", "returned"):
        assert value(text, "tawasul_undecided_requests", status=status) == statuses.count(status)
    assert value(text, "tawasul_undecided_requests_overdue") == 1
    assert value(text, "tawasul_undecided_requests_at_risk") == 1


def test_no_label_names_a_person_or_a_request(client, resident, polling):
    poll_client, service_request, version = polling
    poll_client.get(f"/requests/{service_request.number}/status",
                    headers={"HX-Request": "true", "X-Shown-Version": version})
    poll_client.get(f"/requests/{service_request.number}/documents/1")
    client.post("/auth/login", data={"username": "amal", "password": "wrong"})
    client.get(f"/requests/{service_request.number}")
    with db.connection_context():
        person = ServiceRequest.get_by_id(service_request.id).person
        private = {"amal", service_request.number, person.id_number, person.name}
    values = {v for s in samples(scrape(client)) for v in s.labels.values()}
    assert values and not [v for v in values for secret in private if secret.lower() in v.lower()]


# ------------------------------------------------------------------ several processes, gunicorn

COUNT_IN_A_WORKER = "import sys; from web import metrics\nfor _ in range(int(sys.argv[1])): " \
                    "metrics.count('home.index', '200', 0.003)"
SCRAPE_IN_A_WORKER = ("import sys; from app import create_app\n"
                      "app = create_app(dict(TESTING=True, SECRET_KEY=sys.argv[1], DATABASE_URL=sys.argv[2]))\n"
                      "open(sys.argv[3], 'w').write(app.test_client().get('/metrics').text)")  # stdout has the log


def test_every_workers_counts_are_summed(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(directory))
    for times in (3, 4):  # two workers, each a process of its own
        subprocess.run([sys.executable, "-c", COUNT_IN_A_WORKER, str(times)], cwd=ROOT, env=env, check=True)
    scraped = tmp_path / "scraped.txt"
    subprocess.run([sys.executable, "-c", SCRAPE_IN_A_WORKER, TEST_SECRET_KEY, f"sqlite:///{tmp_path / 'db.sqlite'}",
                    str(scraped)], cwd=ROOT, env=env, check=True, capture_output=True)
    text = scraped.read_text()
    assert value(text, "tawasul_http_requests_total", endpoint="home.index", status="200") == 7
    assert value(text, "tawasul_http_request_duration_seconds_count", endpoint="home.index") == 7
    assert value(text, "tawasul_http_request_duration_seconds_bucket", endpoint="home.index", le="0.0025") == 0
    assert value(text, "tawasul_http_request_duration_seconds_bucket", endpoint="home.index", le="0.005") == 7


def test_gunicorn_empties_the_metrics_directory_at_start(tmp_path, monkeypatch):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old counts")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    config = runpy.run_path(os.path.join(ROOT, "deploy", "gunicorn.conf.py"))
    config["on_starting"](None)
    assert directory.is_dir() and not list(directory.iterdir())
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    config = runpy.run_path(os.path.join(ROOT, "deploy", "gunicorn.conf.py"))
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == os.path.join(ROOT, "instance", "metrics")


# ------------------------------------------------------------------ promtool

def promtool():
    path = shutil.which("promtool")
    if path is None:
        if REQUIRE_SERVICES:
            pytest.fail("promtool is missing: `make promtool` installs it")
        pytest.skip("promtool is missing: `make promtool` installs it")
    return path


def test_the_example_alert_rules_are_valid():
    result = subprocess.run([promtool(), "check", "rules", "deploy/prometheus-alerts.yml"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_accepts_the_metrics_page(client, polling):
    poll_client, service_request, _version = polling
    poll_client.get(f"/requests/{service_request.number}")
    client.post("/auth/login", data={"username": "amal", "password": "wrong"})
    result = subprocess.run([promtool(), "check", "metrics"], input=scrape(client), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
