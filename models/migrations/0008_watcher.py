"""The watcher (models/watcher.py): each staff account's supervisor (told of its
overdue requests), and `staff_alert`, one row per request a staff member was told
about (at risk or overdue) with the key of the SMS that told them; its unique index
is what makes "told once" hold with several watchers at once. (The watcher's look at
one officer's requests at risk reads 0007's index of each holder's undecided
requests by deadline.) Frozen copies of the models, independent of models/*.py."""
from peewee import CharField, DateTimeField, ForeignKeyField, Model


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


def down(migrator, db):
    _, new_tables = tables(db)
    db.drop_tables(new_tables)
    migrator.migrate(migrator.drop_column("user", "supervisor_id"))
