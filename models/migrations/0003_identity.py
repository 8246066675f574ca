"""Identity that can be trusted: the registry's mobile numbers, sessions kept on the
server, sign-in failures counted per (username, client address), one-time codes,
staff second factors with recovery codes, the rate-limit counters every worker
shares, and the outbox of SMS notices. The account-wide lockout columns go: a lock
now belongs to the pair (sign_in_failure), so nobody can lock someone out from
elsewhere. Frozen copies of the models, independent of models/*.py."""
from peewee import (
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def tables(db):
    class Base(Model):
        class Meta:
            database = db

    class User(Base):
        class Meta:
            table_name = "user"

    class WebSession(Base):
        token_hash = CharField(max_length=64, unique=True)
        user = ForeignKeyField(User, null=True, on_delete="CASCADE", index=True)
        data = TextField()
        created_at = DateTimeField()
        seen_at = DateTimeField()

    class SignInFailure(Base):
        username = CharField(max_length=200)
        address = CharField(max_length=45)
        failures = IntegerField(default=0)
        locks = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        updated_at = DateTimeField()

        class Meta:
            table_name = "sign_in_failure"
            indexes = ((("username", "address"), True),)

    class OneTimeCode(Base):
        purpose = CharField(max_length=10)
        id_number = CharField(max_length=10)
        code_hash = CharField(max_length=64)
        holder = CharField(max_length=64)  # the session that asked for it: only its tries count
        expires_at = DateTimeField()
        tries = IntegerField(default=0)
        sent_at = DateTimeField()
        sends_this_hour = IntegerField(default=1)
        hour_started_at = DateTimeField()

        class Meta:
            table_name = "one_time_code"
            indexes = ((("purpose", "id_number"), True),)

    class RecoveryCode(Base):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        code_hash = CharField(max_length=64)
        used_at = DateTimeField(null=True)

        class Meta:
            table_name = "recovery_code"

    class LimitCounter(Base):
        key = CharField(max_length=255, unique=True)
        count = IntegerField(default=0)
        expires_at = DateTimeField()

        class Meta:
            table_name = "limit_counter"

    class Notice(Base):
        key = CharField(max_length=80, unique=True)
        to = CharField(max_length=16)
        text = TextField()
        kind = CharField(max_length=20)
        status = CharField(max_length=10, default="pending")
        attempts = IntegerField(default=0)
        next_try_at = DateTimeField()
        created_at = DateTimeField()
        delivered_at = DateTimeField(null=True)
        last_error = TextField(null=True)

        class Meta:
            indexes = ((("status", "next_try_at"), False),)

    return [WebSession, SignInFailure, OneTimeCode, RecoveryCode, LimitCounter, Notice]


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("person", "mobile", CharField(max_length=13, null=True)),
        migrator.add_column("user", "mobile", CharField(max_length=13, null=True)),
        migrator.add_column("user", "totp_secret", CharField(max_length=32, null=True)),
        migrator.add_column("user", "totp_last_step", IntegerField(null=True)),
        migrator.drop_column("user", "failed_logins"),
        migrator.drop_column("user", "locked_until"),
    )
    db.create_tables(tables(db))


def down(migrator, db):
    db.drop_tables(tables(db))
    migrator.migrate(
        migrator.add_column("user", "locked_until", DateTimeField(null=True)),
        migrator.add_column("user", "failed_logins", IntegerField(default=0)),
        migrator.drop_column("user", "totp_last_step"),
        migrator.drop_column("user", "totp_secret"),
        migrator.drop_column("user", "mobile"),
        migrator.drop_column("person", "mobile"),
    )
