"""Every model of Tawasul, and the domain rules they carry (identity numbers,
request numbers, working days, status transitions)."""
import datetime as dt
import hashlib
import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from peewee import (BlobField, BooleanField, CharField, DatabaseProxy, DateField,
                    DateTimeField, ForeignKeyField, IntegerField, IntegrityError, Model,
                    SqliteDatabase, TextField, Value)
from werkzeug.security import check_password_hash, generate_password_hash

db = DatabaseProxy()

RIYADH = dt.timezone(dt.timedelta(hours=3), "AST")  # Saudi Arabia keeps no daylight saving
WEEKEND = {4, 5}  # Friday and Saturday (Monday is 0)
REVIEW_WORKING_DAYS = 7
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def riyadh_date(moment):
    """The calendar date in Riyadh of a naive UTC datetime."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(RIYADH).date()


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
        return self.role in ("officer", "supervisor")

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
    id_number = CharField(max_length=10)
    name = CharField(max_length=120)
    nationality = CharField(max_length=2)  # ISO 3166-1 alpha-2

    class Meta:
        indexes = ((("sponsor_id_number", "id_number"), True),)

    @property
    def id_type(self):
        return ID_TYPES[self.id_number[0]]

    @property
    def id_type_label(self):
        return ID_TYPE_LABELS[self.id_type]

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
        """Insert or update the catalogue rows from SERVICE_CATALOGUE."""
        with db.atomic():
            for position, entry in enumerate(SERVICE_CATALOGUE):
                values = dict(entry, position=position, id_types=",".join(entry["id_types"]),
                              nationalities=",".join(entry["nationalities"]))
                if not cls.update(**values).where(cls.code == entry["code"]).execute():
                    cls.create(**values)


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
    ACCEPTED: (RECEIVED, UNDER_REVIEW),
    REJECTED: (RECEIVED, UNDER_REVIEW),
}


class TransitionError(ValueError):
    """A status change the rules refuse; str() is the reason, translated."""


class ServiceRequest(BaseModel):
    number = CharField(max_length=REQUEST_NUMBER_LENGTH, unique=True)
    owner = ForeignKeyField(User, backref="requests", on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="RESTRICT")
    service = ForeignKeyField(Service, on_delete="RESTRICT")
    description = TextField()
    status = CharField(max_length=20, default=RECEIVED, index=True)
    reason = TextField(null=True)  # the decision's reason, shown to the resident
    submitted_at = DateTimeField(default=utcnow, index=True)
    due_on = DateField()
    decided_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)  # bumped on every change the resident can see
    draft_token = CharField(max_length=64, unique=True)  # one request per confirmed draft

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

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
                             submitted_at=now, updated_at=now, draft_token=draft.token,
                             due_on=add_working_days(riyadh_date(now), REVIEW_WORKING_DAYS))
        fields = [DraftFile.name, DraftFile.content_type, DraftFile.size, DraftFile.sha256, DraftFile.data]
        Document.insert_from(
            DraftFile.select(Value(created.id), *fields).where(DraftFile.draft == draft),
            [Document.request, Document.name, Document.content_type, Document.size,
             Document.sha256, Document.data]).execute()
        Event.create(request=created, at=now, kind="submitted", status=RECEIVED)
        draft.delete_instance(recursive=True)
        return created

    def change_status(self, new_status, reason=None, actor=None):
        """Move to new_status if the rules allow it from the status in the database.
        The check is part of the UPDATE, so two concurrent changes cannot both win."""
        if new_status not in TRANSITIONS:
            raise TransitionError(_l("Unknown status."))
        if new_status == REJECTED and not (reason or "").strip():
            raise TransitionError(_l("A rejection needs a reason the resident can read."))
        cls = type(self)
        now = utcnow()
        values = dict(status=new_status, version=cls.version + 1, updated_at=now)
        if new_status in FINAL_STATUSES:
            values.update(reason=reason, decided_at=now)
        with write_transaction():
            changed = cls.update(**values).where(
                (cls.id == self.id) & (cls.status.in_(TRANSITIONS[new_status]))).execute()
            if not changed:
                current = cls.get_by_id(self.id).status
                raise TransitionError(_l("A request that is “%(current)s” cannot become “%(new)s”.",
                                         current=STATUS_LABELS[current],
                                         new=STATUS_LABELS[new_status]))
            Event.create(request=self, at=now, kind="status", status=new_status,
                         message=reason or None, actor=actor)
        return cls.get_by_id(self.id)


class Event(BaseModel):
    """One line of a request's timeline."""
    request = ForeignKeyField(ServiceRequest, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=20)  # submitted, status
    status = CharField(max_length=20, null=True)
    message = TextField(null=True)
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")

    @classmethod
    def timeline(cls, service_request):
        return cls.select().where(cls.request == service_request).order_by(cls.at, cls.id)


class Document(BaseModel):
    request = ForeignKeyField(ServiceRequest, backref="documents", on_delete="CASCADE")
    name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    data = BlobField()

    @classmethod
    def listing(cls, service_request):
        """Documents without their bytes."""
        return (cls.select(cls.id, cls.name, cls.content_type, cls.size, cls.sha256)
                .where(cls.request == service_request).order_by(cls.id))


class Draft(BaseModel):
    """A request being written: kept in the database so the uploaded files survive a
    failed check, a 'change' link or a lost connection."""
    token = CharField(max_length=64, unique=True, default=lambda: secrets.token_urlsafe(24))
    owner = ForeignKeyField(User, on_delete="CASCADE")
    service = ForeignKeyField(Service, null=True, on_delete="SET NULL")
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    description = TextField(default="")
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def of_owner(cls, user, token):
        return cls.get_or_none((cls.owner == user) & (cls.token == (token or "")))

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


MODELS = [User, Person, Service, ServiceRequest, Event, Document, Draft, DraftFile]

