"""The schema as main 822baa7 left it: every table, the partial index of the review
queue and the triggers that keep the audit trail append-only. Frozen copies of the
models, independent of models/*.py. Safe on a database that 822baa7 created with
`init-db` (it has the tables but no migration history): nothing is created twice."""
from peewee import (
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

AUDIT_TRIGGERS = {
    "sqlite": ["CREATE TRIGGER IF NOT EXISTS audit_no_{op} BEFORE {OP} ON audit "
               "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"],
    "postgres": ["CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN "
                 "RAISE EXCEPTION 'the audit trail is append-only'; END $$ LANGUAGE plpgsql",
                 "DROP TRIGGER IF EXISTS audit_no_{op} ON audit",
                 "CREATE TRIGGER audit_no_{op} BEFORE {OP} ON audit "
                 "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"],
}


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        username = CharField(unique=True, max_length=40)
        password_hash = CharField()
        full_name = CharField(max_length=120)
        id_number = CharField(unique=True, null=True, max_length=10)
        role = CharField(max_length=20, default="resident")
        locale = CharField(null=True, max_length=5)
        failed_logins = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        disabled = BooleanField(default=False)
        created_at = DateTimeField()

    class Person(Base):
        sponsor_id_number = CharField(index=True, max_length=10)
        id_number = CharField(index=True, max_length=10)
        name = CharField(max_length=120)
        nationality = CharField(max_length=2)

        class Meta:
            indexes = ((("sponsor_id_number", "id_number"), True),)

    class Service(Base):
        code = CharField(unique=True, max_length=30)
        position = IntegerField(default=0)
        name_ar = CharField(max_length=200)
        name_en = CharField(max_length=200)
        documents_ar = TextField(default="")
        documents_en = TextField(default="")
        id_types = CharField(max_length=60, default="")
        nationalities = CharField(max_length=60, default="")

    class Holiday(Base):
        day = DateField(unique=True)
        name = CharField(max_length=120)

    class Reason(Base):
        code = CharField(unique=True, max_length=40)
        kind = CharField(max_length=10)
        service = ForeignKeyField(Service, null=True, on_delete="CASCADE")
        text_ar = TextField()
        text_en = TextField()

    class ServiceRequest(Base):
        number = CharField(unique=True, max_length=9)
        owner = ForeignKeyField(User, on_delete="CASCADE")
        person = ForeignKeyField(Person, on_delete="RESTRICT")
        service = ForeignKeyField(Service, on_delete="RESTRICT")
        description = TextField()
        status = CharField(index=True, max_length=20, default="received")
        assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")
        reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")
        reason = TextField(null=True)
        submitted_at = DateTimeField(index=True)
        submitted_on = DateField(index=True)
        due_on = DateField()
        paused_at = DateTimeField(null=True)
        waiting_days = IntegerField(default=0)
        decided_at = DateTimeField(null=True)
        decided_on = DateField(index=True, null=True)
        hours_to_decision = FloatField(null=True)
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        draft_token = CharField(unique=True, max_length=64)

    class Event(Base):
        request = ForeignKeyField(ServiceRequest, on_delete="CASCADE")
        at = DateTimeField()
        kind = CharField(max_length=20)
        status = CharField(null=True, max_length=20)
        message = TextField(null=True)
        reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        internal = BooleanField(default=False)

    class Audit(Base):
        request = ForeignKeyField(ServiceRequest, on_delete="RESTRICT")
        actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        at = DateTimeField()
        action = CharField(max_length=20)
        from_status = CharField(max_length=20)
        to_status = CharField(max_length=20)
        ip = CharField(null=True, max_length=45)

    class Document(Base):
        request = ForeignKeyField(ServiceRequest, on_delete="CASCADE")
        name = CharField(max_length=200)
        content_type = CharField(max_length=40)
        size = IntegerField()
        sha256 = CharField(max_length=64)
        data = BlobField()
        added_at = DateTimeField()

    class Draft(Base):
        token = CharField(unique=True, max_length=64)
        owner = ForeignKeyField(User, on_delete="CASCADE")
        service = ForeignKeyField(Service, null=True, on_delete="SET NULL")
        person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
        description = TextField(default="")
        updated_at = DateTimeField(index=True)

    class DraftFile(Base):
        draft = ForeignKeyField(Draft, on_delete="CASCADE")
        name = CharField(max_length=200)
        content_type = CharField(max_length=40)
        size = IntegerField()
        sha256 = CharField(max_length=64)
        data = BlobField()

    ServiceRequest.add_index(ServiceRequest.due_on, ServiceRequest.id,
                             where=ServiceRequest.decided_at.is_null(), name="servicerequest_open_queue")
    return [User, Person, Service, Holiday, Reason, ServiceRequest, Event, Audit, Document, Draft, DraftFile]


def up(migrator, db):
    db.create_tables(tables(db), safe=True)
    dialect = "sqlite" if isinstance(db, SqliteDatabase) else "postgres"
    for op in ("update", "delete"):
        for statement in AUDIT_TRIGGERS[dialect]:
            db.execute_sql(statement.format(op=op, OP=op.upper()))


def down(migrator, db):
    db.drop_tables(tables(db), safe=True)
    if not isinstance(db, SqliteDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS audit_append_only()")
