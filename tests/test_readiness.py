"""Live and ready (web/readiness.py): /healthz answers while the process does, whatever
the database; /readyz only when the database and Redis (where configured) answer
within a second, and says by name what did not."""
import shutil
import socket

import pytest

from app import create_app
from models import db
from tests.conftest import REDIS_URL, make_app, need_service
from tests.factories import TEST_SECRET_KEY

NOBODY = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def assert_probe_answer(response, status, body):
    assert (response.status_code, response.text) == (status, body)
    assert response.mimetype in ("text/plain", "application/json")
    assert "no-store" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers  # no session made, none refused


def test_ready_when_the_database_answers(client):
    assert_probe_answer(client.get("/readyz"), 200, "ready\n")
    assert client.get("/healthz").json == {"status": "ok"}


def database_gone(app, tmp_path):
    """An app whose database no longer answers: on SQLite its file and folder removed,
    on PostgreSQL a server address where nobody listens."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        return create_app(dict(TESTING=True, SECRET_KEY=TEST_SECRET_KEY, RATELIMIT_ENABLED=False,
                               DATABASE_URL="postgresql://postgres@127.0.0.1:1/test"))
    folder = tmp_path / "gone"
    folder.mkdir()
    gone = make_app(f"sqlite:///{folder / 'tawasul.sqlite'}")
    assert gone.test_client().get("/readyz").status_code == 200
    shutil.rmtree(folder)
    db.obj.close_all()
    return gone


def test_with_the_database_gone_healthz_is_200_and_readyz_503(app, tmp_path):
    gone = database_gone(app, tmp_path).test_client()
    assert_probe_answer(gone.get("/readyz"), 503, "not ready: database\n")
    assert gone.get("/healthz").status_code == 200
    gone.set_cookie("session", "a" * 43)  # a browser's cookie: its session cannot be read, the probe answers
    assert gone.get("/healthz").status_code == 200
    assert gone.get("/readyz").text == "not ready: database\n"
    assert gone.get("/").status_code == 503  # the pages themselves say the service is unavailable


@pytest.mark.parametrize("setting, name", [("SESSION_REDIS_URL", "session store"),
                                           ("RATELIMIT_STORAGE_URI", "rate-limit store")])
def test_a_redis_that_does_not_answer_is_named(app, setting, name):
    down = make_app(app.config["DATABASE_URL"], **{setting: NOBODY}).test_client()
    response = down.get("/readyz")
    assert_probe_answer(response, 503, f"not ready: {name}\n")
    assert "127.0.0.1" not in response.text and "redis" not in response.text  # no address
    assert down.get("/healthz").status_code == 200


def test_ready_with_redis_for_sessions_and_limits_when_it_answers(app):
    need_service("Redis", 6379)
    both = make_app(app.config["DATABASE_URL"], SESSION_REDIS_URL=REDIS_URL, RATELIMIT_STORAGE_URI=REDIS_URL)
    assert_probe_answer(both.test_client().get("/readyz"), 200, "ready\n")


@pytest.fixture
def silent_server():
    """A port that accepts connections and never says a word: a server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_redis_that_hangs_is_given_up_on(app, silent_server):
    hung = make_app(app.config["DATABASE_URL"], SESSION_REDIS_URL=f"redis://127.0.0.1:{silent_server}/0")
    assert hung.test_client().get("/readyz").text == "not ready: session store\n"


def test_a_postgresql_that_hangs_is_given_up_on(silent_server):
    pytest.importorskip("psycopg2")
    hung = create_app(dict(TESTING=True, SECRET_KEY=TEST_SECRET_KEY, RATELIMIT_ENABLED=False,
                           DATABASE_URL=f"postgresql://postgres@127.0.0.1:{silent_server}/test"))
    assert hung.test_client().get("/readyz").text == "not ready: database\n"
