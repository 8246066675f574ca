"""The staff queue's first page, and every resident view, with a million requests in
the database.

Fills a database with N requests (about 3% undecided, as in a steady state), then
times the queue query (the first page, three filters, a page deep in the keyset,
two searches), the whole GET /staff/ (query + HTML), and the views of a resident who
has 10 of those requests: the request page (rendered at every view: no page is kept
here, as for most views at the real service's scale), My requests, the inquiry, the status panel changed and unchanged
(median of repeats after one to warm up; each view's goal is under 20 ms).

    .venv/bin/python bench/staff_queue.py --engine sqlite   [--rows 1000000]
    .venv/bin/python bench/staff_queue.py --engine postgres [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]

SQLite goes to a temporary file; PostgreSQL to a database `tawasul_bench` that the
script creates (and drops again with --drop).
"""
import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from models import (  # noqa: E402
    ACCEPTED,
    OPEN_STATUSES,
    REJECTED,
    Person,
    Service,
    ServiceRequest,
    User,
    db,
    due_date,
    luhn_digit,
    riyadh_date,
    riyadh_today,
    upgrade,
    utcnow,
    write_transaction,
)

OPEN_SHARE = 0.03
BATCH = 1000


def postgres_url(admin_url, drop):
    import psycopg2
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        if drop:
            cursor.execute("DROP DATABASE IF EXISTS tawasul_bench")
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'tawasul_bench'")
        if not cursor.fetchone():
            cursor.execute("CREATE DATABASE tawasul_bench")
    connection.close()
    return admin_url.rsplit("/", 1)[0] + "/tawasul_bench"


def fill(rows, seed=1):
    """Bulk-insert `rows` requests spread over two years; returns an officer."""
    if ServiceRequest.select().count() >= rows:
        return User.get(User.username == "bench-officer")
    rng = random.Random(seed)
    officer = User.create(username="bench-officer", full_name="Bench Officer", role="officer",
                          password_hash="x")
    owners = [User.create(username=f"bench-{i}", full_name=f"Resident {i}", id_number=f"1{i:08d}0",
                          password_hash="x") for i in range(200)]
    persons = [Person.create(sponsor_id_number=o.id_number, id_number=o.id_number, name=o.full_name,
                             nationality="SA") for o in owners]
    services = [s.id for s in Service.select()]
    payloads = rng.sample(range(10 ** 7, 10 ** 8), rows)
    now, closed, started = utcnow(), set(), time.perf_counter()
    due_cache = {}
    for start in range(0, rows, BATCH):
        batch = []
        for payload in payloads[start:start + BATCH]:
            index = rng.randrange(len(owners))
            submitted = now - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            day = riyadh_date(submitted)
            due = due_cache.setdefault(day, due_date(day, 0, closed))
            row = dict(number=f"{payload}{luhn_digit(str(payload))}", owner=owners[index].id,
                       person=persons[index].id, service=rng.choice(services), description="bench",
                       status=rng.choice(OPEN_STATUSES), submitted_at=submitted, submitted_on=day,
                       due_on=due, updated_at=submitted, version=1, draft_token=str(payload),
                       waiting_days=0, assignee=None, decided_at=None, decided_on=None,
                       hours_to_decision=None)
            if rng.random() > OPEN_SHARE:
                decided = submitted + dt.timedelta(hours=rng.uniform(2, 300))
                row.update(status=rng.choice((ACCEPTED, REJECTED)), assignee=officer.id, decided_at=decided,
                           decided_on=riyadh_date(decided),
                           hours_to_decision=(decided - submitted).total_seconds() / 3600)
            elif rng.random() < 0.3:
                row["assignee"] = officer.id
            batch.append(row)
        with write_transaction():
            ServiceRequest.insert_many(batch).execute()
        if start and start % 100000 == 0:
            print(f"  {start} rows, {time.perf_counter() - started:.0f} s", flush=True)
    db.execute_sql("ANALYZE")
    print(f"  filled {rows} rows in {time.perf_counter() - started:.0f} s", flush=True)
    return officer


def timed(call, repeat):
    call()  # warm the cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--drop", action="store_true", help="start PostgreSQL from an empty database")
    args = parser.parse_args()
    if args.engine == "sqlite":
        url = "sqlite:///" + os.path.join(tempfile.gettempdir(), f"tawasul-bench-{args.rows}.sqlite")
    else:
        url = postgres_url(args.pg_url, args.drop)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "RENDERED_CACHE_SIZE": 0})  # every view rendered
    with db.connection_context():
        upgrade()
        officer = fill(args.rows)
        total = ServiceRequest.select().count()
        open_count = ServiceRequest.select().where(ServiceRequest.decided_at.is_null()).count()
    print(f"{args.engine}: {total} requests, {open_count} undecided")

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(officer.id)
    today = riyadh_today()
    with db.connection_context():
        last_number = ServiceRequest.select().order_by(ServiceRequest.id.desc()).get().number
        middle = (ServiceRequest.select(ServiceRequest.due_on, ServiceRequest.id)
                  .where(ServiceRequest.decided_at.is_null()).order_by(ServiceRequest.due_on, ServiceRequest.id)
                  .offset(open_count // 2).limit(1).get())
        cases = {
            "first page (query only)": lambda: list(ServiceRequest.queue(officer, limit=51, today=today)),
            "overdue filter": lambda: list(ServiceRequest.queue(officer, overdue=True, limit=51, today=today)),
            "mine filter": lambda: list(ServiceRequest.queue(officer, mine=True, limit=51, today=today)),
            "page in the middle (keyset)": lambda: list(ServiceRequest.queue(
                officer, after=(middle.due_on, middle.id), limit=51, today=today)),
            "search by request number": lambda: list(ServiceRequest.queue(
                officer, search=last_number, limit=51, today=today)),
            "search by identity number": lambda: list(ServiceRequest.queue(
                officer, search="1000000010", limit=51, today=today)),
        }
        for name, call in cases.items():
            median, worst = timed(call, args.repeat)
            print(f"  {name:32s} median {median:7.2f} ms   max {worst:7.2f} ms")
        plan_query = ServiceRequest.queue_query(status=False, service=False, overdue=False, mine=False,
                                                unassigned=False, search=None, keyset=0, limit=51,
                                                unassigned_first=False)  # the first page's: no slot to fill
        sql, params = plan_query.sql()
        prefix = "EXPLAIN QUERY PLAN " if args.engine == "sqlite" else "EXPLAIN "
        plan = db.execute_sql(prefix + sql, params).fetchall()
        print("  plan: " + " | ".join(str(row[-1]) for row in plan))
    median, worst = timed(lambda: client.get("/staff/").status_code == 200 or sys.exit("GET failed"),
                          args.repeat)
    print(f"  {'GET /staff/ (query + HTML)':32s} median {median:7.2f} ms   max {worst:7.2f} ms")
    time_resident_views(app, args.repeat)


def time_resident_views(app, repeat):
    """A resident with 10 requests among the million: each view she opens."""
    with db.connection_context():
        resident = User.get_or_none(User.username == "bench-resident") or make_resident_with_requests(10)
        numbers = [r.number for r in ServiceRequest.select().where(ServiceRequest.owner == resident)]
        version = ServiceRequest.numbered(numbers[0]).version
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(resident.id)
    views = {
        "request page": (f"/requests/{numbers[0]}", {}),
        "My requests": ("/requests/", {}),
        "inquiry by number": (f"/inquiry?number={numbers[0]}", {}),
        "panel, changed": (f"/requests/{numbers[0]}/status", {"HX-Request": "true", "X-Shown-Version": "0-ar"}),
        "panel, unchanged (204)": (f"/requests/{numbers[0]}/status",
                                   {"HX-Request": "true", "X-Shown-Version": f"{version}-ar"}),
    }
    for name, (path, headers) in views.items():
        def view(path=path, headers=headers):
            status = client.get(path, headers=dict(headers, **{"Accept-Language": "ar"})).status_code
            if status >= 400:
                sys.exit(f"GET {path} answered {status}")
        median, worst = timed(view, repeat)
        print(f"  {'GET ' + name:32s} median {median:7.2f} ms   max {worst:7.2f} ms")


def make_resident_with_requests(count):
    resident = User.create(username="bench-resident", full_name="Bench Resident", id_number="1999999990",
                           password_hash="x")
    person = Person.create(sponsor_id_number=resident.id_number, id_number=resident.id_number,
                           name=resident.full_name, nationality="SA")
    service = Service.select().first()
    now, day, payload = utcnow(), riyadh_date(utcnow()), 90000000
    for _ in range(count):
        while ServiceRequest.numbered(f"{payload}{luhn_digit(str(payload))}"):  # taken by the fill
            payload += 1
        payload += 1
        ServiceRequest.create(number=f"{payload - 1}{luhn_digit(str(payload - 1))}", owner=resident, person=person,
                              service=service, description="bench", status=OPEN_STATUSES[0], submitted_at=now,
                              submitted_on=day, due_on=due_date(day, 0, set()), updated_at=now, version=1,
                              draft_token=f"bench-{payload - 1}", waiting_days=0)
    return resident


if __name__ == "__main__":
    main()
