"""The unchanged poll answered before Flask (web/fastpoll.py): one query, the same
answers as the full path, and every other case left to Flask."""
import datetime as dt
import re

import psycopg2
import pytest
import time_machine

from models import ServiceRequest, User, db, utcnow
from models.base import PooledPostgres
from tests.conftest import PG_URL, make_app
from tests.factories import make_user, sign_in_client, submit_request

POLL = {"HX-Request": "true"}


@pytest.fixture
def polling(app, resident):
    """A signed-in resident, her request and the version her panel shows."""
    service_request = submit_request(resident)
    client = app.test_client()
    sign_in_client(client, "amal")
    page = client.get(f"/requests/{service_request.number}").text
    version = re.search(r'"X-Shown-Version": "([^"]+)"', page).group(1)
    return client, service_request, version


def poll(client, number, version, **headers):
    return client.get(f"/requests/{number}/status", headers=dict(POLL, **{"X-Shown-Version": version}, **headers))


@pytest.fixture
def queries(monkeypatch):
    """Every SQL statement the app sends while the test runs."""
    sent = []
    real = type(db.obj).execute_sql

    def spy(self, sql, params=None, *args, **kwargs):
        sent.append(sql)
        return real(self, sql, params, *args, **kwargs)
    monkeypatch.setattr(type(db.obj), "execute_sql", spy)
    return sent


def test_an_unchanged_poll_is_one_query_and_an_empty_204(polling, queries):
    client, service_request, version = polling
    poll(client, service_request.number, version)  # PostgreSQL: the first on a connection plans it (PREPARE)
    queries.clear()
    response = poll(client, service_request.number, version)
    assert response.status_code == 204 and response.data == b""
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "Cookie" in response.headers["Vary"]
    assert len(queries) == 1
    if db.obj.param == "%s":  # PostgreSQL runs the statement it planned once
        assert queries[0].startswith("EXECUTE tawasul_")
    else:
        assert "websession" in queries[0] and "servicerequest" in queries[0]


def test_postgresql_plans_a_repeated_query_once_per_connection(app, resident):
    """Prepared where the engine has no cache of its own: the plan is kept per
    connection, survives a rolled-back transaction, and gives the same rows."""
    if db.obj.param != "%s":
        pytest.skip("SQLite's driver caches prepared statements itself")
    service_request = submit_request(resident)
    with db.connection_context():
        first = ServiceRequest.numbered(service_request.number)
        with db.atomic() as transaction:
            ServiceRequest.numbered(service_request.number)
            transaction.rollback()
        again = ServiceRequest.numbered(service_request.number, owner=resident)
        prepared = db.execute_sql("SELECT statement FROM pg_prepared_statements").fetchall()
        assert ServiceRequest.numbered("000000000") is None
    assert (first.id, first.service.code, first.person.name) == (again.id, again.service.code, again.person.name)
    numbered = [sql for (sql,) in prepared if "servicerequest" in sql and "$1" in sql]
    assert len(numbered) == 2  # with and without the owner, each planned once



@pytest.fixture
def postgres_app(pg_url):
    yield make_app(pg_url)
    if not db.is_closed():
        db.close()


def idle_connections():
    return [conn for _, _, conn in db.obj._connections]


def test_postgresql_hands_out_a_connection_given_back_a_moment_ago_without_asking(postgres_app, monkeypatch):
    """Under load every pooled connection was given back a moment ago: asking the
    server whether it is alive ("SELECT 1") was one of the poll's two round trips."""
    asked, adapter = [], db.obj._adapter
    real = adapter.is_connection_closed
    monkeypatch.setattr(adapter, "is_connection_closed", lambda conn: asked.append(conn) or real(conn))
    for _ in range(3):
        with db.connection_context():
            assert db.execute_sql("SELECT 1").fetchone() == (1,)
    assert asked == []


def test_postgresql_replaces_connections_that_died_while_idle(postgres_app, monkeypatch):
    with db.connection_context():
        db.execute_sql("SELECT 1")
    with psycopg2.connect(PG_URL) as other, other.cursor() as cursor:
        for conn in idle_connections():  # as a server restart or an idle timeout would
            cursor.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    monkeypatch.setattr(PooledPostgres, "ASK_AFTER", 0)  # they have been idle that long
    with db.connection_context():
        assert db.execute_sql("SELECT 1").fetchone() == (1,)


def test_a_connection_that_died_a_moment_ago_costs_one_outage_page_then_is_replaced(postgres_app):
    """Not asked (given back a moment ago), a connection the server dropped fails
    its request with the outage page, never a 500; the pool does not keep it."""
    with db.connection_context():
        db.execute_sql("SELECT 1")
    dropped = idle_connections()
    assert dropped
    with psycopg2.connect(PG_URL) as other, other.cursor() as cursor:
        for conn in dropped:
            cursor.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    client = postgres_app.test_client()
    answers = [client.get("/services/") for _ in range(len(dropped) + 1)]
    assert [answer.status_code for answer in answers] == [503] * len(dropped) + [200]
    assert answers[0].headers["Retry-After"] == "5"

def test_a_changed_request_gets_its_new_panel(polling):
    client, service_request, version = polling
    service_request.change_status("under_review")
    response = poll(client, service_request.number, version)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "s-under_review" in html
    shown = re.search(r'"X-Shown-Version": "([^"]+)"', html).group(1)
    assert shown != version and shown.endswith(version[version.index("-"):])  # a new version, same language


UPDATES_BY_ITSELF = {"en": "This panel updates by itself.", "ar": "يُحدَّث هذا القسم تلقائيًا."}


def test_another_language_gets_the_panel_in_it(polling):
    client, service_request, version = polling
    number_version, shown = version.split("-")
    other = "en" if shown == "ar" else "ar"
    client.post("/auth/language", data={"lang": other})
    response = poll(client, service_request.number, version)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and UPDATES_BY_ITSELF[other] in html
    assert UPDATES_BY_ITSELF[shown] not in html
    assert f'"X-Shown-Version": "{number_version}-{other}"' in html  # the next poll carries the new language


def test_someone_elses_request_is_a_404_as_before(polling, other_resident):
    client, _, version = polling
    theirs = submit_request(other_resident, person_name="Badr Ali")
    assert poll(client, theirs.number, version.replace(version.split("-")[0], "1")).status_code == 404


def test_a_disabled_account_or_an_ended_session_is_signed_out(app, polling):
    client, service_request, version = polling
    with db.connection_context():
        User.update(disabled=True).where(User.username == "amal").execute()
    assert poll(client, service_request.number, version).status_code == 401
    with db.connection_context():
        User.update(disabled=False).where(User.username == "amal").execute()
    client.post("/auth/logout")
    assert poll(client, service_request.number, version).status_code == 401


def test_an_expired_session_is_not_answered_early(polling):
    client, service_request, version = polling
    with time_machine.travel(utcnow() + dt.timedelta(hours=12, minutes=1), tick=False):
        assert poll(client, service_request.number, version).status_code == 401


def test_staff_polls_are_left_to_flask(app, polling):
    make_user("noura", None, role="officer", full_name="Noura")
    client = app.test_client()
    sign_in_client(client, "noura")
    _, service_request, version = polling
    assert poll(client, service_request.number, version).status_code == 404  # not her request
