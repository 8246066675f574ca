"""Upgrading a live database: what guards the data of a running Tawasul.

A database is created exactly as commit 822baa7 left it (the DDL in
tests/fixtures/schema_822baa7.<engine>.sql, kept from that commit), filled with
plain SQL (never through the current models, which will change) with requests in
every status, documents, timelines, audit rows, a draft and a holiday. Then the
app upgrades it to head, on SQLite and on PostgreSQL, and the tests check that
every row kept every value, that the migrations are recorded, that the audit trail
still refuses UPDATE and DELETE, and that today's models, pages and `flask db`
commands work on those old rows.

Every later schema change adds a migration in models/migrations/ AND extends these
tests: name it in MIGRATIONS below, then check what it does to the old rows (the
default of a new column, a moved or converted value in `expected_after_upgrade`)
and write a row into the new columns or tables after the upgrade.
"""
import base64
import datetime as dt
import hashlib
import os
import re
from contextlib import closing
from pathlib import Path

import pyotp
import pytest
import time_machine
from peewee import DatabaseError
from werkzeug.security import generate_password_hash

from app import create_app, open_database
from models import (
    ActionRefused,
    AlreadyRated,
    Audit,
    DayOff,
    Document,
    Draft,
    DraftFile,
    Event,
    Objection,
    OfficerService,
    Rating,
    Reason,
    ReasonChange,
    Service,
    ServiceRequest,
    StaffAlert,
    StaffChange,
    User,
    db,
    upgrade,
)
from models.assignment import assign_waiting
from models.catalogue_data import SERVICE_CATALOGUE
from models.reasons import reword_reason
from models.schema import HISTORY_TABLE, runner, status
from tests.conftest import PG_URL
from tests.factories import PASSWORD, TEST_SECRET_KEY, make_id_number, minimal_pdf, sign_in_client

FIXTURES = Path(__file__).parent / "fixtures"
MIGRATIONS = ["0001_initial", "0002_draft_owner_index", "0003_identity", "0004_ratings", "0005_open_by_person",
              "0006_code_per_browser", "0007_assignment", "0008_watcher", "0009_objections", "0010_reasons"]
OLD_TABLES = ["user", "person", "service", "holiday", "reason", "servicerequest", "event", "audit",
              "document", "draft", "draftfile"]
CATALOGUE_TABLES = ("service", "reason")  # rewritten by every upgrade from models/catalogue_data.py

PASSWORD_HASH = generate_password_hash(PASSWORD)  # once: hashing is slow on purpose
AMAL_ID, YUSUF_ID = make_id_number(1, 12345678), make_id_number(2, 11111111)
PDF = minimal_pdf("Passport copy")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA"
                       "WjR9awAAAABJRU5ErkJggg==")  # one pixel: bytes far from ASCII
# Luhn-valid request numbers: one per status, and a received one from September
RECEIVED_NO, REVIEW_NO, RETURNED_NO, ACCEPTED_NO, REJECTED_NO, LATE_NO = (
    "261116016", "261110027", "261111033", "261101042", "261102057", "260917067")
ARABIC_DESCRIPTION = "جواز سفري ينتهي الشهر القادم وأحتاج إلى تجديده."
REJECTION = "صورة الإقامة غير واضحة، أعد إرسالها بدقة أعلى."
NOTE = "اتصلت بالكفيل: سيرسل العقد غدا."
# 822baa7 knew no public holidays: it put LATE_NO's deadline on 28 September 2026,
# the current calendar skips National Day (23 September) and moves it a day.
LATE_DUE_822BAA7, LATE_DUE_NOW = "2026-09-28", "2026-09-29"


# ------------------------------------------------------------------ databases

def pg_admin(sql):
    import psycopg2
    with closing(psycopg2.connect(PG_URL)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    if request.param == "postgres":
        request.getfixturevalue("pg_url")  # skips, or fails in CI, when PostgreSQL is down
    return request.param


@pytest.fixture
def new_database(engine, tmp_path):
    """new_database(name) -> the address of an empty database: a SQLite file, or a
    PostgreSQL schema of its own, dropped at the end."""
    schemas = []

    def make(name):
        if engine == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite"
        schema = f"tawasul_{name}_{os.getpid()}"
        pg_admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        schemas.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    yield make
    if not db.is_closed():
        db.close()
    for schema in schemas:
        pg_admin(f"DROP SCHEMA {schema} CASCADE")


def ddl_822baa7(engine):
    """The statements of the fixture, one by one (comment lines left out)."""
    text = (FIXTURES / f"schema_822baa7.{engine}.sql").read_text(encoding="utf-8")
    return ["\n".join(line for line in block.splitlines() if not line.startswith("--"))
            for block in text.split("\n-- statement\n")]


def create_822baa7(engine, url, with_data=True):
    with closing(open_database(url)) as database, database.atomic():
        for statement in ddl_822baa7(engine):
            database.execute_sql(statement)
        if with_data:
            fill_822baa7(database)
    return url


def open_app(url):
    """The current app on `url`, without upgrading it (tests.conftest.make_app would)."""
    return create_app(dict(TESTING=True, WTF_CSRF_ENABLED=False, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=url,
                           RATELIMIT_ENABLED=False))


# ------------------------------------------------------------------ 822baa7's rows, in plain SQL

def insert(database, table, **values):
    """One INSERT in plain SQL; returns the new row's id."""
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join([database.param] * len(values))
    sql = f'INSERT INTO "{table}" ({columns}) VALUES ({marks}) RETURNING "id"'
    return database.execute_sql(sql, list(values.values())).fetchone()[0]


def insert_file(database, table, data, **values):
    return insert(database, table, size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data, **values)


def fill_822baa7(database):
    """What a running 822baa7 held: people, a piece of the catalogue, a holiday, six
    requests in every status with their documents, timelines and audit rows, a draft."""
    ids = add_people(database)
    ids.update(add_catalogue(database))
    insert(database, "holiday", day="2026-11-19", name="يوم تدريب المديرية")
    add_requests(database, ids)
    draft = insert(database, "draft", token="draft-token-amal-1", owner_id=ids["amal"], service_id=ids["passport"],
                   person_id=ids["yusuf"], description="مسودة: تجديد إقامة يوسف", updated_at="2026-11-20 12:00:00")
    insert_file(database, "draftfile", PDF, draft_id=draft, name="iqama.pdf", content_type="application/pdf")


def add_people(database):
    amal = insert(database, "user", username="amal", password_hash=PASSWORD_HASH, full_name="أمل سعد",
                  id_number=AMAL_ID, role="resident", locale="ar", failed_logins=0, disabled=False,
                  created_at="2026-10-01 08:00:00")
    noura = insert(database, "user", username="noura", password_hash=PASSWORD_HASH, full_name="Noura Officer",
                   id_number=None, role="officer", locale="en", failed_logins=1, disabled=False,
                   created_at="2026-09-01 07:00:00")
    herself = insert(database, "person", sponsor_id_number=AMAL_ID, id_number=AMAL_ID, name="أمل سعد",
                     nationality="SA")
    yusuf = insert(database, "person", sponsor_id_number=AMAL_ID, id_number=YUSUF_ID, name="Yusuf Yemeni",
                   nationality="YE")
    return dict(amal=amal, noura=noura, herself=herself, yusuf=yusuf)


def add_catalogue(database):
    """Two services and two reasons as 822baa7's catalogue wrote them."""
    passport = insert(database, "service", code="passport", position=0,
                      name_ar="جواز السفر: إصدار أو تمديد أو تجديد", name_en="Passport: issue, extend or renew",
                      documents_ar="صورة الجواز الحالي، صورة شخصية حديثة",
                      documents_en="Copy of the current passport, a recent photo", id_types="", nationalities="")
    dependents = insert(database, "service", code="dependents", position=1, name_ar="خدمات التابعين والعمالة",
                        name_en="Services for dependents and workers",
                        documents_ar="صورة هوية المكفول، ما يثبت صلة التبعية",
                        documents_en="Copy of the person's ID, proof of the sponsorship or relationship",
                        id_types="", nationalities="")
    done = insert(database, "reason", code="done", kind="accept", service_id=None,
                  text_ar="تمت الموافقة على طلبك وتنفيذ الخدمة.",
                  text_en="Your request was approved and the service has been carried out.")
    docs_missing = insert(database, "reason", code="docs_missing", kind="reject", service_id=None,
                          text_ar="المستندات المطلوبة ناقصة أو غير واضحة.",
                          text_en="The required documents are missing or cannot be read.")
    return dict(passport=passport, dependents=dependents, done=done, docs_missing=docs_missing)


def add_request(database, ids, number, submitted_at, submitted_on, due_on, **values):
    """A request with its first event and a document."""
    row = dict(number=number, owner_id=ids["amal"], person_id=ids["herself"], service_id=ids["passport"],
               description=ARABIC_DESCRIPTION, status="received", submitted_at=submitted_at,
               submitted_on=submitted_on, due_on=due_on, waiting_days=0, updated_at=submitted_at, version=1,
               draft_token=f"token-{number}")
    request = insert(database, "servicerequest", **dict(row, **values))
    insert(database, "event", request_id=request, at=submitted_at, kind="submitted", status="received",
           internal=False)
    insert_file(database, "document", PDF, request_id=request, name="passport.pdf", content_type="application/pdf",
                added_at=submitted_at)
    return request


def staff_step(database, ids, request, at, action, from_status, to_status, message=None, reason=None):
    """An officer's step: its line in the timeline and its audit row."""
    kind = {"claim": "claim", "note": "note"}.get(action, "status")
    insert(database, "event", request_id=request, at=at, kind=kind, actor_id=ids["noura"], message=message,
           status=None if kind != "status" else to_status, reason_choice_id=reason,
           internal=kind in ("claim", "note"))
    insert(database, "audit", request_id=request, actor_id=ids["noura"], at=at, action=action,
           from_status=from_status, to_status=to_status, ip="10.20.0.7")


def add_requests(database, ids):
    add_request(database, ids, RECEIVED_NO, "2026-11-16 05:10:42.517303", "2026-11-16", "2026-11-26")
    add_request(database, ids, LATE_NO, "2026-09-17 06:00:00", "2026-09-17", LATE_DUE_822BAA7)

    review = add_request(database, ids, REVIEW_NO, "2026-11-10 06:00:00", "2026-11-10", "2026-11-24",
                         person_id=ids["yusuf"], service_id=ids["dependents"], status="under_review",
                         assignee_id=ids["noura"], waiting_days=2, version=4,
                         description="Renew the iqama of my worker Yusuf — تجديد إقامة العامل يوسف.")
    staff_step(database, ids, review, "2026-11-10 07:00:00", "claim", "received", "received")
    staff_step(database, ids, review, "2026-11-10 07:01:00", "under_review", "received", "under_review")
    staff_step(database, ids, review, "2026-11-11 09:00:00", "returned", "under_review", "returned",
               message="أرفق عقد العمل.")
    insert(database, "event", request_id=review, at="2026-11-15 10:00:00", kind="answer", status="under_review",
           actor_id=ids["amal"], message="أرفقت العقد.", internal=False)
    insert_file(database, "document", PNG, request_id=review, name="contract.png", content_type="image/png",
                added_at="2026-11-15 10:00:00")
    staff_step(database, ids, review, "2026-11-16 08:00:00", "note", "under_review", "under_review", message=NOTE)

    returned = add_request(database, ids, RETURNED_NO, "2026-11-11 07:00:00", "2026-11-11", "2026-11-23",
                           status="returned", assignee_id=ids["noura"], paused_at="2026-11-18 09:00:00", version=3)
    staff_step(database, ids, returned, "2026-11-12 06:00:00", "under_review", "received", "under_review")
    staff_step(database, ids, returned, "2026-11-18 09:00:00", "returned", "under_review", "returned",
               message="أرفق صورة شخصية حديثة.")

    accepted = add_request(database, ids, ACCEPTED_NO, "2026-11-01 06:00:00", "2026-11-01", "2026-11-10",
                           status="accepted", assignee_id=ids["noura"], reason_choice_id=ids["done"],
                           decided_at="2026-11-04 10:30:00", decided_on="2026-11-04", hours_to_decision=76.5,
                           version=3)
    staff_step(database, ids, accepted, "2026-11-02 06:00:00", "under_review", "received", "under_review")
    staff_step(database, ids, accepted, "2026-11-04 10:30:00", "accepted", "under_review", "accepted",
               reason=ids["done"])

    rejected = add_request(database, ids, REJECTED_NO, "2026-11-02 05:00:00", "2026-11-02", "2026-11-11",
                           status="rejected", reason_choice_id=ids["docs_missing"], reason=REJECTION,
                           decided_at="2026-11-03 17:15:00", decided_on="2026-11-03", hours_to_decision=36.25,
                           version=2)
    staff_step(database, ids, rejected, "2026-11-03 17:15:00", "rejected", "under_review", "rejected",
               message=REJECTION, reason=ids["docs_missing"])


# ------------------------------------------------------------------ what the database holds

def plain(value):
    """A value as both drivers can compare it: dates and times as text, bytes as bytes."""
    if isinstance(value, memoryview):
        return bytes(value)
    if hasattr(value, "isoformat"):
        return str(value)
    return value


def rows_of(database, table):
    cursor = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY "id"')
    names = [column[0] for column in cursor.description]
    return {row[0]: dict(zip(names, map(plain, row), strict=True)) for row in cursor.fetchall()}


def snapshot(database):
    """{table: {id: row}} of every table 822baa7 had."""
    return {table: rows_of(database, table) for table in OLD_TABLES}


def without_catalogue(tables):
    return {name: rows for name, rows in tables.items() if name not in CATALOGUE_TABLES}


def expected_after_upgrade(before):
    """The only changes an upgrade makes to 822baa7's rows: open deadlines follow the
    current calendar (version + 1, so open pages refresh), and 0003's columns."""
    expected = without_catalogue(before)
    for row in expected["user"].values():  # 0003: the lock moved to sign_in_failure; mobiles, second factors
        del row["failed_logins"], row["locked_until"]
        row.update(mobile=None, totp_secret=None, totp_last_step=None, supervisor_id=None)  # 0008: supervisor
        row.update(away_until=None, last_assigned_at=None)  # 0007: present, never given a request by the rule
    for row in expected["audit"].values():  # 0007: no note, nobody given the request
        row.update(note=None, assignee_id=None)
    for row in expected["person"].values():
        row.update(mobile=None)
    for row in expected["document"].values():  # 0009: no old document came with an objection
        row.update(objection_id=None)
    for row in expected["servicerequest"].values():
        if row["number"] == LATE_NO:
            row.update(due_on=LATE_DUE_NOW, version=row["version"] + 1)
    return expected


def schema_of(database):
    """Columns, indexes, foreign keys and triggers, as the database describes them."""
    tables = {}
    for table in database.get_tables():
        columns = [(c.name, c.data_type, c.null, c.primary_key) for c in database.get_columns(table)]
        indexes = sorted((i.name, tuple(i.columns), i.unique, i.sql.partition(" WHERE ")[2])
                         for i in database.get_indexes(table))
        keys = sorted((k.column, k.dest_table, k.dest_column, k.on_delete) for k in database.get_foreign_keys(table))
        tables[table] = (columns, indexes, keys)
    return tables, triggers_of(database)


def triggers_of(database):
    if database.param == "?":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = current_schema()"
    return sorted({name for name, in database.execute_sql(sql)})


# ------------------------------------------------------------------ the upgrade

@pytest.fixture
def legacy(engine, new_database):
    """An 822baa7 database with its rows, and the snapshot of them before upgrading."""
    url = create_822baa7(engine, new_database("legacy"))
    with closing(open_database(url)) as database:
        return url, snapshot(database)


@pytest.fixture
def upgraded(legacy):
    """The current app on the 822baa7 database, after upgrade(); (app, snapshot before, applied)."""
    url, before = legacy
    app = open_app(url)
    with app.app_context(), db.connection_context():
        applied = upgrade()
    return app, before, applied


def test_upgrade_applies_every_migration_and_keeps_every_row(upgraded):
    _, before, applied = upgraded
    assert applied == MIGRATIONS
    with db.connection_context():
        after = snapshot(db)
    assert without_catalogue(after) == expected_after_upgrade(before)
    for table in CATALOGUE_TABLES:  # same ids for the same codes, the shipped catalogue completed
        kept = {row_id: row["code"] for row_id, row in before[table].items()}
        assert {row_id: after[table][row_id]["code"] for row_id in kept} == kept
    assert {row["code"] for row in after["service"].values()} == {s["code"] for s in SERVICE_CATALOGUE}


def test_old_documents_keep_their_bytes(upgraded):
    before = upgraded[1]
    with db.connection_context():
        files = list(Document.select()) + list(DraftFile.select())
    assert len(files) == len(before["document"]) + len(before["draftfile"]) == 8
    for stored in files:
        assert hashlib.sha256(bytes(stored.data)).hexdigest() == stored.sha256 and stored.size == len(stored.data)
    assert {bytes(stored.data) for stored in files} == {PDF, PNG}


def test_history_is_recorded_and_a_second_upgrade_does_nothing(upgraded):
    with db.connection_context():
        assert [(name, applied is not None) for name, applied in status()] == [(m, True) for m in MIGRATIONS]
        assert "draft_owner_id_updated_at" in {index.name for index in db.get_indexes("draft")}
        before = snapshot(db)
        assert runner().up() == []
        assert upgrade() == []
        assert snapshot(db) == before


def test_the_audit_trail_still_refuses_update_and_delete(upgraded):
    old_rows = len(upgraded[1]["audit"])
    with db.connection_context():
        for sql in ('UPDATE "audit" SET "ip" = NULL', 'DELETE FROM "audit"'):
            with pytest.raises(DatabaseError, match="append-only"), db.atomic():
                db.execute_sql(sql)
        assert Audit.select().where(Audit.ip == "10.20.0.7").count() == old_rows == 9


def test_current_models_read_the_old_requests(upgraded):
    with db.connection_context():
        received = ServiceRequest.numbered(RECEIVED_NO)
        assert (received.status, received.description, received.days_left(received.submitted_on)) == (
            "received", ARABIC_DESCRIPTION, 10)
        returned = ServiceRequest.numbered(RETURNED_NO)
        assert (returned.status, str(returned.paused_at), returned.days_left()) == (
            "returned", "2026-11-18 09:00:00", None)
        accepted = ServiceRequest.numbered(ACCEPTED_NO)
        assert (accepted.is_final, str(accepted.decided_on), accepted.hours_to_decision) == (True, "2026-11-04", 76.5)
        rejected = ServiceRequest.numbered(REJECTED_NO)
        assert (rejected.reason, rejected.reason_choice.code, rejected.hours_to_decision) == (
            REJECTION, "docs_missing", 36.25)
        review = ServiceRequest.numbered(REVIEW_NO)
        assert (review.assignee.username, review.person.name, review.waiting_days) == ("noura", "Yusuf Yemeni", 2)
        amal = User.get(User.username == "amal")
        assert [r.number for r in ServiceRequest.of_owner(amal)][:2] == [RECEIVED_NO, RETURNED_NO]


def test_current_models_read_the_old_timelines_documents_drafts_and_holidays(upgraded):
    with db.connection_context():
        review = ServiceRequest.numbered(REVIEW_NO)
        assert [e.kind for e in Event.timeline(review)] == ["submitted", "status", "status", "answer"]
        staff_see = list(Event.timeline(review, staff=True))
        assert [e.kind for e in staff_see] == ["submitted", "claim", "status", "status", "answer", "note"]
        assert staff_see[-1].message == NOTE
        assert [(a.action, a.actor.username) for a in Audit.of_request(review)][-1] == ("note", "noura")
        assert [d.name for d in Document.listing(review)] == ["passport.pdf", "contract.png"]
        amal = User.get(User.username == "amal")
        assert [(d.token, d.service.code) for d in Draft.open_for(amal)] == [("draft-token-amal-1", "passport")]
        assert {str(day) for day in DayOff.days()} == {"2026-11-19"}


def sign_in(client, username):
    response = sign_in_client(client, username)
    assert response.status_code == 303, response.text


def test_resident_and_officer_work_on_old_requests(upgraded):
    app, before, _ = upgraded
    resident = app.test_client()
    sign_in(resident, "amal")
    page = resident.get(f"/requests/{REVIEW_NO}")
    assert page.status_code == 200
    assert REVIEW_NO in page.text and "تجديد إقامة العامل يوسف" in page.text and NOTE not in page.text
    document_id = re.search(rf"/requests/{REVIEW_NO}/documents/(\d+)", page.text).group(1)
    assert resident.get(f"/requests/{REVIEW_NO}/documents/{document_id}").data == PDF

    officer = app.test_client()
    with db.connection_context():  # staff from before 0003 are given a second factor first
        User.update(totp_secret=pyotp.random_base32()).where(User.username == "noura").execute()
    sign_in(officer, "noura")
    page = officer.get(f"/staff/requests/{REVIEW_NO}")
    assert page.status_code == 200 and NOTE in page.text
    done = next(row_id for row_id, row in before["reason"].items() if row["code"] == "done")
    decided = officer.post(f"/staff/requests/{REVIEW_NO}/decide", data={"decision": "accepted", "reason_choice": done})
    assert decided.status_code == 303, decided.text
    with db.connection_context():
        assert ServiceRequest.numbered(REVIEW_NO).status == "accepted"
        assert Audit.select().count() == len(before["audit"]) + 1  # new ids follow the old ones


def test_0004_adds_an_empty_rating_table_and_old_decided_requests_can_be_rated(upgraded):
    app, before, _ = upgraded
    with db.connection_context():
        assert "rating" in db.get_tables() and Rating.select().count() == 0
        assert any(i.unique and i.columns == ["request_id"] for i in db.get_indexes("rating"))
    resident = app.test_client()
    sign_in(resident, "amal")
    page = resident.get(f"/requests/{REJECTED_NO}")
    assert page.status_code == 200 and f"/requests/{REJECTED_NO}/again" in page.text
    rated = resident.post(f"/requests/{ACCEPTED_NO}/rating", data={"stars": "5", "comment": "شكرا"})
    assert rated.status_code == 303, rated.text
    assert resident.post(f"/requests/{ACCEPTED_NO}/rating", data={"stars": "2"}).status_code == 409
    with db.connection_context():
        rating = Rating.get()
        assert (rating.request.number, rating.stars, rating.comment) == (ACCEPTED_NO, 5, "شكرا")
        with pytest.raises(AlreadyRated):
            Rating.give(ServiceRequest.numbered(ACCEPTED_NO), 1)
        after = snapshot(db)
    assert without_catalogue(after) == expected_after_upgrade(before)  # no old row changed


def test_0009_adds_an_empty_objection_table_and_an_old_rejection_can_be_objected_to(upgraded):
    app, _before, _applied = upgraded
    with app.test_request_context(), db.connection_context():
        assert "objection" in db.get_tables() and Objection.select().count() == 0
        rejected = ServiceRequest.numbered(REJECTED_NO)
        owner = User.get_by_id(rejected.owner_id)
        with time_machine.travel(dt.datetime.combine(rejected.decided_on, dt.time(9)), tick=False):
            objection = Objection.lodge(rejected, owner, "The certificate was attested; see the copy attached.",
                                        [("attested.pdf", "application/pdf", PDF)])
        assert Document.get(Document.objection == objection).request_id == rejected.id
        with pytest.raises(ActionRefused):
            Objection.lodge(rejected, owner, "A second objection to the same decision, refused.", [])


def test_0005_finds_a_persons_undecided_requests_by_index(upgraded):
    _, before, _ = upgraded
    with db.connection_context():
        index = next(i for i in db.get_indexes("servicerequest") if i.name == "servicerequest_open_by_person")
        assert index.columns == ["person_id", "due_on", "id"] and "decided_at" in index.sql.lower()
        officer = User.get(User.role == "officer")
        assert [r.number for r in ServiceRequest.queue(officer, search=YUSUF_ID)] == [REVIEW_NO]
        assert without_catalogue(snapshot(db)) == expected_after_upgrade(before)


def test_0005_refreshes_sqlites_statistics_where_it_keeps_them(legacy, engine):
    """An index the statistics do not know looked cheapest to SQLite's planner: the
    queue's first page then sorted every undecided request."""
    if engine != "sqlite":
        pytest.skip("PostgreSQL keeps its statistics itself")
    url, _ = legacy
    with closing(open_database(url)) as database:
        database.execute_sql("ANALYZE")
    app = open_app(url)
    with app.app_context(), db.connection_context():
        upgrade()
        known = {name for (name,) in db.execute_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'servicerequest'")}
        assert {"servicerequest_open_queue", "servicerequest_open_by_person"} <= known


def test_0010_keeps_old_reasons_current_and_a_rewording_leaves_old_decisions_their_words(upgraded):
    app, before, _ = upgraded
    with db.connection_context():
        old = {row["code"]: row for row in before["reason"].values()}
        assert all(Reason.get(Reason.code == code).retired_at is None for code in old)
        assert Reason.select().where(Reason.replaces.is_null(False)).count() == 0
        assert ReasonChange.select().count() == 0
        supervisor = User.get(User.role == "officer")  # the old database has no supervisor: a command's change
        docs_missing = Reason.get(Reason.code == "docs_missing")  # the words the old rejection shows
        reword_reason(supervisor, docs_missing, "نص جديد للسبب.", "New words for the reason.")
        for sql in ('UPDATE "reason_change" SET "new_text_en" = NULL', 'DELETE FROM "reason_change"'):
            with pytest.raises(DatabaseError, match="append-only"), db.atomic():
                db.execute_sql(sql)
        assert upgrade() == []  # a restart keeps the change
        assert Reason.get(Reason.code == "docs_missing").retired_at is not None
        assert [r.text_en for r in Reason.for_service(None) if r.kind == "reject"][-1] == "New words for the reason."
    resident = app.test_client()
    sign_in(resident, "amal")
    page = resident.get(f"/requests/{REJECTED_NO}").text
    assert docs_missing.text_ar in page and "نص جديد للسبب." not in page
def test_0008_gives_staff_a_supervisor_and_records_who_was_told(upgraded):
    _, before, _ = upgraded
    with db.connection_context():
        assert "staff_alert" in db.get_tables() and StaffAlert.select().count() == 0
        assert any(i.unique and i.columns == ["request_id", "user_id", "kind"] for i in db.get_indexes("staff_alert"))
        index = next(i for i in db.get_indexes("servicerequest") if i.name == "servicerequest_open_by_assignee")
        assert index.columns == ["assignee_id", "due_on", "id"] and "decided_at" in index.sql.lower()
        noura = User.get(User.username == "noura")
        assert noura.supervisor is None
        chief = User.create(username="chief", password_hash=PASSWORD_HASH, full_name="Chief", role="supervisor")
        noura.set_supervisor(chief)
        assert User.get(User.username == "noura").supervisor.username == "chief"
        review = ServiceRequest.numbered(REVIEW_NO)
        StaffAlert.create(request=review, user=noura, kind="at_risk", notice_key="staff-test")
        assert [(a.request.number, a.user.username) for a in StaffAlert.select()] == [(REVIEW_NO, "noura")]


def test_0007_keeps_who_holds_old_requests_and_assigns_new_ones(upgraded):
    app, before, _ = upgraded
    with db.connection_context():
        index = next(i for i in db.get_indexes("servicerequest") if i.name == "servicerequest_open_by_assignee")
        assert index.columns == ["assignee_id", "due_on", "id"] and "decided_at" in index.sql.lower()
        noura = User.get(User.username == "noura")
        assert (noura.away_until, noura.last_assigned_at) == (None, None)
        assert ServiceRequest.numbered(RECEIVED_NO).assignee_id is None  # old requests are not moved
        assert assign_waiting() == 2  # ... until someone asks: the two that waited go to noura
        assert ServiceRequest.numbered(RECEIVED_NO).assignee_id == noura.id
        given = Audit.get((Audit.action == "assign") & (Audit.request == ServiceRequest.numbered(LATE_NO).id))
        assert (given.actor_id, given.assignee_id, given.note) == (None, noura.id, None)
        StaffChange.create(officer=noura, action="away", note="2026-12-01")
        for sql in ('UPDATE "staff_change" SET "note" = NULL', 'DELETE FROM "staff_change"'):
            with pytest.raises(DatabaseError, match="append-only"), db.atomic():
                db.execute_sql(sql)
        OfficerService.create(officer=noura, service=Service.get(Service.code == "passport"))
        with pytest.raises(DatabaseError), db.atomic():  # once per (officer, service)
            OfficerService.create(officer=noura, service=Service.get(Service.code == "passport"))


def test_db_status_lists_the_applied_migrations_and_exits_1_when_one_is_pending(upgraded):
    cli = upgraded[0].test_cli_runner()
    result = cli.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == len(MIGRATIONS)
    for line, name in zip(lines, MIGRATIONS, strict=True):
        assert line.startswith(f"[x] {name}  "), line
    with db.connection_context():
        db.execute_sql(f'DELETE FROM "{HISTORY_TABLE}" WHERE name = {db.param}', (MIGRATIONS[-1],))
    result = cli.invoke(args=["db", "status"])
    assert result.exit_code == 1
    assert f"[ ] {MIGRATIONS[-1]}" in result.output and "1 migration(s) pending" in result.output


def test_a_new_database_upgrades_to_the_same_schema_as_an_old_one(engine, new_database):
    fresh = new_database("fresh")
    cli = open_app(fresh).test_cli_runner()
    result = cli.invoke(args=["db", "status"])
    assert result.exit_code == 1
    assert [f"[ ] {name}" for name in MIGRATIONS] == result.output.splitlines()[:len(MIGRATIONS)]
    result = cli.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and result.output.strip() == f"Applied {', '.join(MIGRATIONS)}."
    assert cli.invoke(args=["db", "status"]).exit_code == 0
    db.close()  # the commands' connection, before the app moves to the other database

    old = create_822baa7(engine, new_database("old"), with_data=False)
    app = open_app(old)
    with app.app_context(), db.connection_context():
        upgrade()
    with closing(open_database(fresh)) as new_one, closing(open_database(old)) as old_one:
        assert schema_of(new_one) == schema_of(old_one)
        assert triggers_of(new_one) == ["audit_no_delete", "audit_no_update", "reason_change_no_delete",
                                        "reason_change_no_update", "staff_change_no_delete",
                                        "staff_change_no_update"]
