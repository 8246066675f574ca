"""Demo data for `flask init-db --demo`: two residents, linked persons and one
request in each status."""
import datetime as dt

from models import (ACCEPTED, REJECTED, UNDER_REVIEW, Draft, Event, Person, Service, ServiceRequest,
                    User, add_working_days, db, luhn_digit, riyadh_date, utcnow)

DEMO_PASSWORD = "tawasul-demo-2026"


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


def make_resident(username, full_name, number, nationality="SA"):
    user = User.get_or_none(User.username == username)
    if user is None:
        user = User(username=username, full_name=full_name, id_number=number)
        user.set_password(DEMO_PASSWORD)
        user.save()
    Person.get_or_create(sponsor_id_number=number, id_number=number,
                         defaults=dict(name=full_name, nationality=nationality))
    return user


def link(sponsor, name, number, nationality):
    return Person.get_or_create(sponsor_id_number=sponsor.id_number, id_number=number,
                                defaults=dict(name=name, nationality=nationality))[0]


def file_request(owner, person, service_code, description, days_ago):
    draft = Draft.create(owner=owner, person=person, description=description,
                         service=Service.get(Service.code == service_code))
    draft.add_file("passport-copy.pdf", "application/pdf", minimal_pdf("Passport copy"))
    created = ServiceRequest.submit(draft)
    when = utcnow() - dt.timedelta(days=days_ago)
    ServiceRequest.update(submitted_at=when, updated_at=when,
                          due_on=add_working_days(riyadh_date(when), 7)).where(
        ServiceRequest.id == created.id).execute()
    Event.update(at=when).where(Event.request == created).execute()
    return ServiceRequest.get_by_id(created.id)


def load_demo():
    if User.get_or_none(User.username == "demo"):
        return
    with db.atomic():
        owner = make_resident("demo", "محمد عبدالله القحطاني", id_number(1, 23456781))
        self_person = Person.linked_by_number(owner, owner.id_number)
        link(owner, "عبدالله محمد القحطاني", id_number(1, 55501234), "SA")
        worker = link(owner, "Ahmed Saleh Al-Yafei", id_number(2, 31415926), "YE")
        visitor = link(owner, "Omar Khaled Haddad", "3012345678", "SY")
        driver = link(owner, "Rajesh Kumar", id_number(2, 27182818), "IN")
        file_request(owner, self_person, "passport",
                     "جواز سفري ينتهي بعد شهرين وأحتاج إلى تجديده قبل السفر لأداء العمرة مع العائلة.", 0)
        review = file_request(owner, worker, "iqama_renewal",
                              "The iqama of my worker expires next week; the medical insurance is renewed "
                              "and attached. Please renew the iqama.", 3)
        review.change_status(UNDER_REVIEW)
        accepted = file_request(owner, visitor, "visit_extension",
                                "My relative's visit visa ends soon and he is still in treatment at the "
                                "hospital; I ask to extend it by one month.", 9)
        accepted.change_status(UNDER_REVIEW)
        accepted.change_status(ACCEPTED, message="The extension was granted for 30 days.")
        rejected = file_request(owner, driver, "profession",
                                "I ask to change my driver's profession to a mechanic as he has a "
                                "certificate in car repair.", 12)
        rejected.change_status(UNDER_REVIEW)
        rejected.change_status(REJECTED, message="The certificate attached is not attested; attach an "
                                                "attested certificate in a new request.")
        other = make_resident("demo2", "سارة علي الشهري", id_number(1, 98765432))
        file_request(other, Person.linked_by_number(other, other.id_number), "passport",
                     "أرغب في إصدار جواز سفر لأول مرة لأنني سأسافر للدراسة في الخارج.", 1)
