"""Test factories: valid identity numbers, a small real PDF, users, residents with
linked persons, and requests filed through the same draft -> submit path as the web."""
import datetime as dt
import re
import secrets

import pyotp

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
    luhn_digit,
    utcnow,
)

PASSWORD = "correct-horse-42"
TEST_SECRET_KEY = secrets.token_urlsafe(32)  # a new one per run, as a real deployment's is its own


def id_number(prefix, body):
    """A valid identity number: prefix digit, 8 digits, Luhn check digit."""
    payload = f"{prefix}{body:08d}"
    return payload + luhn_digit(payload)


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
    user.set_password(PASSWORD)
    user.save()
    return user


def make_resident(persons):
    """A citizen "amal" linked to herself (the first of `persons`) and the others:
    (name, id number, nationality) each."""
    with db.connection_context():
        user = make_user("amal", id_number(1, 12345678), full_name=persons[0][0])
        for name, number, nationality in persons:
            Person.create(sponsor_id_number=user.id_number, id_number=number or user.id_number,
                          name=name, nationality=nationality)
    return user


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
        return ServiceRequest.submit(draft)


def registry_entry(name="Nora Fahad", number=None, mobile="+966551234567", nationality="SA", sponsor=None):
    """A person the registry holds, with a mobile, who has no account yet."""
    number = number or id_number(1, 10000000)
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


def sign_in_client(client, username, password=PASSWORD):
    """Sign a test client in, with the second step for staff; the last response."""
    response = client.post("/auth/login", data={"username": username, "password": password})
    if response.status_code == 303 and response.headers["Location"].startswith("/auth/login/code"):
        code = second_factor_code(username, client.application)
        response = client.post(response.headers["Location"], data={"code": code})
    return response
