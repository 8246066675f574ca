"""The watcher (models/watcher.py): each staff account's supervisor (told of its
overdue requests), and `staff_alert`, one row per request a staff member was told
about (at risk or overdue) with the key of the SMS that told them; its unique index
is what makes "told once" hold with several watchers at once; and an index of each
holder's undecided requests by deadline, so the watcher's look at one officer's
requests at risk reads those, not every request the officer ever decided. Frozen
copies of the models, independent of models/*.py."""
from peewee import CharField, DateTimeField, ForeignKeyField, Model

INDEX = "servicerequest_open_by_assignee"


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

    class StaffAlert(Base):
        request = ForeignKeyField(ServiceRequest, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        kind = CharField(max_length=10)
        at = DateTimeField()
        notice_key = CharField(max_length=80)

        class Meta:
            table_name = "staff_alert"
            indexes = ((("request", "user", "kind"), True),)

    return User, [StaffAlert]


def up(migrator, db):
    user, new_tables = tables(db)
    migrator.migrate(migrator.add_column("user", "supervisor_id",
                                         ForeignKeyField(user, null=True, on_delete="SET NULL", field=user.id)))
    db.create_tables(new_tables)
    db.execute_sql(f'CREATE INDEX "{INDEX}" ON "servicerequest" ("assignee_id", "due_on", "id") '
                   'WHERE ("decided_at" IS NULL)')
    if "sqlite_stat1" in db.get_tables():  # SQLite plans with ANALYZE's statistics (see 0005)
        db.execute_sql('ANALYZE "servicerequest"')


def down(migrator, db):
    _, new_tables = tables(db)
    db.execute_sql(f'DROP INDEX "{INDEX}"')
    db.drop_tables(new_tables)
    migrator.migrate(migrator.drop_column("user", "supervisor_id"))
