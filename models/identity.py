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

from models.base import BaseModel, lock_for_transaction, write_transaction
from models.clock import utcnow
from models.notices import Notice
from models.users import User

SIGN_IN_TRIES = 5  # wrong passwords from one address before that address waits
FIRST_PAUSE = dt.timedelta(minutes=5)  # then 10, 20, 40 ... up to a day
LONGEST_PAUSE = dt.timedelta(days=1)

CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_TRIES = 5
RESEND_SPACING = dt.timedelta(seconds=60)  # between two codes to one browser
SENDS_PER_HOUR = 5  # codes one browser may ask for in an hour
CODE_DAY = dt.timedelta(days=1)
SENDS_PER_PHONE_PER_DAY = 10  # SMS of the code steps one mobile receives in a day, whoever asks
SENDS_PER_NETWORK_PER_DAY = 5  # of those, asked from one client network: a stranger alone spends half


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
        twice as long as the pair's previous one. True when this call started it."""
        key = cls.key(username)
        with write_transaction():
            row = cls.get_or_none((cls.username == key) & (cls.address == address))
            if row is None or row.failures < allowed:
                return False
            pause = min(FIRST_PAUSE * 2 ** row.locks, LONGEST_PAUSE)
            # The row is re-checked in the UPDATE: on PostgreSQL a parallel try may
            # have read the same spent row and started the pause first.
            return cls.update(failures=0, locks=cls.locks + 1, locked_until=utcnow() + pause).where(
                (cls.id == row.id) & (cls.failures >= allowed) & (cls.locks == row.locks)).execute() == 1


class CodeNotSent(Exception):
    """No code was sent; `limit` says which limit stood in the way:
    "spacing" (this browser had one a moment ago: it still works), "browser"
    (this browser asked too often this hour), "network" (this number was asked
    for too often from the client's network today) or "phone" (the mobile had
    its most codes of the day)."""

    def __init__(self, limit, wait_seconds):
        super().__init__(limit, wait_seconds)
        self.limit, self.wait_seconds = limit, max(int(wait_seconds) + 1, 1)


class CodeSent(BaseModel):
    """One SMS of a code step (a code, or a warning to an account owner) sent to a
    mobile: the phone's daily cap and each network's share of it count these."""
    mobile = CharField(max_length=13)
    network = CharField(max_length=45)
    sent_at = DateTimeField()

    class Meta:
        table_name = "code_sent"
        indexes = ((("mobile", "sent_at"), False),)

    @classmethod
    def refusal(cls, mobile, network, now):
        """CodeNotSent when the phone's daily cap, or this network's share of it, is
        spent; else None. A stranger on one network can spend only the share, so the
        owner elsewhere still gets codes."""
        day_ago = now - CODE_DAY
        sent = cls.select(cls.network, cls.sent_at).where((cls.mobile == mobile) & (cls.sent_at > day_ago))
        times = sorted(row.sent_at for row in sent)
        if len(times) >= SENDS_PER_PHONE_PER_DAY:
            return CodeNotSent("phone", (times[-SENDS_PER_PHONE_PER_DAY] + CODE_DAY - now).total_seconds())
        mine = sorted(row.sent_at for row in sent if row.network == network)
        if len(mine) >= SENDS_PER_NETWORK_PER_DAY:
            return CodeNotSent("network", (mine[-SENDS_PER_NETWORK_PER_DAY] + CODE_DAY - now).total_seconds())
        return None

    @classmethod
    def purge(cls, now):
        return cls.delete().where(cls.sent_at <= now - CODE_DAY).execute()


class OneTimeCode(BaseModel):
    """The 6-digit code sent to the registry's mobile for a purpose ("signup",
    "reset"), one per browser session that asked (`holder`): what another browser
    asks for never touches it. Stored hashed, valid CODE_LIFETIME, CODE_TRIES wrong
    tries end it; a browser's asks are spaced and capped per hour, and every ask
    counts against the phone's daily cap (CodeSent)."""
    purpose = CharField(max_length=10)
    id_number = CharField(max_length=10)
    code_hash = CharField(max_length=64)
    holder = CharField(max_length=64)  # the session that asked for it: only it can use it
    expires_at = DateTimeField()
    tries = IntegerField(default=0)
    sent_at = DateTimeField()
    sends_this_hour = IntegerField(default=1)
    hour_started_at = DateTimeField()

    class Meta:
        table_name = "one_time_code"
        indexes = ((("purpose", "id_number", "holder"), True),)

    @classmethod
    def issue(cls, purpose, id_number, mobile, holder, network):
        """A new code for the browser session `holder` (its previous code for this
        number stops working; other sessions' codes go on working), counted against
        the phone's daily cap; raises CodeNotSent."""
        now = utcnow()
        code = f"{secrets.randbelow(10 ** 6):06d}"
        values = dict(code_hash=peppered(purpose, id_number, code), expires_at=now + CODE_LIFETIME, tries=0,
                      sent_at=now)
        mine = (cls.purpose == purpose) & (cls.id_number == id_number) & (cls.holder == holder)
        with write_transaction():
            lock_for_transaction("code-sent", mobile)  # asks for one phone, one after the other
            row = cls.get_or_none(mine)
            refusal = (row and row.refusal(now)) or CodeSent.refusal(mobile, network, now)
            if refusal:
                raise refusal
            if row is None:
                values.update(purpose=purpose, id_number=id_number, holder=holder, hour_started_at=now)
                if not cls.insert(**values).on_conflict_ignore().as_rowcount().execute():
                    raise CodeNotSent("spacing", RESEND_SPACING.seconds)  # a parallel ask of this browser
            else:
                if now - row.hour_started_at >= dt.timedelta(hours=1):
                    values.update(hour_started_at=now, sends_this_hour=1)
                else:
                    values.update(sends_this_hour=row.sends_this_hour + 1)
                # A parallel ask of this browser may have sent since the read.
                if not cls.update(**values).where((cls.id == row.id) & (cls.sent_at == row.sent_at)).execute():
                    raise CodeNotSent("spacing", RESEND_SPACING.seconds)
            CodeSent.create(mobile=mobile, network=network, sent_at=now)
        return code

    @classmethod
    def send(cls, purpose, person, holder, network, message):
        """A new code for `person`'s registry mobile and its SMS (`message(code)` gives
        the text), in one transaction: the outbox sends it. Raises CodeNotSent."""
        with write_transaction():
            code = cls.issue(purpose, person.id_number, person.mobile, holder, network)
            Notice.queue(f"{purpose}-{secrets.token_hex(12)}", person.mobile, message(code), kind=purpose)

    def refusal(self, now):
        """CodeNotSent when this browser must wait for its next code, else None."""
        hour_ends = self.hour_started_at + dt.timedelta(hours=1)
        if self.sends_this_hour >= SENDS_PER_HOUR and now < hour_ends:
            return CodeNotSent("browser", (hour_ends - now).total_seconds())
        if now - self.sent_at < RESEND_SPACING:
            return CodeNotSent("spacing", (self.sent_at + RESEND_SPACING - now).total_seconds())
        return None

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

    @classmethod
    def purge(cls, now):
        """Codes that ended more than an hour ago (their browser's hourly count with them)."""
        return cls.delete().where(cls.expires_at <= now - dt.timedelta(hours=1)).execute()


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
