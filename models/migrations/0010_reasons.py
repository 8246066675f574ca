"""Ready-made reasons kept by supervisors: a reason can be retired (no longer offered,
still shown on the decisions that used it) and can replace the one it rewords; and
`reason_change`, the append-only record of every change a supervisor made to them
(the database refuses UPDATE and DELETE on it, as on the audit trail). Frozen copies
of the models, independent of models/*.py."""
from peewee import CharField, DateTimeField, ForeignKeyField, Model, SqliteDatabase, TextField

TRIGGERS = {
    "sqlite": ["CREATE TRIGGER IF NOT EXISTS reason_change_no_{op} BEFORE {OP} ON reason_change "
               "BEGIN SELECT RAISE(ABORT, 'the record of reason changes is append-only'); END"],
    "postgres": ["CREATE OR REPLACE FUNCTION reason_change_append_only() RETURNS trigger AS $$ BEGIN "
                 "RAISE EXCEPTION 'the record of reason changes is append-only'; END $$ LANGUAGE plpgsql",
                 "DROP TRIGGER IF EXISTS reason_change_no_{op} ON reason_change",
                 "CREATE TRIGGER reason_change_no_{op} BEFORE {OP} ON reason_change "
                 "FOR EACH ROW EXECUTE FUNCTION reason_change_append_only()"],
}


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        class Meta:
            table_name = "user"

    class Reason(Base):
        class Meta:
            table_name = "reason"

    class ReasonChange(Base):
        reason = ForeignKeyField(Reason, backref="+", on_delete="RESTRICT")
        previous = ForeignKeyField(Reason, null=True, backref="+", on_delete="RESTRICT")
        actor = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        at = DateTimeField(index=True)
        action = CharField(max_length=10)
        old_text_ar = TextField(null=True)
        old_text_en = TextField(null=True)
        new_text_ar = TextField(null=True)
        new_text_en = TextField(null=True)

        class Meta:
            table_name = "reason_change"

    return Reason, ReasonChange


def up(migrator, db):
    reason, change = tables(db)
    migrator.migrate(
        migrator.add_column("reason", "retired_at", DateTimeField(null=True)),
        migrator.add_column("reason", "replaces_id",
                            ForeignKeyField(reason, field=reason.id, null=True, on_delete="RESTRICT")),
    )
    db.create_tables([change])
    dialect = "sqlite" if isinstance(db, SqliteDatabase) else "postgres"
    for op in ("update", "delete"):
        for statement in TRIGGERS[dialect]:
            db.execute_sql(statement.format(op=op, OP=op.upper()))


def down(migrator, db):
    reason, change = tables(db)
    db.drop_tables([change])  # its triggers go with it
    if not isinstance(db, SqliteDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS reason_change_append_only()")
    migrator.migrate(migrator.drop_index("reason", "reason_replaces_id"), migrator.drop_column("reason", "replaces_id"),
                     migrator.drop_column("reason", "retired_at"))
