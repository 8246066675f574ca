"""The database handle every model shares, and what the models have in common."""
import hashlib

from peewee import BlobField, CharField, DatabaseProxy, IntegerField, Model, SqliteDatabase, chunked

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db

    @classmethod
    def upsert(cls, rows, key):
        """Insert rows (dicts), or update the row that has the same `key` fields."""
        rows = list(rows)
        if not rows:
            return
        fields = [cls._meta.fields[name] for name in rows[0] if name not in key]
        target = [cls._meta.fields[name] for name in key]
        for batch in chunked(rows, 200):
            cls.insert_many(batch).on_conflict(conflict_target=target, preserve=fields).execute()


class StoredFile(BaseModel):
    """A document's bytes and what is known of them (checked by content, not name)."""
    name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    data = BlobField()

    @staticmethod
    def values(name, content_type, data):
        return dict(name=name, content_type=content_type, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), data=data)


def write_transaction():
    """A transaction that takes the write lock at once on SQLite, so two writers
    queue on the busy timeout instead of failing on a stale snapshot."""
    if isinstance(db.obj, SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)
