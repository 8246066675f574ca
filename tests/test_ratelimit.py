"""Sign-in rate limits kept in the real Redis server, shared by every app process."""
import subprocess
import sys
import uuid

import pytest

from tests.conftest import REDIS_URL, make_app, need_service
from tests.factories import PASSWORD

SCRIPT = """
import sys
from tests.conftest import make_app
app = make_app(sys.argv[1], RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=sys.argv[2],
               RATELIMIT_KEY_PREFIX=sys.argv[3], RATELIMIT_LOGIN="3 per minute")
print(app.test_client().post("/auth/login", data={"username": "x", "password": "y"}).status_code)
"""


@pytest.fixture
def limited(tmp_path):
    need_service("Redis", 6379)
    prefix = f"tawasul-test-{uuid.uuid4().hex}"
    url = f"sqlite:///{tmp_path / 'rl.sqlite'}"
    app = make_app(url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                   RATELIMIT_KEY_PREFIX=prefix, RATELIMIT_LOGIN="3 per minute")
    yield app, url, prefix
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_sign_in_attempts_are_limited_across_processes(limited):
    app, url, prefix = limited
    client = app.test_client()
    for _ in range(2):
        assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 422
    other_process = subprocess.run([sys.executable, "-c", SCRIPT, url, REDIS_URL, prefix],
                                   capture_output=True, text=True, timeout=60)
    assert other_process.stdout.strip().splitlines()[-1] == "422", other_process.stderr
    response = client.post("/auth/login", data={"username": "x", "password": "y"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)
    again = subprocess.run([sys.executable, "-c", SCRIPT, url, REDIS_URL, prefix],
                           capture_output=True, text=True, timeout=60)
    assert again.stdout.strip().splitlines()[-1] == "429"


def test_reading_the_sign_in_page_is_not_limited(limited):
    client = limited[0].test_client()
    assert all(client.get("/auth/login").status_code == 200 for _ in range(6))


def test_successful_sign_ins_do_not_use_up_the_limit(tmp_path):
    from tests.factories import make_resident
    app = make_app(f"sqlite:///{tmp_path / 'ok.sqlite'}", RATELIMIT_ENABLED=True,
                   RATELIMIT_LOGIN="2 per minute", RATELIMIT_STORAGE_URI="memory://")
    make_resident([("Amal Saad", None, "SA")])
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
