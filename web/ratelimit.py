"""Rate-limit counters in the app's database (`database://`), so the limits hold
as configured however many workers or servers answer: every one of them counts in
the same table. Redis (`FLASK_RATELIMIT_STORAGE_URI=redis://...`) does the same
job faster where it is deployed."""
import datetime as dt

from limits.storage import Storage
from peewee import DatabaseError

from models import LimitCounter, utcnow, write_transaction

EPOCH = dt.datetime(1970, 1, 1)


class DatabaseStorage(Storage):
    """A fixed-window counter per key: the window starts at the first hit."""
    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self):
        return DatabaseError

    def incr(self, key, expiry, amount=1):
        now = utcnow()
        window = dict(count=0, expires_at=now + dt.timedelta(seconds=expiry))
        mine = LimitCounter.key == key
        with write_transaction():
            LimitCounter.insert(key=key, **window).on_conflict_ignore().execute()
            LimitCounter.update(**window).where(mine & (LimitCounter.expires_at <= now)).execute()
            LimitCounter.update(count=LimitCounter.count + amount).where(mine).execute()
            return LimitCounter.select(LimitCounter.count).where(mine).scalar()

    def get(self, key):
        return LimitCounter.select(LimitCounter.count).where(
            (LimitCounter.key == key) & (LimitCounter.expires_at > utcnow())).scalar() or 0

    def get_expiry(self, key):
        expires_at = LimitCounter.select(LimitCounter.expires_at).where(LimitCounter.key == key).scalar()
        return ((expires_at or utcnow()) - EPOCH).total_seconds()

    def check(self):
        """Whether the counters' table answers (the limiter asks before it counts again
        after an error)."""
        try:
            LimitCounter.select(LimitCounter.key).limit(1).execute()
        except DatabaseError:
            return False
        return True

    def reset(self):
        return LimitCounter.delete().execute()

    def clear(self, key):
        LimitCounter.delete().where(LimitCounter.key == key).execute()
