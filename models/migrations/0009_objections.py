"""An objection after a rejection: the `objection` table (one per request at most,
a unique index backs the "once"), and `document.objection_id` for the documents sent
with one (NULL for every other document). Frozen copies of the models, independent
of models/*.py."""
from peewee import CharField, DateField, DateTimeField, ForeignKeyField, Model, TextField


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        class Meta:
            table_name = "user"

    class ServiceRequest(Base):
        class Meta:
            table_name = "servicerequest"

    class Objection(Base):
        request = ForeignKeyField(ServiceRequest, unique=True, on_delete="CASCADE")
        text = TextField()
        status = CharField(max_length=20, index=True)
        submitted_at = DateTimeField()
        submitted_on = DateField(index=True)
        due_on = DateField()
        reviewer = ForeignKeyField(User, null=True, on_delete="SET NULL")
        outcome = CharField(max_length=20, null=True)
        reason = TextField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        decided_at = DateTimeField(null=True)
        decided_on = DateField(null=True, index=True)

    return Objection


def up(migrator, db):
    objection = tables(db)
    db.create_tables([objection])
    migrator.migrate(migrator.add_column(
        "document", "objection_id", ForeignKeyField(objection, field=objection.id, null=True, on_delete="CASCADE")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("document", "objection_id"))
    db.drop_tables([tables(db)])
