"""How long a refused sign-in takes, by why it was refused: an unknown username, a
wrong password, a disabled account, a paused (username, address) pair. An attacker
who could tell them apart by time could list the accounts; each should cost one
password hash. Runs the four cases alternating, in one process (Flask's test client,
SQLite), and prints each median and its ratio to the wrong-password median.

    .venv/bin/python bench/signin_timing.py [--rounds 40]
"""
import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from models import SignInFailure, User, db, upgrade, utcnow  # noqa: E402

PASSWORD = "a-long-bench-password"
CASES = {"wrong password": ("amal", "not-the-password"), "unknown user": ("nobody", PASSWORD),
         "disabled account": ("dana", PASSWORD), "paused pair": ("paula", PASSWORD)}


def make_app():
    path = os.path.join(tempfile.mkdtemp(), "timing.sqlite")
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": secrets.token_hex(32),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context(), db.connection_context():
        upgrade()
        for username in ("amal", "dana", "paula"):
            user = User(username=username, full_name=username, disabled=username == "dana")
            user.set_password(PASSWORD)
            user.save()
    return app


def pause_paula():
    with db.connection_context():
        SignInFailure.delete().where(SignInFailure.username == "paula").execute()
        SignInFailure.create(username="paula", address="127.0.0.1", failures=0, updated_at=utcnow(),
                             locked_until=utcnow().replace(year=utcnow().year + 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds
    app = make_app()
    client = app.test_client()
    times = {case: [] for case in CASES}
    for _ in range(rounds):
        pause_paula()
        for case, (username, password) in CASES.items():
            start = time.perf_counter()
            response = client.post("/auth/login", data={"username": username, "password": password})
            times[case].append(time.perf_counter() - start)
            assert response.status_code == 422, (case, response.status_code)
        with db.connection_context():  # wrong tries of amal must not pause her: clear the count
            SignInFailure.delete().where(SignInFailure.username != "paula").execute()
    base = statistics.median(times["wrong password"])
    print(f"{'case':<18} {'median ms':>10} {'÷ wrong password':>17}   ({rounds} rounds, alternating)")
    for case, values in times.items():
        median = statistics.median(values)
        print(f"{case:<18} {median * 1000:>10.1f} {median / base:>17.2f}")


if __name__ == "__main__":
    main()
