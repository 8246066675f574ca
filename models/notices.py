"""The outbox of SMS notices. A notice is written in the same transaction as the
change that causes it (a code issued, a request returned or decided), so neither can
exist without the other; `flask notices deliver` sends what is due (cli/notices.py).

Several workers may deliver at once. A worker *claims* a small batch of due notices
in a short transaction (on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so two
workers take different rows without waiting; on SQLite the write lock of
write_transaction makes claims one at a time) and moves their next_try_at LEASE
ahead. No other worker sees them as due before the lease ends, and the lease is
longer than a batch can take to send (BATCH gateway calls of at most their timeout),
so in the normal path a notice is sent once. Only a worker that dies between the
gateway's answer and recording it leaves a notice to be sent again when the lease
ends; the gateway gets the same "id" then, so it can drop the repeat. Nothing is
held locked while the gateway is called: sign-ups and decisions never wait on it."""
import datetime as dt

from flask_babel import lazy_gettext as _l
from peewee import CharField, DateTimeField, IntegerField, TextField, fn

from models.base import BaseModel, is_sqlite, write_transaction
from models.clock import utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STAFF_NOTICE_KIND = "staff"  # the staff's daily reminders (models.watcher); the rest go to residents
NOTICE_STATUS_LABELS = {PENDING: _l("Waiting"), DELIVERED: _l("Delivered"), FAILED: _l("Failed")}

BATCH = 10  # notices a worker claims at once
LEASE = dt.timedelta(minutes=2)  # > BATCH x the gateway's timeout (5 s)
FIRST_RETRY = dt.timedelta(seconds=10)  # then 20 s, 40 s ... up to LONGEST_WAIT
LONGEST_WAIT = dt.timedelta(minutes=10)
GIVE_UP_AFTER = dt.timedelta(hours=24)  # of failures since the notice was written


class Notice(BaseModel):
    key = CharField(max_length=80, unique=True)  # the idempotency key the gateway receives as "id"
    to = CharField(max_length=16)  # E.164
    text = TextField()
    kind = CharField(max_length=20)
    status = CharField(max_length=10, default=PENDING)
    attempts = IntegerField(default=0)
    next_try_at = DateTimeField(default=utcnow)
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)
    last_error = TextField(null=True)

    class Meta:
        indexes = ((("status", "next_try_at"), False),)

    @classmethod
    def queue(cls, key, to, text, kind):
        """Add a notice to the outbox; call it inside the transaction of its cause.
        The same key twice is one notice."""
        now = utcnow()
        cls.insert(key=key, to=to, text=text, kind=kind, next_try_at=now, created_at=now) \
            .on_conflict_ignore().execute()

    @classmethod
    def claim_due(cls, limit=BATCH):
        """Up to `limit` due notices, leased to this worker (see the module's docstring);
        each claim counts as an attempt."""
        now = utcnow()
        with write_transaction():
            query = (cls.select().where((cls.status == PENDING) & (cls.next_try_at <= now))
                     .order_by(cls.next_try_at, cls.id).limit(limit))
            if not is_sqlite():
                query = query.for_update("FOR UPDATE SKIP LOCKED")
            due = list(query)
            if due:
                cls.update(next_try_at=now + LEASE, attempts=cls.attempts + 1).where(
                    cls.id.in_([notice.id for notice in due])).execute()
        for notice in due:
            notice.attempts += 1
        return due

    def delivered(self):
        return self._finish(status=DELIVERED, delivered_at=utcnow(), last_error=None)

    def not_delivered(self, error, permanent=False):
        """The gateway refused or could not be reached: try again later, 10 s after
        the first attempt and twice as long each time (at most 10 min), or give up
        when the gateway says the message itself is wrong or after 24 hours."""
        now, error = utcnow(), error[:500]
        if permanent or now - self.created_at >= GIVE_UP_AFTER:
            return self._finish(status=FAILED, last_error=error)
        wait = min(FIRST_RETRY * 2 ** (self.attempts - 1), LONGEST_WAIT)
        return self._finish(next_try_at=now + wait, last_error=error)

    def _finish(self, **values):
        cls = type(self)
        cls.update(**values).where((cls.id == self.id) & (cls.status == PENDING)).execute()
        return values.get("status", PENDING)

    @classmethod
    def backlog(cls):
        """(waiting, failed, when the oldest waiting notice was written or None): the
        outbox as the operator watches it (web/metrics.py)."""
        counted = dict(cls.select(cls.status, fn.COUNT(cls.id)).where(cls.status.in_((PENDING, FAILED)))
                       .group_by(cls.status).tuples())
        oldest = cls.select(fn.MIN(cls.created_at)).where(cls.status == PENDING).scalar()
        return counted.get(PENDING, 0), counted.get(FAILED, 0), cls.created_at.python_value(oldest)

    @classmethod
    def latest(cls, limit=50):
        return cls.select().order_by(cls.created_at.desc(), cls.id.desc()).limit(limit)
