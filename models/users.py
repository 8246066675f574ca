"""Accounts (residents and staff) and the registry of persons linked to them."""
import datetime as dt
import hmac
import secrets

import pyotp
from flask_login import UserMixin
from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import BaseModel, write_transaction
from models.clock import utcnow
from models.notices import Notice
from models.rules import ID_TYPES

ROLES = ("resident", "officer", "supervisor")
STAFF_ROLES = ("officer", "supervisor")
TOTP_ISSUER = "Tawasul"  # the name authenticator apps show beside the code


class UsernameTaken(ValueError):
    """Two people chose the same username at the same moment."""


class User(UserMixin, BaseModel):
    username = CharField(max_length=40, unique=True)
    password_hash = CharField(max_length=255)
    full_name = CharField(max_length=120)
    id_number = CharField(max_length=10, null=True, unique=True)  # staff have none
    role = CharField(max_length=20, default="resident")
    locale = CharField(max_length=5, null=True)
    mobile = CharField(max_length=13, null=True)  # E.164, proven by a code at sign-up
    totp_secret = CharField(max_length=32, null=True)  # staff: the second factor
    totp_last_step = IntegerField(null=True)  # the last time step used: a code works once
    disabled = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    supervisor = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="team")  # told of overdue work
    away_until = DateField(null=True)  # officers: away through this Riyadh date, back the day after
    last_assigned_at = DateTimeField(null=True)  # officers: when the rule last gave them a request

    def is_away(self, today):
        """Away on `today` (a Riyadh date): away_until is the last day away."""
        return self.away_until is not None and self.away_until >= today

    @property
    def back_on(self):
        """The first day given requests again after an away (None: never away)."""
        return self.away_until + dt.timedelta(days=1) if self.away_until else None

    @property
    def is_active(self):
        return not self.disabled

    @property
    def is_staff(self):
        return self.role in STAFF_ROLES

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @classmethod
    def register(cls, username, person, password, locale=None):
        """A resident's account for the registry entry `person` (its mobile already
        proven by a one-time code) and their own row in the registry, together;
        raises UsernameTaken when someone took the name a moment ago."""
        user = cls(username=username, full_name=person.name, id_number=person.id_number,
                   mobile=person.mobile, locale=locale)
        user.set_password(password)
        try:
            with write_transaction():
                user.save()
                Person.get_or_create(sponsor_id_number=person.id_number, id_number=person.id_number,
                                     defaults=dict(name=person.name, nationality=person.nationality,
                                                   mobile=person.mobile))
        except IntegrityError:
            raise UsernameTaken(username) from None
        return user

    @classmethod
    def create_staff(cls, username, role, full_name, password, mobile=None, supervisor=None):
        """A staff account with its second factor (a new TOTP secret), its mobile (for
        the watcher's SMS) and the supervisor told of its overdue requests."""
        user = cls(username=username, full_name=full_name or username, role=role, mobile=mobile,
                   supervisor=supervisor, totp_secret=pyotp.random_base32())
        user.set_password(password)
        user.save()
        return user

    def totp(self):
        return pyotp.TOTP(self.totp_secret)

    def totp_uri(self):
        """The otpauth:// address an authenticator app reads (as a QR code)."""
        return self.totp().provisioning_uri(name=self.username, issuer_name=TOTP_ISSUER)

    def replace_totp_secret(self, secret=None):
        """A new second factor: the codes of the app set up before stop working."""
        self.totp_secret, self.totp_last_step = secret or pyotp.random_base32(), None
        type(self).update(totp_secret=self.totp_secret, totp_last_step=None).where(
            type(self).id == self.id).execute()

    def verify_totp(self, code):
        """True for the current code (or the one before or after it, for a slow
        clock); each code works once, even when two tries race."""
        if not self.totp_secret:
            return False
        cls, totp = type(self), self.totp()
        now = utcnow().replace(tzinfo=dt.UTC)
        for step in sorted({totp.timecode(now) + drift for drift in (-1, 0, 1)}):
            if hmac.compare_digest(totp.generate_otp(step).encode(), (code or "").strip().encode()):
                return cls.update(totp_last_step=step).where(
                    (cls.id == self.id) & (cls.totp_last_step.is_null() | (cls.totp_last_step < step))
                ).execute() == 1
        return False

    def change_password(self, password, notice_text=None):
        """The new password and, for an account with a mobile, the SMS that says so
        (`notice_text`), together."""
        with write_transaction():
            type(self).update(password_hash=generate_password_hash(password)).where(
                type(self).id == self.id).execute()
            if self.mobile and notice_text:
                Notice.queue(f"password-{secrets.token_hex(12)}", self.mobile, notice_text, kind="password")

    def set_locale(self, lang):
        """The language the account's pages and SMS are in."""
        self.locale = lang
        type(self).update(locale=lang).where(type(self).id == self.id).execute()

    def set_supervisor(self, supervisor):
        """The supervisor told of this account's overdue requests (None: every supervisor)."""
        self.supervisor = supervisor
        type(self).update(supervisor=supervisor).where(type(self).id == self.id).execute()

    def set_mobile(self, mobile):
        self.mobile = mobile
        type(self).update(mobile=mobile).where(type(self).id == self.id).execute()

    @classmethod
    def holding(cls, id_number):
        """The account opened with this identity number, or None."""
        return cls.get_or_none(cls.id_number == id_number)

    @classmethod
    def staff_named(cls, username):
        return cls.get_or_none((cls.username == username) & cls.role.in_(STAFF_ROLES))

    def disable(self):
        """No more sign-in; open sessions stop at their next request (user loader)."""
        type(self).update(disabled=True).where(type(self).id == self.id).execute()


class Person(BaseModel):
    """Someone an account may file for: the account owner (sponsor == self) and the
    dependents / workers the registry links to that owner's identity number."""
    sponsor_id_number = CharField(max_length=10, index=True)
    id_number = CharField(max_length=10, index=True)
    name = CharField(max_length=120)
    nationality = CharField(max_length=2)  # ISO 3166-1 alpha-2
    mobile = CharField(max_length=13, null=True)  # E.164, as the registry holds it

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
    def with_mobile(cls, id_number):
        """The registry's entry for this number that carries a mobile, or None: only
        such a person can prove who they are with a code."""
        return (cls.select().where((cls.id_number == id_number) & cls.mobile.is_null(False))
                .order_by((cls.sponsor_id_number == id_number).desc(), cls.id).first())

    @classmethod
    def linked_by_number(cls, user, id_number):
        return cls.get_or_none((cls.sponsor_id_number == user.id_number) & (cls.id_number == id_number))

    def sponsor_account(self):
        """The account of the sponsor this person is linked to, if they opened one."""
        return User.holding(self.sponsor_id_number)

    def linked_count(self):
        """How many persons the registry links to this person's sponsor."""
        return Person.select().where(Person.sponsor_id_number == self.sponsor_id_number).count()

    @classmethod
    def import_rows(cls, rows):
        """Registry rows (dicts), all in one transaction; a known pair is updated.
        A row without a "mobile" key leaves the pair's known mobile as it is."""
        with write_transaction():
            for with_mobile in (False, True):
                cls.upsert([row for row in rows if ("mobile" in row) == with_mobile],
                           key=("sponsor_id_number", "id_number"))
