"""Where the views' time goes, when pages are rendered (RENDERED_CACHE_SIZE=0).

In one process: the portal on a database with many residents (each with a few
requests and a draft) and an officer with 50+ undecided requests in her queue, and
a bare Flask hello app. For each view it alternates one hello request and one view
request through the test clients, many times, rotating over the residents and
their requests (so nothing answers from a per-request cache), and prints the
ratio of the medians (hello / view: what `make bench` measures over HTTP, without
the server), the queries each view makes, and with --profile a cProfile of the
view requests only.

    .venv/bin/python bench/profile_views.py [--engines sqlite postgres] [--repeat 300]
                                           [--views page my-requests ...] [--profile] [--top 25]

SQLite goes to a temporary file; PostgreSQL to a schema of its own in
postgresql://postgres@127.0.0.1:5432/test (dropped again at the end).
"""
import argparse
import cProfile
import datetime as dt
import io
import itertools
import os
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask import Flask  # noqa: E402

from app import create_app  # noqa: E402
from models import (  # noqa: E402
    ACCEPTED,
    RECEIVED,
    REJECTED,
    UNDER_REVIEW,
    Document,
    Draft,
    Event,
    Person,
    Service,
    ServiceRequest,
    User,
    db,
    due_date,
    luhn_digit,
    riyadh_date,
    upgrade,
    utcnow,
    write_transaction,
)
from models.base import StoredFile  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
VIEWS = ["page", "my-requests", "queue", "poll-changed", "poll", "performance"]
AR = {"Accept-Language": "ar"}
POLL = {"HX-Request": "true", **AR}


def hello_app():
    app = Flask("hello")
    app.add_url_rule("/", "hello", lambda: "hello")
    return app


def postgres_schema():
    import psycopg2
    schema = f"tawasul_profile_{os.getpid()}"
    connection = psycopg2.connect(PG_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    return connection, schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def fill(residents, per_resident, queue_size, seed=1):
    """`residents` residents with `per_resident` requests each (a document and a
    timeline each, some decided) and a draft; `queue_size` undecided requests held
    by one officer. Returns (officer, {resident id: [request numbers]})."""
    rng = random.Random(seed)
    officer = User.create(username="profile-officer", full_name="Profile Officer", role="officer",
                          password_hash="x")
    services = list(Service.select())
    now = utcnow()
    numbers = iter(rng.sample(range(10 ** 7, 10 ** 8), residents * per_resident))
    owned, queued = {}, 0
    pdf = b"%PDF-1.4 profile document\n" * 40
    for index in range(residents):
        with write_transaction():
            user = User.create(username=f"profile-{index}", full_name=f"Resident {index}",
                               id_number=f"1{index:08d}0", password_hash="x")
            person = Person.create(sponsor_id_number=user.id_number, id_number=user.id_number,
                                   name=user.full_name, nationality="SA")
            owned[user.id] = []
            for _ in range(per_resident):
                payload = next(numbers)
                submitted = now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60))
                day = riyadh_date(submitted)
                decided = queued >= queue_size and rng.random() < 0.5
                row = ServiceRequest.create(
                    number=f"{payload}{luhn_digit(str(payload))}", owner=user, person=person,
                    service=rng.choice(services), description="My passport expires next month; please renew it.",
                    status=rng.choice((ACCEPTED, REJECTED)) if decided else rng.choice((RECEIVED, UNDER_REVIEW)),
                    submitted_at=submitted, submitted_on=day, due_on=due_date(day, 0, set()), updated_at=submitted,
                    draft_token=secrets.token_urlsafe(24), assignee=officer,
                    decided_at=submitted + dt.timedelta(hours=30) if decided else None,
                    decided_on=day if decided else None, hours_to_decision=30 if decided else None,
                    reason="The documents are complete." if decided else None)
                queued += not decided
                owned[user.id].append(row.number)
                Event.create(request=row, at=submitted, kind="submitted", status=RECEIVED, actor=user)
                if row.status != RECEIVED:
                    Event.create(request=row, at=submitted + dt.timedelta(hours=2), kind="status",
                                 status=UNDER_REVIEW, actor=officer)
                if decided:
                    Event.create(request=row, at=row.decided_at, kind="status", status=row.status,
                                 message=row.reason, actor=officer)
                Document.create(request=row, **StoredFile.values("passport.pdf", "application/pdf", pdf))
            Draft.create(owner=user, service=services[0], person=person, description="Not finished yet")
    db.execute_sql("ANALYZE")
    return officer, owned


class QueryCounter:
    """Counts the statements the database runs (peewee's execute_sql)."""

    def __init__(self, database):
        self.count = 0
        original = database.execute_sql

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)
        database.execute_sql = counted


def signed_in(app, user_id):
    """A client whose session is signed in and already holds its CSRF token, as one
    that signed in through the form does (so no view writes the session)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["csrf_token"] = secrets.token_hex(20)
    return client


def view_calls(app, officer, owned):
    """For each view, a function that makes its next request (rotating)."""
    clients = {user_id: signed_in(app, user_id) for user_id in owned}
    with db.connection_context():
        versions = {r.number: r.version for r in ServiceRequest.select(ServiceRequest.number,
                                                                       ServiceRequest.version)}
    pages = itertools.cycle([(clients[u], n) for u, numbers in owned.items() for n in numbers])
    people = itertools.cycle(clients.values())
    officer_client = signed_in(app, officer.id)
    visitor = app.test_client()
    visitor.get("/performance", headers=AR)  # a returning visitor: the CSRF token's session exists

    def get(client, path, headers, expected=200):
        response = client.get(path, headers=headers)
        if response.status_code != expected:
            sys.exit(f"GET {path} answered {response.status_code}, not {expected}")
        return response

    def page():
        client, number = next(pages)
        return get(client, f"/requests/{number}", AR)

    def poll_changed():
        client, number = next(pages)
        return get(client, f"/requests/{number}/status", {**POLL, "X-Shown-Version": "0-ar"})

    def poll():
        client, number = next(pages)
        return get(client, f"/requests/{number}/status", {**POLL, "X-Shown-Version": f"{versions[number]}-ar"}, 204)

    def performance():
        """As `make bench` reads it: from a portal that keeps rendered pages (the
        request pages here are timed without)."""
        kept = app.extensions["rendered"]
        size, kept.size = kept.size, 2000
        try:
            return get(visitor, "/performance", AR)
        finally:
            kept.size = size

    return {
        "page": page,
        "my-requests": lambda: get(next(people), "/requests/", AR),
        "queue": lambda: get(officer_client, "/staff/", AR),
        "poll-changed": poll_changed,
        "poll": poll,
        "performance": performance,
    }


def alternate(call, hello, repeat, profiler=None):
    """Medians of `repeat` alternated calls, in ms: (hello, view) by the clock, and
    (hello, view) in this thread's CPU time, which a busy machine disturbs less (but
    which leaves out the database server's work)."""
    call(), hello()  # warm
    samples = {"hello": [], "view": [], "hello cpu": [], "view cpu": []}
    for _ in range(repeat):
        for name, target in (("hello", hello), ("view", call)):
            if profiler and name == "view":
                profiler.enable()
            started, cpu = time.perf_counter(), time.thread_time()
            target()
            samples[name].append(time.perf_counter() - started)
            samples[name + " cpu"].append(time.thread_time() - cpu)
            if profiler and name == "view":
                profiler.disable()
    return [statistics.median(samples[name]) * 1000 for name in ("hello", "view", "hello cpu", "view cpu")]


def function_calls(call, repeat=50):
    """Python function calls per request: unlike a time, the same on a busy machine."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    return pstats.Stats(profiler).total_calls // repeat


def profile_text(profiler, top):
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return "\n".join(line for line in out.getvalue().splitlines()
                     if line.strip() and not line.lstrip().startswith(("Ordered by", "List reduced")))


def run_engine(engine, args):
    cleanup = None
    if engine == "sqlite":
        directory = tempfile.mkdtemp(prefix="tawasul-profile-")
        url = "sqlite:///" + os.path.join(directory, "profile.sqlite")
    else:
        connection, schema, url = postgres_schema()
        cleanup = (connection, schema)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "RENDERED_CACHE_SIZE": 0,
                      "RATELIMIT_ENABLED": False})
    try:
        with db.connection_context():
            upgrade()
            started = time.perf_counter()
            officer, owned = fill(args.residents, args.per_resident, args.queue)
        print(f"== {engine}: {args.residents} residents x {args.per_resident} requests + a draft, "
              f"{args.queue} undecided held by the officer (filled in {time.perf_counter() - started:.0f} s)")
        counter = QueryCounter(db.obj)
        calls = view_calls(app, officer, owned)
        hello = hello_app().test_client()
        hello_get = lambda: hello.get("/")  # noqa: E731
        results = {}
        for name in args.views:
            counter.count = 0
            calls[name]()
            queries = counter.count
            calls_each = function_calls(calls[name])  # first: the same requests in every run
            profiler = cProfile.Profile() if args.profile else None
            hello_ms, view_ms, hello_cpu, view_cpu = alternate(calls[name], hello_get, args.repeat, profiler)
            results[name] = (hello_ms / view_ms, hello_cpu / view_cpu, queries, calls_each)
            print(f"  {name:14s} ratio {hello_ms / view_ms:5.3f} (CPU {hello_cpu / view_cpu:5.3f})   "
                  f"view {view_ms:6.2f} ms (CPU {view_cpu:5.2f})   hello {hello_ms:5.2f} ms (CPU {hello_cpu:5.2f})   "
                  f"{queries} queries   {calls_each} Python calls", flush=True)
            if profiler:
                print(profile_text(profiler, args.top))
        return results
    finally:
        if not db.is_closed():
            db.close()
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
        if cleanup:
            connection, schema = cleanup
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--views", nargs="+", choices=VIEWS, default=VIEWS)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--per-resident", type=int, default=5)
    parser.add_argument("--queue", type=int, default=60, help="undecided requests held by the officer")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each view")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    summary = {engine: run_engine(engine, args) for engine in args.engines}
    print("\nview            " + "".join(f"{engine + ': ratio (CPU), queries, calls':>42s}" for engine in summary))
    for name in args.views:
        cells = (summary[engine][name] for engine in summary)
        print(f"{name:16s}" + "".join(f"{ratio:>14.3f} ({cpu:5.3f}) {queries:4d} q {calls:7d} c"
                                      for ratio, cpu, queries, calls in cells))


if __name__ == "__main__":
    main()
