"""Every model of Tawasul, and the domain rules they carry (identity numbers,
request numbers, working days, status transitions)."""
import datetime as dt
import hashlib
import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from peewee import (BlobField, BooleanField, CharField, DatabaseProxy, DateField,
                    DateTimeField, FloatField, ForeignKeyField, IntegerField, IntegrityError, Model,
                    SqliteDatabase, TextField, Tuple, Value, JOIN)
from werkzeug.security import check_password_hash, generate_password_hash

db = DatabaseProxy()

RIYADH = dt.timezone(dt.timedelta(hours=3), "AST")  # Saudi Arabia keeps no daylight saving
WEEKEND = {4, 5}  # Friday and Saturday (Monday is 0)
REVIEW_WORKING_DAYS = 7
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15


def utcnow():
    """Now, as a naive UTC datetime: the one place the project reads the clock."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def riyadh_date(moment):
    """The calendar date in Riyadh of a naive UTC datetime."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(RIYADH).date()


def riyadh_today():
    """Today's date in Riyadh (already tomorrow from 21:00 UTC)."""
    return riyadh_date(utcnow())


def add_working_days(start, days, holidays=()):
    """The date `days` working days (Sunday to Thursday, not holidays) after `start`."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() not in WEEKEND and current not in holidays:
            days -= 1
    return current


def write_transaction():
    """A transaction that takes the write lock at once on SQLite, so two writers
    queue on the busy timeout instead of failing on a stale snapshot."""
    if isinstance(db.obj, SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


# ---------------------------------------------------------------- numbers

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def normalize_digits(raw):
    """Arabic-Indic and Persian digits to ASCII, spaces and dashes removed."""
    return re.sub(r"[\s\-]", "", (raw or "").translate(_DIGITS))


def luhn_sum(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total


def luhn_valid(digits):
    return luhn_sum(digits) % 10 == 0


def luhn_digit(payload):
    """The check digit that makes payload + digit pass the Luhn test."""
    return str((10 - luhn_sum(payload + "0") % 10) % 10)


ID_TYPES = {
    "1": "national_id",
    "2": "iqama",
    "3": "border",
    "4": "border",
}
ID_TYPE_LABELS = {
    "national_id": _l("National ID"),
    "iqama": _l("Iqama (resident ID)"),
    "border": _l("Border number"),
}


class InvalidNumber(ValueError):
    """A number a person typed that cannot be right; str() is the reason, translated."""


def parse_id_number(raw):
    """Return the normalised identity number or raise InvalidNumber saying what is wrong."""
    number = normalize_digits(raw)
    if not number:
        raise InvalidNumber(_l("Enter the identity number."))
    if not re.fullmatch(r"[0-9]+", number):
        raise InvalidNumber(_l("An identity number has digits only."))
    if len(number) != 10:
        raise InvalidNumber(_l("An identity number has exactly 10 digits; this one has %(count)d.",
                               count=len(number)))
    if number[0] not in ID_TYPES:
        raise InvalidNumber(_l("An identity number starts with 1 (national ID), 2 (iqama) "
                               "or 3 or 4 (border number)."))
    if number[0] in "12" and not luhn_valid(number):
        raise InvalidNumber(_l("This identity number is not valid: check each digit again."))
    return number


REQUEST_NUMBER_LENGTH = 9


def new_request_number():
    payload = str(secrets.randbelow(9 * 10 ** 7) + 10 ** 7)  # 8 digits, no leading zero
    return payload + luhn_digit(payload)


def parse_request_number(raw):
    """Return the normalised request number or raise InvalidNumber before any lookup."""
    number = normalize_digits(raw)
    if not number:
        raise InvalidNumber(_l("Enter the request number."))
    if not re.fullmatch(r"[0-9]+", number):
        raise InvalidNumber(_l("A request number has digits only."))
    if len(number) != REQUEST_NUMBER_LENGTH:
        raise InvalidNumber(_l("A request number has exactly %(length)d digits; this one has %(count)d.",
                               length=REQUEST_NUMBER_LENGTH, count=len(number)))
    if not luhn_valid(number):
        raise InvalidNumber(_l("This request number has a typo: check each digit again."))
    return number


# ---------------------------------------------------------------- models

class BaseModel(Model):
    class Meta:
        database = db

    @classmethod
    def upsert_by_code(cls, rows):
        """Insert or update catalogue rows, matched on their `code`."""
        with db.atomic():
            for values in rows:
                if not cls.update(**values).where(cls.code == values["code"]).execute():
                    cls.create(**values)


ROLES = ("resident", "officer", "supervisor")


class User(UserMixin, BaseModel):
    username = CharField(max_length=40, unique=True)
    password_hash = CharField(max_length=255)
    full_name = CharField(max_length=120)
    id_number = CharField(max_length=10, null=True, unique=True)  # staff have none
    role = CharField(max_length=20, default="resident")
    locale = CharField(max_length=5, null=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    disabled = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    @property
    def is_active(self):
        return not self.disabled

    @property
    def is_staff(self):
        return self.role in ROLES[1:]

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def locked_minutes_left(self, now=None):
        """Minutes (rounded up) until a lockout ends, or 0 when not locked."""
        now = now or utcnow()
        if not self.locked_until or self.locked_until <= now:
            return 0
        return -(-(self.locked_until - now).seconds // 60) or 1

    @classmethod
    def record_failed_login(cls, user_id):
        """Count a failure in the database (so it holds across app processes); the
        attempt that reaches the limit locks the account and restarts the count."""
        with write_transaction():
            cls.update(failed_logins=cls.failed_logins + 1).where(cls.id == user_id).execute()
            cls.update(failed_logins=0,
                       locked_until=utcnow() + dt.timedelta(minutes=LOCKOUT_MINUTES)).where(
                (cls.id == user_id) & (cls.failed_logins >= LOCKOUT_ATTEMPTS)).execute()

    @classmethod
    def record_login(cls, user_id):
        cls.update(failed_logins=0, locked_until=None).where(cls.id == user_id).execute()


class Person(BaseModel):
    """Someone an account may file for: the account owner (sponsor == self) and the
    dependents / workers the registry links to that owner's identity number."""
    sponsor_id_number = CharField(max_length=10, index=True)
    id_number = CharField(max_length=10, index=True)
    name = CharField(max_length=120)
    nationality = CharField(max_length=2)  # ISO 3166-1 alpha-2

    class Meta:
        indexes = ((("sponsor_id_number", "id_number"), True),)

    @property
    def id_type(self):
        return ID_TYPES[self.id_number[0]]

    @classmethod
    def linked_to(cls, user):
        """The owner first, then the linked persons by name."""
        is_self = cls.id_number == user.id_number
        return (cls.select().where(cls.sponsor_id_number == user.id_number)
                .order_by(is_self.desc(), cls.name))

    @classmethod
    def linked_by_number(cls, user, id_number):
        return cls.get_or_none((cls.sponsor_id_number == user.id_number) & (cls.id_number == id_number))


# The services Tawasul handles (DESIGN.md), kept as data. `id_types` and
# `nationalities` are eligibility rules; an empty tuple means anyone.
SERVICE_CATALOGUE = [
    dict(code="passport", name_ar="جواز السفر: إصدار أو تمديد أو تجديد",
         name_en="Passport: issue, extend or renew",
         documents_ar="صورة الجواز الحالي، صورة شخصية حديثة",
         documents_en="Copy of the current passport, a recent photo",
         id_types=(), nationalities=()),
    dict(code="dependents", name_ar="خدمات التابعين والعمالة",
         name_en="Services for dependents and workers",
         documents_ar="صورة هوية المكفول، ما يثبت صلة التبعية",
         documents_en="Copy of the person's ID, proof of the sponsorship or relationship",
         id_types=(), nationalities=()),
    dict(code="iqama_issue", name_ar="إصدار هوية مقيم",
         name_en="Resident identity (iqama): issue",
         documents_ar="صورة الجواز، تأشيرة الدخول، الفحص الطبي",
         documents_en="Copy of the passport, entry visa, medical check",
         id_types=("iqama", "border"), nationalities=()),
    dict(code="profession", name_ar="تغيير المهنة", name_en="Change of profession",
         documents_ar="صورة الإقامة، ما يثبت المؤهل للمهنة الجديدة",
         documents_en="Copy of the iqama, proof of qualification for the new profession",
         id_types=("iqama",), nationalities=()),
    dict(code="visit_extension", name_ar="تمديد تأشيرة الزيارة (لليمنيين والسوريين فقط)",
         name_en="Visit visa extension (Yemeni and Syrian nationals only)",
         documents_ar="صورة الجواز، تأشيرة الزيارة الحالية",
         documents_en="Copy of the passport, the current visit visa",
         id_types=(), nationalities=("YE", "SY")),
    dict(code="huroob", name_ar="بلاغ تغيب عن العمل: تصحيح البيانات أو إلغاء البلاغ",
         name_en="Absence-from-work (huroob) report: correct details or cancel",
         documents_ar="صورة الإقامة، ما يثبت صحة البيانات أو سبب الإلغاء",
         documents_en="Copy of the iqama, proof of the correct details or of the reason to cancel",
         id_types=("iqama",), nationalities=()),
    dict(code="iqama_renewal", name_ar="تجديد هوية مقيم عند استيفاء الشروط",
         name_en="Iqama renewal, when the directorate's conditions are met",
         documents_ar="صورة الإقامة، التأمين الطبي",
         documents_en="Copy of the iqama, medical insurance",
         id_types=("iqama",), nationalities=()),
    dict(code="final_exit", name_ar="تأشيرة خروج نهائي إلكترونية",
         name_en="Final exit visa (electronic)",
         documents_ar="صورة الجواز، صورة الإقامة",
         documents_en="Copy of the passport, copy of the iqama",
         id_types=("iqama", "border"), nationalities=()),
    dict(code="transfer", name_ar="نقل الخدمات إلى كفيل جديد",
         name_en="Transfer of services to a new sponsor",
         documents_ar="صورة الإقامة، موافقة الكفيل الجديد",
         documents_en="Copy of the iqama, the new sponsor's approval",
         id_types=("iqama",), nationalities=()),
]


class Service(BaseModel):
    code = CharField(max_length=30, unique=True)
    position = IntegerField(default=0)
    name_ar = CharField(max_length=200)
    name_en = CharField(max_length=200)
    documents_ar = TextField(default="")
    documents_en = TextField(default="")
    id_types = CharField(max_length=60, default="")  # comma separated; empty: any
    nationalities = CharField(max_length=60, default="")  # comma separated; empty: any

    def name(self, locale):
        return self.name_ar if str(locale).startswith("ar") else self.name_en

    def documents(self, locale):
        return self.documents_ar if str(locale).startswith("ar") else self.documents_en

    @property
    def id_type_rule(self):
        return [t for t in self.id_types.split(",") if t]

    @property
    def nationality_rule(self):
        return [n for n in self.nationalities.split(",") if n]

    @classmethod
    def ordered(cls):
        return cls.select().order_by(cls.position)

    @classmethod
    def sync_catalogue(cls):
        cls.upsert_by_code(dict(entry, position=position, id_types=",".join(entry["id_types"]),
                                nationalities=",".join(entry["nationalities"]))
                           for position, entry in enumerate(SERVICE_CATALOGUE))


class Holiday(BaseModel):
    """A public holiday: not a working day for the review deadline."""
    day = DateField(unique=True)
    name = CharField(max_length=120)

    @classmethod
    def days(cls):
        return {h.day for h in cls.select(cls.day)}


def due_date(submitted_on, waiting_days=0, holidays=None):
    """Seven working days after submission, plus the working days spent waiting on
    the resident, skipping Fridays, Saturdays and public holidays."""
    holidays = Holiday.days() if holidays is None else holidays
    return add_working_days(submitted_on, REVIEW_WORKING_DAYS + waiting_days, holidays)


def working_days_between(start, end, holidays):
    """Working days after `start` up to and including `end`."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() not in WEEKEND and day not in holidays:
            count += 1
    return count


# Ready-made decision reasons, kept as data. service None: for every service.
REASON_CATALOGUE = [
    dict(code="done", kind="accept", service=None,
         text_ar="تمت الموافقة على طلبك وتنفيذ الخدمة.",
         text_en="Your request was approved and the service has been carried out."),
    dict(code="visit_office", kind="accept", service=None,
         text_ar="تمت الموافقة. راجع مكتب الجوازات مع أصول المستندات لاستلام الخدمة.",
         text_en="Approved. Visit a passports office with the original documents to complete it."),
    dict(code="docs_missing", kind="reject", service=None,
         text_ar="المستندات المطلوبة ناقصة أو غير واضحة.",
         text_en="The required documents are missing or cannot be read."),
    dict(code="not_linked", kind="reject", service=None,
         text_ar="الشخص المعني لا يتبع لصاحب الحساب.",
         text_en="The person is not sponsored by, or a dependent of, the account holder."),
    dict(code="wrong_service", kind="reject", service=None,
         text_ar="الطلب لا يتعلق بالخدمة المختارة.",
         text_en="The request does not match the service chosen."),
    dict(code="conditions", kind="reject", service=None,
         text_ar="لم تستوف شروط الخدمة.",
         text_en="The conditions of this service are not met."),
    dict(code="visit_nationality", kind="reject", service="visit_extension",
         text_ar="تمديد تأشيرة الزيارة عبر تواصل لحاملي الجنسيتين اليمنية والسورية فقط.",
         text_en="Visit visa extension through Tawasul is only for Yemeni and Syrian nationals."),
    dict(code="iqama_insurance", kind="reject", service="iqama_renewal",
         text_ar="لا يوجد تأمين طبي ساري المفعول.",
         text_en="There is no valid medical insurance."),
    dict(code="huroob_cancelled", kind="accept", service="huroob",
         text_ar="تم إلغاء بلاغ التغيب.", text_en="The absence report has been cancelled."),
    dict(code="exit_issued", kind="accept", service="final_exit",
         text_ar="صدرت تأشيرة الخروج النهائي ويمكن طباعتها من منصة مقيم.",
         text_en="The final exit visa has been issued and can be printed from Muqeem."),
    dict(code="transfer_refused", kind="reject", service="transfer",
         text_ar="لم تصل موافقة الكفيل الجديد.",
         text_en="The new sponsor's approval has not been received."),
]


class Reason(BaseModel):
    code = CharField(max_length=40, unique=True)
    kind = CharField(max_length=10)  # accept, reject
    service = ForeignKeyField(Service, null=True, on_delete="CASCADE")
    text_ar = TextField()
    text_en = TextField()

    def text(self, locale):
        return self.text_ar if str(locale).startswith("ar") else self.text_en

    @classmethod
    def for_service(cls, service):
        return (cls.select().where(cls.service.is_null() | (cls.service == service))
                .order_by(cls.kind, cls.service.is_null(), cls.id))

    @classmethod
    def sync_catalogue(cls):
        services = {s.code: s for s in Service.select()}
        cls.upsert_by_code(dict(entry, service=services.get(entry["service"])) for entry in REASON_CATALOGUE)


RECEIVED, UNDER_REVIEW, RETURNED, ACCEPTED, REJECTED = (
    "received", "under_review", "returned", "accepted", "rejected")
STATUSES = (RECEIVED, UNDER_REVIEW, RETURNED, ACCEPTED, REJECTED)
FINAL_STATUSES = (ACCEPTED, REJECTED)
STATUS_LABELS = {
    RECEIVED: _l("Received"),
    UNDER_REVIEW: _l("Under review"),
    RETURNED: _l("Returned to you for more information"),
    ACCEPTED: _l("Accepted"),
    REJECTED: _l("Rejected"),
}
# new status -> the statuses it may follow
TRANSITIONS = {
    UNDER_REVIEW: (RECEIVED, RETURNED),
    RETURNED: (UNDER_REVIEW,),
    ACCEPTED: (UNDER_REVIEW,),
    REJECTED: (UNDER_REVIEW,),
}
OPEN_STATUSES = (RECEIVED, UNDER_REVIEW, RETURNED)


class TransitionError(ValueError):
    """A status change the rules refuse; str() is the reason, translated."""


class ServiceRequest(BaseModel):
    number = CharField(max_length=REQUEST_NUMBER_LENGTH, unique=True)
    owner = ForeignKeyField(User, backref="requests", on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="RESTRICT")
    service = ForeignKeyField(Service, on_delete="RESTRICT")
    description = TextField()
    status = CharField(max_length=20, default=RECEIVED, index=True)
    assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")  # the officer holding it
    reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")  # ready-made reason
    reason = TextField(null=True)  # the decision's written reason, shown to the resident
    submitted_at = DateTimeField(default=utcnow, index=True)
    submitted_on = DateField(index=True)  # Riyadh date, for the daily figures
    due_on = DateField()  # moves later while the request waits on the resident
    paused_at = DateTimeField(null=True)  # set while returned to the applicant
    waiting_days = IntegerField(default=0)  # working days spent waiting on the resident
    decided_at = DateTimeField(null=True)
    decided_on = DateField(null=True, index=True)  # Riyadh date
    hours_to_decision = FloatField(null=True)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)  # bumped on every change the resident can see
    draft_token = CharField(max_length=64, unique=True)  # one request per confirmed draft

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def awaits_staff(self):
        """Received or under review: only then can the status change without the resident."""
        return self.status in (RECEIVED, UNDER_REVIEW)

    @classmethod
    def of_owner(cls, user):
        return (cls.select(cls, Service).join(Service).switch(cls)
                .where(cls.owner == user).order_by(cls.submitted_at.desc(), cls.id.desc()))

    @classmethod
    def owned(cls, user, number):
        return cls.get_or_none((cls.owner == user) & (cls.number == number))

    @classmethod
    def submit(cls, draft):
        """Turn a confirmed draft into a request, with its documents and first event,
        in one transaction. A draft confirmed twice, even at the same moment, gives
        one request: the unique draft_token decides."""
        try:
            with write_transaction():
                existing = cls.get_or_none(cls.draft_token == draft.token)
                return existing or cls._create_from(draft)
        except IntegrityError:
            existing = cls.get_or_none(cls.draft_token == draft.token)
            if existing is None:
                raise
            return existing

    @classmethod
    def _create_from(cls, draft):
        now = utcnow()
        number = new_request_number()
        while cls.select().where(cls.number == number).exists():
            number = new_request_number()
        created = cls.create(number=number, owner=draft.owner, person=draft.person,
                             service=draft.service, description=draft.description,
                             submitted_at=now, submitted_on=riyadh_date(now), updated_at=now,
                             draft_token=draft.token, due_on=due_date(riyadh_date(now)))
        fields = [DraftFile.name, DraftFile.content_type, DraftFile.size, DraftFile.sha256, DraftFile.data]
        Document.insert_from(
            DraftFile.select(Value(created.id), Value(now), *fields).where(DraftFile.draft == draft),
            [Document.request, Document.added_at, Document.name, Document.content_type,
             Document.size, Document.sha256, Document.data]).execute()
        Event.create(request=created, at=now, kind="submitted", status=RECEIVED)
        draft.delete_instance(recursive=True)
        return created

    # ------------------------------------------------------------ workflow
    # Every change checks the state it expects inside its UPDATE (compare and set),
    # so of two officers acting at the same moment exactly one wins.

    def refusal(self, new_status, actor=None):
        """Why this request (as loaded) cannot move to new_status, or None."""
        if self.is_final:
            return _l("This request was already decided (“%(status)s”); a decision is final.",
                      status=STATUS_LABELS[self.status])
        if self.status not in TRANSITIONS.get(new_status, ()):
            return _l("A request that is “%(current)s” cannot become “%(new)s”.",
                      current=STATUS_LABELS[self.status], new=STATUS_LABELS[new_status])
        if actor is not None and actor.is_staff and self.status == RETURNED:
            return _l("This request waits for the resident's answer; only the answer resumes the review.")
        if actor is not None and actor.is_staff and self.assignee_id not in (None, actor.id):
            return _l("%(name)s is working on this request.", name=self.assignee.full_name)
        return None

    def change_status(self, new_status, actor=None, message=None, reason_choice=None, ip=None):
        """Move to new_status: received -> under review -> accepted / rejected, and
        under review <-> returned. A staff actor takes the request if nobody holds it."""
        message = (message or "").strip() or None
        if new_status == REJECTED and not (message or reason_choice):
            raise TransitionError(_l("A rejection needs a reason the resident can read."))
        if new_status == RETURNED and not message:
            raise TransitionError(_l("Say what is missing: the resident reads this message."))
        cls, now = type(self), utcnow()
        with write_transaction():
            current = cls.get_by_id(self.id)
            problem = current.refusal(new_status, actor)
            if problem:
                raise TransitionError(problem)
            values = dict(status=new_status, version=cls.version + 1, updated_at=now,
                          **current.clock_values(new_status, now))
            condition = (cls.id == self.id) & (cls.status == current.status)
            if actor is not None and actor.is_staff:
                values["assignee"] = actor
                condition &= cls.assignee.is_null() | (cls.assignee == actor)
            if new_status in FINAL_STATUSES:
                values.update(reason=message, reason_choice=reason_choice, decided_at=now,
                              decided_on=riyadh_date(now),
                              hours_to_decision=(now - current.submitted_at).total_seconds() / 3600)
            if not cls.update(**values).where(condition).execute():
                raise TransitionError(_l("Someone changed this request at the same moment; "
                                         "look at it again."))
            kind = "answer" if actor is not None and actor.id == current.owner_id else "status"
            Event.create(request=self, at=now, kind=kind, status=new_status, message=message,
                         reason_choice=reason_choice, actor=actor)
            Audit.record(actor, current, new_status, current.status, new_status, ip)
        return cls.get_by_id(self.id)

    def clock_values(self, new_status, now):
        """Pause the deadline when the request goes back to the resident; when it
        comes back, add the working days it waited."""
        if new_status == RETURNED:
            return dict(paused_at=now)
        if self.status == RETURNED:
            holidays = Holiday.days()
            waited = self.waiting_days + working_days_between(
                riyadh_date(self.paused_at), riyadh_date(now), holidays)
            return dict(paused_at=None, waiting_days=waited,
                        due_on=due_date(self.submitted_on, waited, holidays))
        return {}

    def answer(self, owner, message, files):
        """The resident answers a return: text and/or documents, then back to review."""
        with write_transaction():
            for name, content_type, data in files:
                Document.create(request=self, name=name, content_type=content_type, size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), data=data)
            return self.change_status(UNDER_REVIEW, actor=owner, message=message)

    def claim(self, officer, ip=None):
        """Hold this request; refused with who holds it when another officer does."""
        cls = type(self)
        with write_transaction():
            taken = cls.update(assignee=officer).where(
                (cls.id == self.id) & cls.assignee.is_null() & cls.decided_at.is_null()).execute()
            current = cls.get_by_id(self.id)
            if not taken:
                if current.is_final:
                    raise TransitionError(current.refusal(current.status))
                if current.assignee_id != officer.id:
                    raise TransitionError(_l("%(name)s is working on this request.",
                                             name=current.assignee.full_name))
                return current
            Event.create(request=self, kind="claim", actor=officer, internal=True)
            Audit.record(officer, current, "claim", current.status, current.status, ip)
        return current

    def release(self, officer, ip=None):
        """Give the request back to the queue (its holder, or a supervisor)."""
        cls = type(self)
        condition = (cls.id == self.id) & cls.assignee.is_null(False) & cls.decided_at.is_null()
        if officer.role != "supervisor":
            condition &= cls.assignee == officer
        with write_transaction():
            if not cls.update(assignee=None).where(condition).execute():
                current = cls.get_by_id(self.id)
                raise TransitionError(current.refusal(current.status) if current.is_final
                                      else _l("You do not hold this request."))
            current = cls.get_by_id(self.id)
            Event.create(request=self, kind="release", actor=officer, internal=True)
            Audit.record(officer, current, "release", current.status, current.status, ip)
        return current

    def add_note(self, officer, text, ip=None):
        """An internal note: staff see it, the resident never does."""
        text = (text or "").strip()
        if not text:
            raise TransitionError(_l("Write the note first."))
        with write_transaction():
            Event.create(request=self, kind="note", message=text, actor=officer, internal=True)
            Audit.record(officer, self, "note", self.status, self.status, ip)

    def days_left(self, today=None):
        """Calendar days until the deadline (negative when overdue); None while paused."""
        if self.status == RETURNED or self.is_final:
            return None
        return (self.due_on - (today or riyadh_today())).days

    @classmethod
    def queue(cls, officer, status=None, service=None, overdue=False, mine=False,
              unassigned=False, search=None, after=None, limit=50, today=None):
        """Undecided requests, soonest deadline first, with keyset pagination on
        (due_on, id): each page is an index range scan, however deep."""
        assignee = User.alias()
        query = (cls.select(cls, Service, Person, assignee)
                 .join(Service).switch(cls).join(Person).switch(cls)
                 .join(assignee, JOIN.LEFT_OUTER, on=(cls.assignee == assignee.id))
                 .where(cls.decided_at.is_null()))
        if status in OPEN_STATUSES:
            query = query.where(cls.status == status)
        if service:
            query = query.where(Service.code == service)
        if overdue:
            query = query.where((cls.due_on < (today or riyadh_today())) & (cls.status != RETURNED))
        if mine:
            query = query.where(cls.assignee == officer)
        if unassigned:
            query = query.where(cls.assignee.is_null())
        if search:  # a request number (9 digits) or a person's identity number (10)
            digits = normalize_digits(search)
            if len(digits) == REQUEST_NUMBER_LENGTH:
                query = query.where(cls.number == digits)
            else:
                query = query.where(cls.person.in_(Person.select(Person.id).where(Person.id_number == digits)))
        if after:
            query = query.where(Tuple(cls.due_on, cls.id) > Tuple(*after))
        return query.order_by(cls.due_on, cls.id).limit(limit)

    @classmethod
    def reschedule_open(cls, holidays=None):
        """Recompute the deadline of every undecided request (after a holiday is added)."""
        holidays = Holiday.days() if holidays is None else holidays
        changed = 0
        with write_transaction():
            for r in cls.select(cls.id, cls.submitted_on, cls.waiting_days, cls.due_on).where(
                    cls.decided_at.is_null()):
                due = due_date(r.submitted_on, r.waiting_days, holidays)
                if due != r.due_on:
                    cls.update(due_on=due, version=cls.version + 1).where(cls.id == r.id).execute()
                    changed += 1
        return changed


ServiceRequest.add_index(ServiceRequest.due_on, ServiceRequest.id,
                         where=ServiceRequest.decided_at.is_null(), name="servicerequest_open_queue")


class Event(BaseModel):
    """One line of a request's timeline."""
    request = ForeignKeyField(ServiceRequest, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=20)  # submitted, status, answer, claim, release, note
    status = CharField(max_length=20, null=True)
    message = TextField(null=True)
    reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    internal = BooleanField(default=False)  # staff only: never shown to the resident

    @classmethod
    def timeline(cls, service_request, staff=False):
        query = cls.select().where(cls.request == service_request)
        if not staff:
            query = query.where(cls.internal == False)  # noqa: E712 (SQL, not Python)
        return query.order_by(cls.at, cls.id)


class Audit(BaseModel):
    """Append-only record of every staff action: who, when, what, from which status
    to which, and from where. Triggers in the database refuse UPDATE and DELETE."""
    request = ForeignKeyField(ServiceRequest, on_delete="RESTRICT")
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")  # None: the command line
    at = DateTimeField(default=utcnow)
    action = CharField(max_length=20)
    from_status = CharField(max_length=20)
    to_status = CharField(max_length=20)
    ip = CharField(max_length=45, null=True)

    @classmethod
    def record(cls, actor, service_request, action, from_status, to_status, ip=None):
        if actor is not None and not actor.is_staff:
            return None  # residents' own steps are in the timeline
        return cls.create(request=service_request, actor=actor, action=action,
                          from_status=from_status, to_status=to_status, ip=ip)

    @classmethod
    def of_request(cls, service_request):
        return (cls.select(cls, User).join(User, JOIN.LEFT_OUTER)
                .where(cls.request == service_request).order_by(cls.at, cls.id))

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise PermissionError("the audit trail is append-only")
        return super().save(*args, **kwargs)


APPEND_ONLY_SQL = {
    "sqlite": ["CREATE TRIGGER IF NOT EXISTS audit_no_{op} BEFORE {OP} ON audit "
               "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"],
    "postgres": ["CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN "
                 "RAISE EXCEPTION 'the audit trail is append-only'; END $$ LANGUAGE plpgsql",
                 "DROP TRIGGER IF EXISTS audit_no_{op} ON audit",
                 "CREATE TRIGGER audit_no_{op} BEFORE {OP} ON audit "
                 "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"],
}


def protect_audit():
    """Make the audit table refuse UPDATE and DELETE, in the database itself."""
    dialect = "sqlite" if isinstance(db.obj, SqliteDatabase) else "postgres"
    for op in ("update", "delete"):
        for statement in APPEND_ONLY_SQL[dialect]:
            db.execute_sql(statement.format(op=op, OP=op.upper()))


class Document(BaseModel):
    request = ForeignKeyField(ServiceRequest, backref="documents", on_delete="CASCADE")
    name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    data = BlobField()
    added_at = DateTimeField(default=utcnow)

    @classmethod
    def listing(cls, service_request):
        """Documents without their bytes."""
        return (cls.select(cls.id, cls.name, cls.content_type, cls.size, cls.sha256, cls.added_at)
                .where(cls.request == service_request).order_by(cls.id))


class Draft(BaseModel):
    """A request being written: kept in the database so the uploaded files survive a
    failed check, a 'change' link or a lost connection."""
    token = CharField(max_length=64, unique=True, default=lambda: secrets.token_urlsafe(24))
    owner = ForeignKeyField(User, on_delete="CASCADE")
    service = ForeignKeyField(Service, null=True, on_delete="SET NULL")
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    description = TextField(default="")
    updated_at = DateTimeField(default=utcnow, index=True)

    KEEP_PER_OWNER = 3

    @classmethod
    def of_owner(cls, user, token):
        return cls.get_or_none((cls.owner == user) & (cls.token == (token or "")))

    @classmethod
    def start(cls, user):
        """A new, unsaved draft; the owner's older drafts beyond the last few go, so
        abandoned uploads cannot pile up."""
        stale = (cls.select(cls.id).where(cls.owner == user)
                 .order_by(cls.updated_at.desc()).offset(cls.KEEP_PER_OWNER - 1))
        stale_ids = [d.id for d in stale]
        if stale_ids:
            DraftFile.delete().where(DraftFile.draft.in_(stale_ids)).execute()
            cls.delete().where(cls.id.in_(stale_ids)).execute()
        return cls(owner=user)

    def files(self):
        return (DraftFile.select(DraftFile.id, DraftFile.name, DraftFile.content_type, DraftFile.size)
                .where(DraftFile.draft == self).order_by(DraftFile.id))

    def file_count(self):
        return DraftFile.select().where(DraftFile.draft == self).count()

    def add_file(self, name, content_type, data):
        return DraftFile.create(draft=self, name=name, content_type=content_type, size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), data=data)

    def remove_files(self, ids):
        DraftFile.delete().where((DraftFile.draft == self) & (DraftFile.id.in_(ids))).execute()

    @classmethod
    def purge_older_than(cls, days):
        cutoff = utcnow() - dt.timedelta(days=days)
        stale = cls.select(cls.id).where(cls.updated_at < cutoff)
        DraftFile.delete().where(DraftFile.draft.in_(stale)).execute()
        return cls.delete().where(cls.updated_at < cutoff).execute()


class DraftFile(BaseModel):
    draft = ForeignKeyField(Draft, backref="draft_files", on_delete="CASCADE")
    name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    data = BlobField()


MODELS = [User, Person, Service, Holiday, Reason, ServiceRequest, Event, Audit, Document, Draft,
          DraftFile]


def create_schema():
    """Tables, the append-only audit triggers and the catalogues (safe to run again)."""
    db.create_tables(MODELS, safe=True)
    protect_audit()
    Service.sync_catalogue()
    Reason.sync_catalogue()

