"""Residents rate a decided request once, 1 to 5 with an optional comment: the
`rating` table, one row per request at most (a unique index backs the "once").
Frozen copies of the models, independent of models/*.py."""
from peewee import Check, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class ServiceRequest(Base):
        class Meta:
            table_name = "servicerequest"

    class Rating(Base):
        request = ForeignKeyField(ServiceRequest, unique=True, on_delete="CASCADE")
        stars = IntegerField(constraints=[Check("stars BETWEEN 1 AND 5")])
        comment = TextField(null=True)
        created_at = DateTimeField()

    return [Rating]


def up(migrator, db):
    db.create_tables(tables(db))


def down(migrator, db):
    db.drop_tables(tables(db))
