"""Every request has an officer: who is away until when and who was given work last
(user), which services a supervisor narrowed an officer to (officer_service: no rows,
every service), the reason and the officer of an assignment in the audit trail, an
append-only trail of the team changes that concern no request (staff_change, refused
UPDATE and DELETE by triggers, as the audit trail is), and the index that counts an
officer's undecided requests (its range, not the table). Frozen copies of the
models, independent of models/*.py."""
from peewee import CharField, DateField, DateTimeField, ForeignKeyField, Model, SqliteDatabase, TextField

OPEN_BY_ASSIGNEE = "servicerequest_open_by_assignee"
TRIGGERS = {
    "sqlite": ["CREATE TRIGGER staff_change_no_{op} BEFORE {OP} ON staff_change "
               "BEGIN SELECT RAISE(ABORT, 'the staff changes trail is append-only'); END"],
    "postgres": ["CREATE TRIGGER staff_change_no_{op} BEFORE {OP} ON staff_change "
                 "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"],  # 0001's: "append-only"
}


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        class Meta:
            table_name = "user"

    class Service(Base):
        class Meta:
            table_name = "service"

    class OfficerService(Base):
        officer = ForeignKeyField(User, on_delete="CASCADE")
        service = ForeignKeyField(Service, on_delete="CASCADE")

        class Meta:
            table_name = "officer_service"
            indexes = ((("officer", "service"), True),)

    class StaffChange(Base):
        actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        officer = ForeignKeyField(User, on_delete="RESTRICT")
        at = DateTimeField()
        action = CharField(max_length=20)
        note = TextField(null=True)

        class Meta:
            table_name = "staff_change"

    return User, [OfficerService, StaffChange]


def up(migrator, db):
    user, new_tables = tables(db)
    migrator.migrate(
        migrator.add_column("user", "away_until", DateField(null=True)),
        migrator.add_column("user", "last_assigned_at", DateTimeField(null=True)),
        migrator.add_column("audit", "note", TextField(null=True)),
        migrator.add_column("audit", "assignee_id", ForeignKeyField(user, field=user.id, null=True,
                                                                    on_delete="SET NULL")),
    )
    db.execute_sql(f'CREATE INDEX "{OPEN_BY_ASSIGNEE}" ON "servicerequest" ("assignee_id", "due_on", "id") '
                   'WHERE ("decided_at" IS NULL)')
    db.create_tables(new_tables)
    dialect = "sqlite" if isinstance(db, SqliteDatabase) else "postgres"
    for op in ("update", "delete"):
        for statement in TRIGGERS[dialect]:
            db.execute_sql(statement.format(op=op, OP=op.upper()))
    if "sqlite_stat1" in db.get_tables():  # as 0005: the planner must know the new index
        db.execute_sql('ANALYZE "servicerequest"')


def down(migrator, db):
    _, new_tables = tables(db)
    db.drop_tables(new_tables)  # their triggers go with them
    db.execute_sql(f'DROP INDEX "{OPEN_BY_ASSIGNEE}"')
    migrator.migrate(
        migrator.drop_column("audit", "assignee_id"),
        migrator.drop_column("audit", "note"),
        migrator.drop_column("user", "last_assigned_at"),
        migrator.drop_column("user", "away_until"),
    )
