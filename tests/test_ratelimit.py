"""Rate limits shared by every app process: in the app's database (the default,
what `make run`'s workers share) and in the real Redis server."""
import datetime as dt
import subprocess
import sys
import uuid

import pytest
import time_machine

from app import open_database
from models import db, utcnow
from models.base import is_sqlite
from tests.conftest import REDIS_URL, make_app, need_service
from tests.factories import PASSWORD
from web.ratelimit import DatabaseStorage

SCRIPT = """
import sys
from models import utcnow
from tests.conftest import make_app
app = make_app(sys.argv[1], RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=sys.argv[2],
               RATELIMIT_KEY_PREFIX=sys.argv[3], RATELIMIT_LOGIN="3 per minute")
print(app.test_client().post("/auth/login", data={"username": "x", "password": "y"}).status_code)
"""


# One prefix for the whole run: the limiter keeps the first prefix it is given.
PREFIX = f"tawasul-test-{uuid.uuid4().hex}"


@pytest.fixture(params=["database://", "redis"])
def limited(request, tmp_path):
    storage = request.param
    if storage == "redis":
        need_service("Redis", 6379)
        storage = REDIS_URL
    prefix = PREFIX
    url = f"sqlite:///{tmp_path / 'rl.sqlite'}"
    app = make_app(url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                   RATELIMIT_KEY_PREFIX=prefix, RATELIMIT_LOGIN="3 per minute", RATELIMIT_CODES="2 per minute")
    yield app, url, prefix, storage
    if storage == REDIS_URL:
        import redis
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_sign_in_attempts_are_limited_across_processes(limited):
    """The finding: two workers each allowed the whole limit. A second process
    (another worker, another server) now counts in the same place."""
    app, url, prefix, storage = limited
    client = app.test_client()
    for _ in range(2):
        assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 422
    other_process = subprocess.run([sys.executable, "-c", SCRIPT, url, storage, prefix],
                                   capture_output=True, text=True, timeout=60)
    assert other_process.stdout.strip().splitlines()[-1] == "422", other_process.stderr
    response = client.post("/auth/login", data={"username": "x", "password": "y"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    again = subprocess.run([sys.executable, "-c", SCRIPT, url, storage, prefix],
                           capture_output=True, text=True, timeout=60)
    assert again.stdout.strip().splitlines()[-1] == "429"


@pytest.mark.parametrize("path", ["/auth/register", "/auth/reset"])
def test_asking_for_codes_is_limited(limited, path):
    client = limited[0].test_client()
    for _ in range(2):
        assert client.post(path, data={"id_number": "1000000008"}).status_code == 422
    assert client.post(path, data={"id_number": "1000000008"}).status_code == 429


def test_the_database_window_ends(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'w.sqlite'}", RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="1 per minute")
    client = app.test_client()
    assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 422
    assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 429
    with time_machine.travel(utcnow() + dt.timedelta(seconds=61), tick=False):
        assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 422


def test_reading_the_sign_in_page_is_not_limited(limited):
    client = limited[0].test_client()
    assert all(client.get("/auth/login").status_code == 200 for _ in range(6))


def test_successful_sign_ins_do_not_use_up_the_limit(tmp_path):
    from tests.factories import make_amal
    app = make_app(f"sqlite:///{tmp_path / 'ok.sqlite'}", RATELIMIT_ENABLED=True,
                   RATELIMIT_LOGIN="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    make_amal([("Amal Saad", None, "SA")])
    client = app.test_client()
    for _ in range(4):
        assert client.post("/auth/login", data={"username": "amal", "password": PASSWORD}).status_code == 303
        client.post("/auth/logout")


def test_behind_a_proxy_each_client_has_its_own_limit(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'px.sqlite'}", RATELIMIT_ENABLED=True, PROXY_COUNT=1,
                   RATELIMIT_LOGIN="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for expected in (422, 422, 429):
            response = client.post("/auth/login", data={"username": "x", "password": "y"},
                                   environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                   headers={"X-Forwarded-For": address})
            assert response.status_code == expected


def test_the_database_storage_is_healthy_only_while_its_table_answers(app, monkeypatch):
    storage = DatabaseStorage("database://")
    with db.connection_context():
        assert storage.check() is True
    unreachable = ("sqlite:////nonexistent-folder/limits.sqlite" if is_sqlite()
                   else "postgresql://postgres@127.0.0.1:1/test")  # nothing listens on port 1
    monkeypatch.setattr(db, "obj", open_database(unreachable))
    assert storage.check() is False
