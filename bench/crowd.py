"""Many residents and officers for the benchmarks (bench/speed.py, bench/panels.py),
each with their own account, their own requests and their own signed-in session, so
that a run meets what users meet: every request page rendered the first time a worker
sees it, every panel and queue of its own, not one row answered again and again.

The accounts, persons, requests (with their timeline and a document) go into the
bench's database in bulk, through the models, in one write transaction, with a cheap
password hash (werkzeug reads the method from the hash, so the portal checks it as
any other). Then each signs in over real HTTP as a browser does (sessions live on the
server, web/sessions.py), the officers with their second factor, several at once."""
import datetime as dt
import http.cookiejar
import os
import random
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pyotp  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import open_database  # noqa: E402
from cli.demo import DEMO_TOTP_SECRETS, demo_document  # noqa: E402
from models import (  # noqa: E402
    ACCEPTED,
    RECEIVED,
    REJECTED,
    UNDER_REVIEW,
    Document,
    Event,
    Person,
    Reason,
    Service,
    ServiceRequest,
    User,
    db,
    due_date,
    riyadh_date,
    utcnow,
    write_transaction,
)
from models.base import StoredFile  # noqa: E402
from models.rules import new_request_number  # noqa: E402
from models.samples import make_id_number  # noqa: E402

PASSWORD = "bench-password-2026"
CHEAP_HASH = "pbkdf2:sha256:1000"  # the demo's hash costs ~0.1 s a sign-in; this one well under 1 ms
STATES = (UNDER_REVIEW, RECEIVED, "decided")  # a resident's requests, in turn
BATCH = 100
SIGN_INS_AT_ONCE = 8


@dataclass
class Filed:
    """A bench request: its number, its version (what its panel shows) and whether
    it awaits a decision (only then does its panel poll)."""
    number: str
    version: int
    undecided: bool


@dataclass
class Account:
    username: str
    totp_secret: str = None  # officers: their second factor
    requests: list = field(default_factory=list)  # residents: [Filed]
    cookie: str = None  # "session=…" once signed in


class Browser:
    """Just enough of a browser to sign in: cookies and the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.staying = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), StayHere)

    def get(self, path):
        return self.opener.open(self.base + path).read().decode()

    def post_form(self, path, page, follow=True, **fields):
        """The form's answer (after its redirect), or "" when told not to follow it."""
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(dict(fields, csrf_token=token)).encode()
        try:
            return (self.opener if follow else self.staying).open(self.base + path, data).read().decode()
        except urllib.error.HTTPError as error:
            if follow or error.code not in (302, 303):
                raise
            return ""

    def sign_in(self, username, password, totp_secret=None):
        """Signed in with the password and, for staff, the code of their second factor."""
        totp_secret = totp_secret or DEMO_TOTP_SECRETS.get(username)
        page = self.post_form("/auth/login", self.get("/auth/login"), follow=bool(totp_secret),
                              username=username, password=password)
        if totp_secret:
            self.post_form("/auth/login/code", page, follow=False, code=pyotp.TOTP(totp_secret).now())
        if not any(c.name == "session" for c in self.jar):
            raise SystemExit(f"{username} could not sign in")
        return self

    def cookie(self):
        return next(f"{c.name}={c.value}" for c in self.jar if c.name == "session")


class StayHere(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: a sign-in's next page costs the bench a page it does not need."""

    def redirect_request(self, *args, **kwargs):
        return None


def populate(database_url, residents=200, per_resident=3, officers=4, seed=16):
    """`residents` residents with `per_resident` requests each (under review, received,
    decided, in turn) and `officers` officers who hold the undecided ones in turn."""
    rng = random.Random(seed)
    db.initialize(open_database(database_url))
    with db.connection_context(), write_transaction():
        hashed = generate_password_hash(PASSWORD, CHEAP_HASH)
        staff = make_officers(officers, hashed)
        people = make_residents(residents, hashed)
        file_requests(rng, people, per_resident, staff)
    return list(people.values()), list(staff.values())


def make_officers(count, hashed):
    """{user id: Account}: officers with a known second factor."""
    insert(User, [dict(username=f"bench-officer{k}", full_name=f"Bench Officer {k}", role="officer",
                       password_hash=hashed, totp_secret=pyotp.random_base32()) for k in range(count)])
    found = User.select(User.id, User.username, User.totp_secret).where(User.username.startswith("bench-officer"))
    return {user.id: Account(user.username, user.totp_secret) for user in found.order_by(User.id)}


def make_residents(count, hashed):
    """{person id: Account}: residents, each their own person in the registry."""
    rows = [dict(username=f"bench{i:05d}", full_name=f"Bench Resident {i}", id_number=make_id_number(1, 70000000 + i),
                 password_hash=hashed) for i in range(count)]
    insert(User, rows)
    insert(Person, [dict(sponsor_id_number=row["id_number"], id_number=row["id_number"], name=row["full_name"],
                         nationality="SA") for row in rows])
    found = (Person.select(Person.id, User.id, User.username)
             .join(User, on=(Person.sponsor_id_number == User.id_number))
             .where(User.username.startswith("bench0") & (Person.id_number == User.id_number)).order_by(User.id))
    return {person.id: Account(person.user.username) for person in found}


def file_requests(rng, people, per_resident, staff):
    services = list(Service.ordered())
    reasons = {kind: list(Reason.select().where(Reason.kind == kind)) for kind in ("accept", "reject")}
    officers = list(staff) or [None]
    users = dict(User.select(User.username, User.id).where(User.username.startswith("bench0")).tuples())
    taken = {number for number, in ServiceRequest.select(ServiceRequest.number).tuples()}
    now, due_on, rows = utcnow(), {}, []
    for index, (person_id, account) in enumerate(people.items()):
        for k in range(per_resident):
            number = unused(taken)
            submitted = now - dt.timedelta(hours=rng.uniform(1, 24 * 10))
            day = riyadh_date(submitted)
            due_on.setdefault(day, due_date(day))
            state = STATES[k % len(STATES)]
            row = dict(number=number, owner=users[account.username], person=person_id,
                       service=rng.choice(services).id, description="Bench request: please renew before travel.",
                       status=state, submitted_at=submitted, submitted_on=day, due_on=due_on[day],
                       updated_at=submitted, version=2 if state == UNDER_REVIEW else 1,
                       draft_token=f"bench-{number}", waiting_days=0,
                       assignee=officers[(index * per_resident + k) % len(officers)], reason_choice=None,
                       decided_at=None, decided_on=None, hours_to_decision=None)  # every row the same keys
            if state == "decided":
                decide(rng, row, reasons)
            rows.append(row)
            account.requests.append(Filed(number, row["version"], state != "decided"))
    insert(ServiceRequest, rows)
    ids = dict(ServiceRequest.select(ServiceRequest.number, ServiceRequest.id)
               .where(ServiceRequest.draft_token.startswith("bench-")).tuples())
    insert(Event, [event for row in rows for event in timeline(ids[row["number"]], row)])
    document = StoredFile.values("passport-copy.pdf", "application/pdf", demo_document())
    insert(Document, [dict(document, request=ids[row["number"]], added_at=row["submitted_at"]) for row in rows])


def decide(rng, row, reasons):
    decided = row["submitted_at"] + dt.timedelta(hours=rng.uniform(0.5, 20))
    outcome = ACCEPTED if rng.random() < 0.7 else REJECTED
    row.update(status=outcome, reason_choice=rng.choice(reasons["accept" if outcome == ACCEPTED else "reject"]).id,
               decided_at=decided, decided_on=riyadh_date(decided), updated_at=decided, version=3,
               hours_to_decision=(decided - row["submitted_at"]).total_seconds() / 3600)


def timeline(request_id, row):
    """Sent, then under review, then decided, as far as the request went (every
    event with the same keys: insert_many takes its columns from the first row)."""
    def event(at, kind, status, actor=None, reason_choice=None):
        return dict(request=request_id, at=at, kind=kind, status=status, actor=actor, reason_choice=reason_choice)
    events = [event(row["submitted_at"], "submitted", RECEIVED)]
    if row["status"] != RECEIVED:
        events.append(event(row["submitted_at"] + dt.timedelta(minutes=20), "status", UNDER_REVIEW, row["assignee"]))
    if row["decided_at"]:
        events.append(event(row["decided_at"], "status", row["status"], row["assignee"], row["reason_choice"]))
    return events


def unused(taken):
    number = new_request_number()
    while number in taken:
        number = new_request_number()
    taken.add(number)
    return number


def insert(model, rows):
    for start in range(0, len(rows), BATCH):
        model.insert_many(rows[start:start + BATCH]).execute()


def sign_in_all(base, accounts):
    """Each account signs in over HTTP (several at once); its session cookie is kept."""
    def sign_in(account):
        account.cookie = Browser(base).sign_in(account.username, PASSWORD, account.totp_secret).cookie()
    with ThreadPoolExecutor(SIGN_INS_AT_ONCE) as pool:
        list(pool.map(sign_in, accounts))
    return accounts
