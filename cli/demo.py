"""Demo data for `flask init-db --demo`: residents with linked persons, a request in
each status for `demo`, staff accounts with a known second factor, persons in the
registry who have no account yet (to try sign-up), and a few hundred requests spread
over six weeks for the queue and the figures. Every mobile is a demo number."""
import datetime as dt
import hashlib
import os
import random

from werkzeug.security import generate_password_hash

from models import (
    ACCEPTED,
    OPEN_STATUSES,
    RECEIVED,
    REJECTED,
    RETURNED,
    UNDER_REVIEW,
    Audit,
    Document,
    Draft,
    Event,
    Objection,
    Person,
    Rating,
    Reason,
    Service,
    ServiceRequest,
    User,
    closed_days,
    due_date,
    luhn_digit,
    risk_horizon,
    riyadh_date,
    riyadh_today,
    utcnow,
    working_days_between,
    write_transaction,
)
from models.assignment import assign_waiting, set_away
from models.reasons import reword_reason
from models.rules import add_working_days
from models.samples import link_person, make_id_number, make_resident

DEMO_PASSWORD = "tawasul-demo-2026"

# DEMO ONLY: the staff accounts' TOTP secrets are public (README) so anyone trying the
# demo can compute the code. A real account gets a random one (`flask staff create`).
DEMO_TOTP_SECRETS = {
    "noura": "DEMONOURADEMONOURADEMONOURADEMON",
    "khalid": "DEMOKHALIDDEMOKHALIDDEMOKHALIDDE",
    "fahad": "DEMOFAHADDEMOFAHADDEMOFAHADDEMOF",
}
DEMO_MOBILES = {  # the accounts' own demo numbers (they receive the notices)
    "demo": "+966500000001", "demo2": "+966500000002",
    "noura": "+966500000901", "khalid": "+966500000902", "fahad": "+966500000903",
}


# The `demo` account is Arabic: its requests, the officers' messages and reasons, and
# its linked persons' names are written in Arabic (`demo2` and the volume stay as they
# are). A demo database loaded before had them in English: top_up() rewrites exactly
# those texts (DEMO_TEXTS_BEFORE), nothing a visitor typed.
DEMO_TEXTS = dict(
    worker="أحمد صالح اليافعي",
    visitor="عمر خالد حداد",
    driver="راجيش كومار",
    review="تنتهي إقامة عاملي الأسبوع القادم، وقد جُدِّد التأمين الطبي وأرفقته. أرجو تجديد الإقامة.",
    accepted="تنتهي تأشيرة زيارة قريبي قريبًا وهو ما زال يتلقى العلاج في المستشفى؛ أطلب تمديدها شهرًا واحدًا.",
    accepted_reason="مُدِّدت التأشيرة 30 يومًا.",
    rejected="أطلب تغيير مهنة سائقي إلى ميكانيكي، فهو يحمل شهادة في إصلاح السيارات.",
    rejected_reason="الشهادة المرفقة غير مصدقة؛ أرفق شهادة مصدقة في طلب جديد.",
    returned="قُدِّم بلاغ تغيب عن العمل ضد عاملي خطأً وهو في إجازة معتمدة؛ أرجو إلغاء البلاغ.",
    returned_message="أرفق خطاب الإجازة المعتمد مع تواريخ الإجازة.",
)
RISK_TEXTS = dict(  # the requests at risk and overdue (load_risks)
    at_risk="My passport expires soon and I travel for work in two weeks; please renew it.",
    overdue="Please renew my worker's iqama: the medical insurance is renewed and attached.",
)
DEMO_TEXTS_BEFORE = dict(
    worker="Ahmed Saleh Al-Yafei",
    visitor="Omar Khaled Haddad",
    driver="Rajesh Kumar",
    review="The iqama of my worker expires next week; the medical insurance is renewed and attached. "
           "Please renew the iqama.",
    accepted="My relative's visit visa ends soon and he is still in treatment at the hospital; I ask to "
             "extend it by one month.",
    accepted_reason="The extension was granted for 30 days.",
    rejected="I ask to change my driver's profession to a mechanic as he has a certificate in car repair.",
    rejected_reason="The certificate attached is not attested; attach an attested certificate in a new request.",
    returned="An absence report was filed against my worker by mistake while he was on approved leave; "
             "please cancel it.",
    returned_message="Attach the approved leave letter with the dates of the leave.",
)


# An objection waiting for fahad (supervisor): on a request of `demo` that noura rejected.
DEMO_OBJECTION = dict(
    description="أطلب تجديد جواز سفر ابني عبدالله قبل سفره للدراسة، فجوازه الحالي ينتهي بعد ثلاثة أشهر.",
    reason="صورة شهادة القبول الجامعي غير واضحة؛ لا يمكن التحقق من تاريخ بدء الدراسة.",
    text="أرفقت شهادة القبول بصورة واضحة في هذا الاعتراض، وتاريخ بدء الدراسة فيها ظاهر: الأول من الشهر القادم.",
)


DEMO_PDF = os.path.join(os.path.dirname(__file__), "demo.pdf")  # a one-page PDF


def demo_document():
    with open(DEMO_PDF, "rb") as handle:
        return handle.read()


def demo_password_hash():
    """The demo password's hash, computed once: hashing is slow on purpose."""
    if not hasattr(demo_password_hash, "hash"):
        demo_password_hash.hash = generate_password_hash(DEMO_PASSWORD)
    return demo_password_hash.hash


def demo_user(**fields):
    """A demo account with the demo password."""
    return User.create(password_hash=demo_password_hash(), **fields)


def unregistered():
    """Persons in the registry with a mobile and no account yet: a visitor signs up as
    one of them. (identity number, name, nationality, mobile, [linked persons])"""
    return [
        (make_id_number(1, 50607080), "فيصل ناصر العتيبي", "SA", "+966500000101",
         [(make_id_number(1, 50607081), "ناصر فيصل العتيبي", "SA"),
          (make_id_number(2, 50607082), "Imran Hussain", "PK")]),
        (make_id_number(1, 50607090), "ريم عبدالعزيز السبيعي", "SA", "+966500000102",
         [(make_id_number(1, 50607091), "لمى سلطان المطيري", "SA"),
          (make_id_number(2, 50607092), "Maria Santos", "PH")]),
        (make_id_number(2, 50607100), "أحمد محمود حسن", "EG", "+966500000103",
         [(make_id_number(2, 50607101), "منى علي إبراهيم", "EG")]),
    ]


def load_unregistered():
    for number, name, nationality, mobile, linked in unregistered():
        link_person(number, number, name, nationality, mobile)
        for person_number, person_name, person_nationality in linked:
            link_person(number, person_number, person_name, person_nationality)


def volume_mobile(index):
    return f"+9665000001{index:02d}"


def top_up():
    """A database loaded before staff needed a second factor and accounts a mobile:
    add what is missing, change nothing that is there."""
    for username, mobile in DEMO_MOBILES.items():
        user = User.get_or_none(User.username == username)
        if user is None:
            continue
        User.update(mobile=mobile).where((User.id == user.id) & User.mobile.is_null()).execute()
        if user.id_number:
            Person.update(mobile=mobile).where((Person.sponsor_id_number == user.id_number)
                                               & (Person.id_number == user.id_number)
                                               & Person.mobile.is_null()).execute()
        if username in DEMO_TOTP_SECRETS:
            User.update(totp_secret=DEMO_TOTP_SECRETS[username]).where(
                (User.id == user.id) & User.totp_secret.is_null()).execute()
    for index in range(20):
        mobile = volume_mobile(index)
        number = make_id_number(1, 40000000 + index)
        User.update(mobile=mobile).where((User.id_number == number) & User.mobile.is_null()).execute()
        Person.update(mobile=mobile).where((Person.sponsor_id_number == number) & (Person.id_number == number)
                                           & Person.mobile.is_null()).execute()
    fahad = User.get_or_none(User.username == "fahad")
    if fahad is not None:  # loaded before supervisors were told of overdue requests
        User.update(supervisor=fahad).where(User.username.in_(["noura", "khalid"])
                                            & User.supervisor.is_null()).execute()
    load_unregistered()
    arabic_demo_texts()
    if not Objection.select().exists():  # loaded before residents could object
        load_objection()
    if not Rating.select().exists():  # loaded before residents rated their requests
        add_ratings(random.Random(8))
    if not ServiceRequest.select().where(ServiceRequest.draft_token.startswith(HISTORY)).exists():
        load_history()  # loaded before /performance showed twelve months


def arabic_demo_texts():
    """The `demo` account's texts in Arabic where an older load wrote them in English."""
    demo = User.get_or_none(User.username == "demo")
    if demo is None:
        return
    mine = ServiceRequest.select(ServiceRequest.id).where(ServiceRequest.owner == demo)
    changed = 0
    for key, before in DEMO_TEXTS_BEFORE.items():
        after = DEMO_TEXTS[key]
        changed += Person.update(name=after).where(
            (Person.sponsor_id_number == demo.id_number) & (Person.name == before)).execute()
        changed += ServiceRequest.update(description=after).where(
            (ServiceRequest.owner == demo) & (ServiceRequest.description == before)).execute()
        changed += ServiceRequest.update(reason=after).where(
            (ServiceRequest.owner == demo) & (ServiceRequest.reason == before)).execute()
        changed += Event.update(message=after).where(Event.request.in_(mine) & (Event.message == before)).execute()
    if changed:  # pages already rendered show the old texts until the version moves
        ServiceRequest.update(version=ServiceRequest.version + 1).where(ServiceRequest.owner == demo).execute()


def file_request(owner, person, service_code, description, days_ago):
    draft = Draft.create(owner=owner, person=person, description=description,
                         service=Service.get(Service.code == service_code))
    draft.add_file("passport-copy.pdf", "application/pdf", demo_document())
    created = ServiceRequest.submit(draft)
    when = utcnow() - dt.timedelta(days=days_ago)
    ServiceRequest.update(submitted_at=when, submitted_on=riyadh_date(when), updated_at=when,
                          due_on=due_date(riyadh_date(when))).where(
        ServiceRequest.id == created.id).execute()
    Event.update(at=when).where(Event.request == created).execute()
    return ServiceRequest.get_by_id(created.id)


def load_demo():
    with write_transaction():  # the look and the load together: two loads at once make one demo
        if User.get_or_none(User.username == "demo"):
            top_up()
            return
        owner = make_resident("demo", "محمد عبدالله القحطاني", make_id_number(1, 23456781), demo_password_hash(),
                              mobile=DEMO_MOBILES["demo"])
        self_person = Person.linked_by_number(owner, owner.id_number)
        link_person(owner.id_number, make_id_number(1, 55501234), "عبدالله محمد القحطاني", "SA")
        worker = link_person(owner.id_number, make_id_number(2, 31415926), DEMO_TEXTS["worker"], "YE")
        visitor = link_person(owner.id_number, "3012345678", DEMO_TEXTS["visitor"], "SY")
        driver = link_person(owner.id_number, make_id_number(2, 27182818), DEMO_TEXTS["driver"], "IN")
        file_request(owner, self_person, "passport",
                     "جواز سفري ينتهي بعد شهرين وأحتاج إلى تجديده قبل السفر لأداء العمرة مع العائلة.", 0)
        review = file_request(owner, worker, "iqama_renewal", DEMO_TEXTS["review"], 3)
        review.change_status(UNDER_REVIEW)
        accepted = file_request(owner, visitor, "visit_extension", DEMO_TEXTS["accepted"], 9)
        accepted.change_status(UNDER_REVIEW)
        accepted.change_status(ACCEPTED, message=DEMO_TEXTS["accepted_reason"])
        rejected = file_request(owner, driver, "profession", DEMO_TEXTS["rejected"], 12)
        rejected.change_status(UNDER_REVIEW)
        rejected.change_status(REJECTED, message=DEMO_TEXTS["rejected_reason"])
        other = make_resident("demo2", "سارة علي الشهري", make_id_number(1, 98765432), demo_password_hash(),
                              mobile=DEMO_MOBILES["demo2"])
        file_request(other, Person.linked_by_number(other, other.id_number), "passport",
                     "أرغب في إصدار جواز سفر لأول مرة لأنني سأسافر للدراسة في الخارج.", 1)
        officer = make_staff("noura", "نورة الحربي", "officer")
        make_staff("khalid", "Khalid Al-Otaibi", "officer")
        make_staff("fahad", "فهد الدوسري", "supervisor")
        returned = file_request(owner, worker, "huroob", DEMO_TEXTS["returned"], 4)
        returned.change_status(UNDER_REVIEW, actor=officer)
        returned.change_status(RETURNED, actor=officer, message=DEMO_TEXTS["returned_message"])
        load_unregistered()
        load_volume(officer)
        load_history()
        load_risks()
        load_objection()
        assign_demo()
        load_reason_changes()  # last: a decision after it could not use the reason it retires


def load_reason_changes():
    """fahad rewords one ready-made reason: the volume's older rejections that used it
    keep the words they were given with, new ones are offered the new words."""
    reword_reason(User.get(User.username == "fahad"), Reason.get(Reason.code == "docs_missing"),
                  "المستندات المطلوبة ناقصة أو غير مقروءة؛ أرفقها بصيغة PDF واضحة.",
                  "The required documents are missing or unreadable; attach them as a clear PDF.")


def load_risks():
    """Fahad supervises Noura and Khalid; Noura holds a request at risk (Resident 00's
    passport, at most two working days left) and Khalid one two working days
    overdue (Resident 01's worker's iqama), until he goes away (assign_demo) and it
    moves to Noura: `flask staff watch --once` tells Noura of hers and Fahad of the
    overdue one, besides what the volume has at risk and overdue."""
    fahad = User.get(User.username == "fahad")
    User.update(supervisor=fahad).where(User.username.in_(["noura", "khalid"])).execute()
    today = riyadh_today()
    closed = closed_days(today - dt.timedelta(days=30))
    horizon = risk_horizon(today, closed=closed)
    soon = next(k for k in range(1, 30) if due_date(today - dt.timedelta(days=k), closed=closed) <= horizon)
    late = next(k for k in range(1, 40) if working_days_between(
        due_date(today - dt.timedelta(days=k), closed=closed), today, closed) >= 2)
    first, second = (User.get(User.username == name) for name in ("resident00", "resident01"))
    at_risk = file_request(first, Person.linked_by_number(first, first.id_number), "passport", RISK_TEXTS["at_risk"],
                           soon)
    hold(at_risk, "noura").change_status(UNDER_REVIEW, actor=User.get(User.username == "noura"))
    worker = Person.get((Person.sponsor_id_number == second.id_number) & (Person.id_number != second.id_number))
    overdue = file_request(second, worker, "iqama_renewal", RISK_TEXTS["overdue"], late)
    hold(overdue, "khalid").change_status(UNDER_REVIEW, actor=User.get(User.username == "khalid"))


def hold(service_request, username):
    """The demo's story gives this request to this officer, whoever the rule picked."""
    ServiceRequest.update(assignee=User.get(User.username == username)).where(
        ServiceRequest.id == service_request.id).execute()
    return ServiceRequest.get_by_id(service_request.id)


def load_objection():
    """A request of `demo` rejected by noura, with an objection (and a document)
    waiting for a supervisor: fahad decides it; noura could not."""
    owner, noura = User.get_or_none(User.username == "demo"), User.get_or_none(User.username == "noura")
    if owner is None or noura is None:
        return
    son = Person.linked_by_number(owner, make_id_number(1, 55501234))
    rejected = file_request(owner, son, "passport", DEMO_OBJECTION["description"], 6)
    rejected = hold(rejected, "noura").change_status(UNDER_REVIEW, actor=noura)
    rejected = rejected.change_status(REJECTED, actor=noura, message=DEMO_OBJECTION["reason"])
    Objection.lodge(rejected, owner, DEMO_OBJECTION["text"],
                    [("admission-letter.pdf", "application/pdf", demo_document())])


def assign_demo(away_days=10):
    """Every undecided request given by the rule (the demo's own and the volume's that
    nobody held), evenly; then khalid goes away for `away_days` days, so his move to
    the officers still present (audited "reassign", the officer is away)."""
    while assign_waiting(limit=500):
        pass
    set_away(User.get(User.username == "khalid"), riyadh_today() + dt.timedelta(days=away_days))


def make_staff(username, full_name, role):
    return demo_user(username=username, full_name=full_name, role=role, mobile=DEMO_MOBILES[username],
                     totp_secret=DEMO_TOTP_SECRETS[username])


def load_volume(officer, count=300, days=42, seed=7):
    """`count` requests from 20 residents over the last `days` days: most older ones
    decided (some late), recent ones open, a few open past their deadline."""
    rng = random.Random(seed)
    officers = list(User.select().where(User.role == "officer")) or [officer]
    services = list(Service.ordered())
    reasons = {kind: list(Reason.select().where(Reason.kind == kind)) for kind in ("accept", "reject")}
    persons = []
    for index in range(20):
        owner = make_resident(f"resident{index:02d}", f"Resident {index:02d}", make_id_number(1, 40000000 + index),
                              demo_password_hash(), mobile=volume_mobile(index))
        persons.append((owner, Person.linked_by_number(owner, owner.id_number)))
        worker = link_person(owner.id_number, make_id_number(2, 60000000 + index), f"Worker {index:02d}",
                             rng.choice(["YE", "SY", "IN", "EG"]))
        persons.append((owner, worker))
    document = demo_document()
    digest = hashlib.sha256(document).hexdigest()
    now = utcnow()
    for _ in range(count):
        owner, person = rng.choice(persons)
        submitted = now - dt.timedelta(days=rng.uniform(0, days))
        age_days = (now - submitted).days
        created = ServiceRequest.create(
            number=ServiceRequest.unused_number(), owner=owner, person=person, service=rng.choice(services),
            description="Demo request: " + rng.choice(["renewal needed before travel.",
                                                      "correction of the recorded details.",
                                                      "please review the attached documents."]) * 2,
            submitted_at=submitted, submitted_on=riyadh_date(submitted), updated_at=submitted,
            due_on=due_date(riyadh_date(submitted)), draft_token=f"demo-{rng.random()}")
        Document.create(request=created, name="documents.pdf", content_type="application/pdf",
                        size=len(document), sha256=digest, data=document, added_at=submitted)
        Event.create(request=created, at=submitted, kind="submitted", status=RECEIVED)
        settle(created, rng, officers, reasons, age_days, now)
    add_ratings(random.Random(seed + 1))


HISTORY = "history-"  # the draft token's start of the requests load_history adds
HISTORY_PER_MONTH = {"visit_extension": 6, "huroob": 12}  # requests a month; every other service: 24


def load_history(seed=11, first_day=400, last_day=43, rating_share=0.6):
    """Twelve months and more of decided requests before the volume's six weeks, from
    the volume's residents, with ratings, so /performance shows every month: about 24
    requests a month per service (fewer for two, so a few months read "fewer than 10").
    Bulk inserts, inside the caller's transaction: a second or so."""
    rng = random.Random(seed)
    persons = list(Person.select(Person, User).join(User, on=(Person.sponsor_id_number == User.id_number))
                   .where(User.username.startswith("resident")).order_by(Person.id))
    officers = list(User.select().where(User.role == "officer"))
    if not persons or not officers:
        return
    services = list(Service.ordered())
    reasons = {kind: list(Reason.select().where(Reason.kind == kind)) for kind in ("accept", "reject")}
    now, today = utcnow(), riyadh_date(utcnow())
    closed = closed_days(today - dt.timedelta(days=first_day), today)
    numbers = {number for number, in ServiceRequest.select(ServiceRequest.number).tuples()}
    requests = []
    for service in services:
        per_day = HISTORY_PER_MONTH.get(service.code, 24) / 30
        for days_ago in range(first_day, last_day, -1):
            for _ in range(sum(rng.random() < per_day / 2 for _ in range(2))):
                requests.append(history_request(rng, service, rng.choice(persons), rng.choice(officers),
                                                reasons, now - dt.timedelta(days=days_ago), closed, numbers))
    insert_history(rng, requests, rating_share)


def history_request(rng, service, person, officer, reasons, day, closed, numbers):
    """One decided request's row (most within the seven working days, some late)."""
    submitted_at = day.replace(hour=rng.randint(4, 18), minute=rng.randint(0, 59))
    submitted_on = riyadh_date(submitted_at)
    decided_on = add_working_days(submitted_on, rng.choice((1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 10)), closed)
    decided_at = dt.datetime.combine(decided_on, dt.time(rng.randint(5, 12), rng.randint(0, 59)))
    outcome = ACCEPTED if rng.random() < 0.75 else REJECTED
    number = None
    while number is None or number in numbers:
        payload = str(rng.randrange(10 ** 7, 10 ** 8))
        number = payload + luhn_digit(payload)
    numbers.add(number)
    return dict(number=number, owner=person.user.id, person=person.id, service=service.id,
                description="Demo request: " + rng.choice(["renewal needed before travel.",
                                                          "correction of the recorded details."]) * 2,
                status=outcome, assignee=officer.id, reason_choice=rng.choice(reasons[
                    "accept" if outcome == ACCEPTED else "reject"]).id,
                submitted_at=submitted_at, submitted_on=submitted_on,
                due_on=due_date(submitted_on, closed=closed), decided_at=decided_at, decided_on=decided_on,
                hours_to_decision=(decided_at - submitted_at).total_seconds() / 3600, updated_at=decided_at,
                version=3, draft_token=f"{HISTORY}{number}")


def insert_history(rng, requests, rating_share):
    """The requests, their two events (sent, decided) and some ratings, 100 rows at a time."""
    for start in range(0, len(requests), 100):
        ServiceRequest.insert_many(requests[start:start + 100]).execute()
    ids = dict(ServiceRequest.select(ServiceRequest.number, ServiceRequest.id)
               .where(ServiceRequest.draft_token.startswith(HISTORY)).tuples())
    events, ratings = [], []
    for row in requests:
        request_id = ids[row["number"]]
        events.append(dict(request=request_id, at=row["submitted_at"], kind="submitted", status=RECEIVED))
        events.append(dict(request=request_id, at=row["decided_at"], kind="status", status=row["status"],
                           actor=row["assignee"], reason_choice=row["reason_choice"]))
        if rng.random() < rating_share:
            ratings.append(dict(request=request_id, stars=rng.choice((2, 3, 3, 4, 4, 4, 5, 5, 5)),
                                created_at=row["decided_at"] + dt.timedelta(hours=rng.uniform(1, 48))))
    for rows, model in ((events, Event), (ratings, Rating)):
        for start in range(0, len(rows), 100):
            model.insert_many(rows[start:start + 100]).execute()


def add_ratings(rng, share=0.4):
    """Ratings for about `share` of the decided volume requests (never the `demo`
    account's, so a visitor can rate those), so the figures show averages."""
    decided = (ServiceRequest.select(ServiceRequest.id, ServiceRequest.decided_at)
               .where(ServiceRequest.decided_at.is_null(False) & ServiceRequest.draft_token.startswith("demo-"))
               .order_by(ServiceRequest.id))
    rows = [dict(request=row.id, stars=rng.choice((1, 2, 3, 3, 4, 4, 4, 5, 5, 5)),
                 created_at=row.decided_at + dt.timedelta(hours=rng.uniform(1, 48)))
            for row in decided if rng.random() < share]
    for start in range(0, len(rows), 100):
        Rating.insert_many(rows[start:start + 100]).execute()


def settle(created, rng, officers, reasons, age_days, now):
    """Give a demo request a plausible state for its age."""
    decided_share = 0.9 if age_days > 12 else 0.5 if age_days > 4 else 0.1
    officer = rng.choice(officers)
    if rng.random() < decided_share:
        decided_at = min(now, created.submitted_at + dt.timedelta(days=rng.uniform(0.5, min(age_days, 12) + 0.5)))
        outcome = ACCEPTED if rng.random() < 0.7 else REJECTED
        choice = rng.choice(reasons["accept" if outcome == ACCEPTED else "reject"])
        ServiceRequest.update(status=outcome, assignee=officer, reason_choice=choice, decided_at=decided_at,
                              decided_on=riyadh_date(decided_at), updated_at=decided_at,
                              hours_to_decision=(decided_at - created.submitted_at).total_seconds() / 3600,
                              version=3).where(ServiceRequest.id == created.id).execute()
        Event.create(request=created, at=decided_at, kind="status", status=outcome, actor=officer,
                     reason_choice=choice)
        Audit.create(request=created, actor=officer, at=decided_at, action=outcome,
                     from_status=UNDER_REVIEW, to_status=outcome, ip="127.0.0.1")
    else:
        status = rng.choice(OPEN_STATUSES[:2] * 3 + (RETURNED,))
        assignee = officer if status != RECEIVED and rng.random() < 0.8 else None
        ServiceRequest.update(status=status, assignee=assignee,
                              paused_at=now if status == RETURNED else None).where(
            ServiceRequest.id == created.id).execute()
        if status == RETURNED:
            Event.create(request=created, kind="status", status=RETURNED, actor=officer,
                         message="Please attach a clearer copy of the passport.")
