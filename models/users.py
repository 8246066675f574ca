"""Accounts (residents and staff) and the registry of persons linked to them."""
import datetime as dt

from flask_login import UserMixin
from peewee import BooleanField, CharField, DateTimeField, IntegerField, IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import BaseModel, db, write_transaction
from models.clock import utcnow
from models.rules import ID_TYPES

ROLES = ("resident", "officer", "supervisor")
STAFF_ROLES = ("officer", "supervisor")
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15


class UsernameTaken(ValueError):
    """Two people chose the same username at the same moment."""


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
        return self.role in STAFF_ROLES

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    @classmethod
    def register(cls, username, full_name, id_number, nationality, password, locale=None):
        """A resident's account and their own entry in the registry, together;
        raises UsernameTaken when someone took the name a moment ago."""
        user = cls(username=username, full_name=full_name.strip(), id_number=id_number, locale=locale)
        user.set_password(password)
        try:
            with db.atomic():
                user.save()
                Person.get_or_create(sponsor_id_number=id_number, id_number=id_number,
                                     defaults=dict(name=user.full_name, nationality=nationality))
        except IntegrityError:
            raise UsernameTaken(username) from None
        return user

    @classmethod
    def create_staff(cls, username, role, full_name, password):
        user = cls(username=username, full_name=full_name or username, role=role)
        user.set_password(password)
        user.save()
        return user

    @classmethod
    def staff_named(cls, username):
        return cls.get_or_none((cls.username == username) & cls.role.in_(STAFF_ROLES))

    def disable(self):
        """No more sign-in; open sessions stop at their next request (user loader)."""
        type(self).update(disabled=True).where(type(self).id == self.id).execute()

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

    def sponsor_account(self):
        """The account of the sponsor this person is linked to, if they opened one."""
        return User.get_or_none(User.id_number == self.sponsor_id_number)

    def linked_count(self):
        """How many persons the registry links to this person's sponsor."""
        return Person.select().where(Person.sponsor_id_number == self.sponsor_id_number).count()

    @classmethod
    def import_rows(cls, rows):
        """Registry rows (dicts), all in one transaction; a known pair is updated."""
        with db.atomic():
            cls.upsert(rows, key=("sponsor_id_number", "id_number"))
