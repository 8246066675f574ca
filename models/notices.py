"""The outbox of SMS notices. A notice is written in the same transaction as the
change that causes it (a code issued, a request returned or decided), so neither can
exist without the other; `flask notices deliver` sends what is due (cli/notices.py)."""
from peewee import CharField, DateTimeField, IntegerField, TextField

from models.base import BaseModel
from models.clock import utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


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
