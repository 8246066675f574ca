"""What proves who someone is, kept in the database every app server shares:
sessions (the cookie holds only a random token), sign-in failures counted per
(username, client address), one-time codes sent by SMS, staff recovery codes, and
the counters of the rate limits."""
import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, write_transaction
from models.clock import utcnow
from models.users import User

SIGN_IN_TRIES = 5  # wrong passwords from one address before that address waits
FIRST_PAUSE = dt.timedelta(minutes=5)  # then 10, 20, 40 ... up to a day
LONGEST_PAUSE = dt.timedelta(days=1)

CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_TRIES = 5
RESEND_SPACING = dt.timedelta(seconds=60)
SENDS_PER_HOUR = 5


def peppered(*parts):
    """A keyed hash: a stolen database alone cannot test guesses of a 6-digit code."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


class WebSession(BaseModel):
    """A signed-in (or anonymous) visitor's session; the cookie holds the token,
    the table only its hash."""
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE", index=True)
    data = TextField()
    created_at = DateTimeField()
    seen_at = DateTimeField()

    class Meta:
        table_name = "websession"

    @classmethod
    def end_all_of(cls, user_id, keep_token_hash=None):
        """End every session of an account (password change, reset, disable)."""
        query = cls.delete().where(cls.user == user_id)
        if keep_token_hash:
            query = query.where(cls.token_hash != keep_token_hash)
        return query.execute()


class SignInFailure(BaseModel):
    """Wrong passwords for one username from one client address. The address waits,
    never the account: nobody can lock a resident or an officer out from elsewhere."""
    username = CharField(max_length=200)
    address = CharField(max_length=45)
    failures = IntegerField(default=0)
    locks = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sign_in_failure"
        indexes = ((("username", "address"), True),)

    @staticmethod
    def key(username):
        return (username or "").strip().lower()[:200]

    @classmethod
    def take_try(cls, username, address, allowed=SIGN_IN_TRIES):
        """Count one try for the pair in the same UPDATE that checks the pause, so
        parallel tries cannot check more than `allowed`. False when the pair must wait."""
        now, key = utcnow(), cls.key(username)
        cls.insert(username=key, address=address, updated_at=now).on_conflict_ignore().execute()
        return cls.update(failures=cls.failures + 1, updated_at=now).where(
            (cls.username == key) & (cls.address == address) & (cls.failures < allowed)
            & (cls.locked_until.is_null() | (cls.locked_until <= now))).execute() == 1

    @classmethod
    def forgive(cls, username, address):
        """The right password: the pair starts afresh."""
        cls.delete().where((cls.username == cls.key(username)) & (cls.address == address)).execute()

    @classmethod
    def forgive_everywhere(cls, username):
        """A new password proven by a code: no pause of the old one remains."""
        cls.delete().where(cls.username == cls.key(username)).execute()

    @classmethod
    def pause_if_spent(cls, username, address, allowed=SIGN_IN_TRIES):
        """After a wrong try: the one that used up the allowance starts a pause,
        twice as long as the pair's previous one."""
        key = cls.key(username)
        with write_transaction():
            row = cls.get_or_none((cls.username == key) & (cls.address == address))
            if row is None or row.failures < allowed:
                return
            pause = min(FIRST_PAUSE * 2 ** row.locks, LONGEST_PAUSE)
            # The row is re-checked in the UPDATE: on PostgreSQL a parallel try may
            # have read the same spent row and started the pause first.
            cls.update(failures=0, locks=cls.locks + 1, locked_until=utcnow() + pause).where(
                (cls.id == row.id) & (cls.failures >= allowed) & (cls.locks == row.locks)).execute()


class CodeNotSent(Exception):
    """A code for this number was sent a moment ago, or too often this hour."""

    def __init__(self, wait_seconds):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


class OneTimeCode(BaseModel):
    """The 6-digit code sent to the registry's mobile for a purpose ("signup",
    "reset"): stored hashed, valid CODE_LIFETIME, CODE_TRIES wrong tries end it,
    resends spaced and capped per hour. One live code per (purpose, number)."""
    purpose = CharField(max_length=10)
    id_number = CharField(max_length=10)
    code_hash = CharField(max_length=64)
    holder = CharField(max_length=64)  # the session that asked for it: only its tries count
    expires_at = DateTimeField()
    tries = IntegerField(default=0)
    sent_at = DateTimeField()
    sends_this_hour = IntegerField(default=1)
    hour_started_at = DateTimeField()

    class Meta:
        table_name = "one_time_code"
        indexes = ((("purpose", "id_number"), True),)

    @classmethod
    def issue(cls, purpose, id_number, holder):
        """A new code for the session `holder` (the previous one stops working);
        raises CodeNotSent."""
        now = utcnow()
        code = f"{secrets.randbelow(10 ** 6):06d}"
        values = dict(code_hash=peppered(purpose, id_number, code), holder=holder,
                      expires_at=now + CODE_LIFETIME, tries=0, sent_at=now)
        with write_transaction():
            row = cls.get_or_none((cls.purpose == purpose) & (cls.id_number == id_number))
            if row is None:
                values.update(purpose=purpose, id_number=id_number, hour_started_at=now)
                if not cls.insert(**values).on_conflict_ignore().as_rowcount().execute():
                    raise CodeNotSent(RESEND_SPACING.seconds)  # a parallel ask sent one
                return code
            wait = row.seconds_to_wait(now)
            if wait:
                raise CodeNotSent(wait)
            if now - row.hour_started_at >= dt.timedelta(hours=1):
                values.update(hour_started_at=now, sends_this_hour=1)
            else:
                values.update(sends_this_hour=row.sends_this_hour + 1)
            # A parallel ask (PostgreSQL reads committed rows) may have sent since the read.
            if not cls.update(**values).where((cls.id == row.id) & (cls.sent_at == row.sent_at)).execute():
                raise CodeNotSent(RESEND_SPACING.seconds)
        return code

    def seconds_to_wait(self, now):
        if self.sends_this_hour >= SENDS_PER_HOUR and now - self.hour_started_at < dt.timedelta(hours=1):
            return int((self.hour_started_at + dt.timedelta(hours=1) - now).total_seconds()) + 1
        if now - self.sent_at < RESEND_SPACING:
            return int((self.sent_at + RESEND_SPACING - now).total_seconds()) + 1
        return 0

    @classmethod
    def redeem(cls, purpose, id_number, code, holder):
        """True once for the right code in time, in the session that asked for it;
        each try is counted before the comparison, in the UPDATE that checks the
        limit. Tries from another session count nothing, so a stranger who types
        someone's number cannot spend their code."""
        now = utcnow()
        mine = (cls.purpose == purpose) & (cls.id_number == id_number) & (cls.holder == holder)
        taken = cls.update(tries=cls.tries + 1).where(
            mine & (cls.tries < CODE_TRIES) & (cls.expires_at > now)).execute()
        if not taken:
            return False
        row = cls.get_or_none(mine)
        if row is None or not hmac.compare_digest(row.code_hash, peppered(purpose, id_number, code or "")):
            return False
        return cls.update(expires_at=now).where((cls.id == row.id) & (cls.expires_at > now)).execute() == 1


class RecoveryCode(BaseModel):
    """Single-use codes a staff member keeps on paper for when the phone is lost."""
    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    code_hash = CharField(max_length=64)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "recovery_code"

    @classmethod
    def replace_for(cls, user, count=10):
        """New codes (the old ones stop working), returned once in plain text."""
        codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(count)]
        with write_transaction():
            cls.delete().where(cls.user == user.id).execute()
            cls.insert_many([dict(user=user.id, code_hash=peppered("recovery", str(user.id), code))
                             for code in codes]).execute()
        return codes

    @classmethod
    def use(cls, user, code):
        code = (code or "").strip().lower()
        return cls.update(used_at=utcnow()).where(
            (cls.user == user.id) & (cls.code_hash == peppered("recovery", str(user.id), code))
            & cls.used_at.is_null()).execute() == 1


class LimitCounter(BaseModel):
    """A fixed-window rate-limit counter (web/ratelimit.py), shared by every worker."""
    key = CharField(max_length=255, unique=True)
    count = IntegerField(default=0)
    expires_at = DateTimeField()

    class Meta:
        table_name = "limit_counter"
