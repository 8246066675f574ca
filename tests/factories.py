"""Test factories: valid identity numbers, a small real PDF, users, residents with
linked persons, and requests filed through the same draft -> submit path as the web."""
import datetime as dt
import functools
import re
import secrets
from contextlib import contextmanager

import pyotp
from werkzeug.security import generate_password_hash

from models import (
    STAFF_ROLES,
    Draft,
    Notice,
    Person,
    RecoveryCode,
    Service,
    ServiceRequest,
    User,
    db,
    utcnow,
)
from models.samples import make_id_number, make_resident

PASSWORD = "correct-horse-42"
TEST_SECRET_KEY = secrets.token_urlsafe(32)  # a new one per run, as a real deployment's is its own


@functools.cache
def password_hash():
    """PASSWORD hashed as the app hashes it (werkzeug's scrypt), once per process: the
    hash is slow on purpose (a third of a second here), and the tests made thousands."""
    return generate_password_hash(PASSWORD)


def minimal_pdf(text="Tawasul document"):
    """A small, valid one-page PDF showing `text` (ASCII)."""
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_user(username, number, role="resident", full_name="Amal Saad"):
    """An account; staff get a second factor (a TOTP secret), as `flask staff create` gives."""
    user = User(username=username, full_name=full_name, id_number=number, role=role,
                totp_secret=pyotp.random_base32() if role in STAFF_ROLES else None)
    user.password_hash = password_hash()  # what user.set_password(PASSWORD) stores, made once
    user.save()
    return user


def make_amal(persons):
    """The resident "amal" (models.samples.make_resident, as the demo's residents),
    linked to herself, the first of `persons`, and to the others: (name, id number,
    nationality) each; her own id number is None there."""
    (name, _own, nationality), *linked = persons
    with db.connection_context():
        return make_resident("amal", name, make_id_number(1, 12345678), password_hash(),
                             nationality=nationality, linked=linked)


def person_of(user, name):
    with db.connection_context():
        return Person.get((Person.sponsor_id_number == user.id_number) & (Person.name == name))


def submit_request(user, person_name="Amal Saad", service="passport", files=1):
    """A request filed through the same draft -> submit path as the web flow."""
    with db.connection_context():
        draft = Draft.create(owner=user, person=person_of(user, person_name),
                             service=Service.get(Service.code == service),
                             description="My passport expires next month and I need it renewed.")
        for index in range(files):
            draft.add_file(f"doc{index}.pdf", "application/pdf", minimal_pdf(f"doc {index}"))
        created = ServiceRequest.submit(draft)
        if created is None:  # a test's data that no resident could send
            raise ValueError(f"the draft is not ready to send: {draft.problems()}")
        return created


@contextmanager
def nobody_available():
    """Requests sent inside wait unassigned in the shared queue, as when no officer is
    available: every officer is away meanwhile (set directly, a test's setting, not
    audited), then as they were. Tests of taking a request from the queue use it."""
    with db.connection_context():
        kept = list(User.select(User.id, User.away_until).where(User.role == "officer"))
        User.update(away_until=dt.date(9999, 12, 31)).where(User.role == "officer").execute()
    try:
        yield
    finally:
        with db.connection_context():
            for officer in kept:
                User.update(away_until=officer.away_until).where(User.id == officer.id).execute()


def registry_entry(name="Nora Fahad", number=None, mobile="+966551234567", nationality="SA", sponsor=None):
    """A person the registry holds, with a mobile, who has no account yet."""
    number = number or make_id_number(1, 10000000)
    with db.connection_context():
        return Person.create(sponsor_id_number=sponsor or number, id_number=number, name=name,
                             nationality=nationality, mobile=mobile)


def last_sms(to):
    """The text of the latest notice queued for the mobile `to`."""
    with db.connection_context():
        notice = Notice.select().where(Notice.to == to).order_by(Notice.id.desc()).first()
        return notice.text if notice else None


def code_in(text):
    found = re.search(r"\b[0-9]{6}\b", text or "")
    return found.group(0) if found else None


def second_factor_code(username, app=None):
    """A code the staff member's app would show that has not been used yet: the
    current step or its neighbours (verify_totp accepts them), else a recovery code."""
    with db.connection_context():
        user = User.get(User.username == username)
        totp = pyotp.TOTP(user.totp_secret)
        now = totp.timecode(utcnow().replace(tzinfo=dt.UTC))
        for step in (now, now + 1, now - 1):  # the current code first: it stays valid longest
            if user.totp_last_step is None or step > user.totp_last_step:
                return totp.generate_otp(step)
        with app.app_context():  # the codes are hashed with the app's secret key
            return RecoveryCode.replace_for(user)[0]


CSRF_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client, path):
    """The CSRF token of the form on the page at `path`."""
    return CSRF_TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in_client(client, username="amal", password=PASSWORD):
    """Sign a test client in as a person would: the password, then the code step for
    staff, with each form's CSRF token when the app checks them. The tests' one way
    to sign in; returns the last response."""
    checks_csrf = client.application.config.get("WTF_CSRF_ENABLED", True)
    data = {"username": username, "password": password}
    if checks_csrf:
        data["csrf_token"] = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", data=data)
    if response.status_code == 303 and response.headers["Location"].startswith("/auth/login/code"):
        step = response.headers["Location"]
        data = {"code": second_factor_code(username, client.application)}
        if checks_csrf:
            data["csrf_token"] = csrf_token(client, step)
        response = client.post(step, data=data)
    return response
