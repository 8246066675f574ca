"""`flask db backup FILE` and `flask db restore FILE`: the whole database in one file.

Everything a deployment keeps is in its database: requests, their timelines, the
documents' bytes (StoredFile rows, never files on disk), sign-in sessions (unless
SESSION_REDIS_URL puts them in Redis), the SMS outbox and the migrations' history
(schema_migration), so one file holds it all and a backup made by an older release
restores, then `flask db upgrade` brings it up to date.

- SQLite: the online backup API (sqlite3.Connection.backup) copies the database in
  one step under one read transaction: a consistent snapshot while the servers keep
  writing (WAL readers do not block writers). Restoring copies the file back the
  same way, in one write transaction.
- PostgreSQL: `pg_dump -Fc` of the schema the app uses; restoring replays it with
  pg_restore into psql as one transaction that first empties that schema, so a
  failed restore leaves the database as it was. The connection goes to the client
  tools through libpq's PG* environment variables: the password is never on a
  command line nor printed.

A restore refuses to replace a database that holds requests unless forced: a
new server (empty, or only migrated) is the usual target.
"""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from models.base import db, is_sqlite

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
REQUESTS_TABLE = "servicerequest"
DOCUMENTS_TABLE = "document"
HISTORY_TABLE = "schema_migration"
# The connection settings libpq reads from PG* variables (PGHOST, PGSSLMODE ...), as peewee
# parsed them from DATABASE_URL.
LIBPQ_SETTINGS = {"host", "port", "user", "password", "options", "sslmode", "sslrootcert", "sslcert", "sslkey",
                  "connect_timeout", "application_name", "target_session_attrs", "passfile", "service"}


class BackupError(Exception):
    """What went wrong, said for the operator (the command prints it, exits 1)."""


class Outcome:
    """What a backup or restore did: for the line the command prints."""

    def __init__(self, engine, path, seconds, requests, documents):
        self.engine, self.path, self.seconds = engine, path, seconds
        self.requests, self.documents = requests, documents
        self.size = os.path.getsize(path)


def backup(path):
    """Write the database into `path` (replaced whole, only once complete; readable by its owner only)."""
    path = os.path.abspath(path)
    if not os.path.isdir(os.path.dirname(path)):
        raise BackupError(f"No such folder: {os.path.dirname(path)}")
    partial = path + ".partial"
    started = time.perf_counter()
    try:
        if is_sqlite():
            engine = "SQLite"
            with sqlite3.connect(partial) as target:
                db.connection().backup(target)
            target.close()
        else:
            engine = "PostgreSQL"
            run_client(["pg_dump", "--format=custom", "--no-owner", "--no-acl",
                        f"--schema={target_schema()}", f"--file={partial}"])
        os.chmod(partial, 0o600)  # identity numbers and documents: for the operator's eyes only
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return Outcome(engine, path, time.perf_counter() - started, *counts())


def restore(path, force=False):
    """Replace the database with the backup at `path`; refused over requests unless `force`."""
    kind = backup_kind(path)
    if kind == "sqlite" and not is_sqlite():
        raise BackupError(f"{path} is a SQLite backup; DATABASE_URL names a PostgreSQL database.")
    if kind == "postgres" and is_sqlite():
        raise BackupError(f"{path} is a PostgreSQL backup (pg_dump); DATABASE_URL names a SQLite database.")
    requests = counts()[0]
    if requests and not force:
        raise BackupError(f"The database already holds {requests} request(s): restoring would replace them. "
                          "Restore onto a new, empty database, or add --force to replace it.")
    started = time.perf_counter()
    if kind == "sqlite":
        restore_sqlite(path)
    else:
        restore_postgres(path)
    outcome = Outcome("SQLite" if kind == "sqlite" else "PostgreSQL", path, time.perf_counter() - started,
                      *counts())
    return outcome


def backup_kind(path):
    """"sqlite" or "postgres", from the file's first bytes; a clear error for anything else."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup file.") from None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgres"
    raise BackupError(f"{path} is not a Tawasul backup (neither a SQLite database nor a pg_dump -Fc file).")


def counts():
    """(requests, documents) in the database; zeros where the tables do not exist yet."""
    tables = set(db.get_tables())
    return tuple(db.execute_sql(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] if name in tables else 0
                 for name in (REQUESTS_TABLE, DOCUMENTS_TABLE))


# SQLite

def restore_sqlite(path):
    with sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True) as source:
        try:
            check = source.execute("PRAGMA quick_check").fetchone()[0]
            tables = {name for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is damaged: {error}") from None
        if check != "ok":
            raise BackupError(f"{path} is damaged: {check}")
        if HISTORY_TABLE not in tables:
            raise BackupError(f"{path} is a SQLite database but not Tawasul's (no {HISTORY_TABLE} table).")
        source.backup(db.connection())
    source.close()


# PostgreSQL

def target_schema():
    """The schema the app's tables live in: current_schema(), or, on a new database
    where search_path names a schema that does not exist yet, that name."""
    schema = db.execute_sql("SELECT current_schema()").fetchone()[0]
    if schema:
        return schema
    path = db.execute_sql("SHOW search_path").fetchone()[0]
    names = [name.strip().strip('"') for name in path.split(",") if name.strip() != '"$user"']
    return names[0] if names else "public"


def restore_postgres(path):
    schema = target_schema()
    entries = run_client(["pg_restore", "--list", path], what=f"{path} could not be read").splitlines()
    tables = dumped_tables(entries)
    dumped = {table_schema for table_schema, _name in tables}
    if dumped != {schema}:
        raise BackupError(f"{path} holds the schema {', '.join(sorted(dumped)) or '(none)'}; "
                          f"DATABASE_URL uses the schema {schema}.")
    if (schema, HISTORY_TABLE) not in tables:
        raise BackupError(f"{path} is a pg_dump but not of Tawasul (no {HISTORY_TABLE} table).")
    # The schema itself is made here, if missing, rather than by the dump (whose CREATE SCHEMA fails where it exists).
    kept = [entry for entry in entries if " SCHEMA - " not in entry and "COMMENT - SCHEMA" not in entry]
    with tempfile.TemporaryDirectory(prefix="tawasul-restore-") as folder:
        listing, prelude = os.path.join(folder, "list"), os.path.join(folder, "prelude.sql")
        with open(listing, "w") as file:
            file.write("\n".join(kept) + "\n")
        with open(prelude, "w") as file:
            file.write(emptying_sql(schema))
        # The whole script first, then psql: a dump cut short would otherwise end psql's input early, and
        # psql commits what it got. The SQL is the dump uncompressed (documents included), in the temporary folder.
        script = os.path.join(folder, "restore.sql")
        run_client(["pg_restore", "--no-owner", "--no-acl", f"--use-list={listing}", f"--file={script}", path],
                   what=f"{path} could not be read")
        db.close()  # the app's own connections must not hold locks on the tables dropped
        db.obj.close_all()
        run_client(["psql", "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                    f"--file={prelude}", f"--file={script}"], what="The restore failed (nothing was changed)")


def dumped_tables(entries):
    """{(schema, table)} from pg_restore --list's lines ("215; 1259 16388 TABLE public t owner")."""
    tables = set()
    for entry in entries:
        parts = entry.split()
        if not entry.startswith(";") and len(parts) > 5 and parts[3] == "TABLE" and parts[4] != "DATA":
            tables.add((parts[4], parts[5]))
    return tables


# What a new or forced target's schema holds, dropped before the dump is replayed
# (tables first: their CASCADE takes triggers and owned sequences along).
DROPS = [
    ("pg_views", "VIEW", "viewname", "schemaname"),
    ("pg_tables", "TABLE", "tablename", "schemaname"),
    ("pg_sequences", "SEQUENCE", "sequencename", "schemaname"),
]


def emptying_sql(schema):
    """SQL that creates `schema` if missing and drops every view, table, sequence and
    function in it (a migrated new database has the tables already)."""
    quoted = '"' + schema.replace('"', '""') + '"'
    literal = "'" + schema.replace("'", "''") + "'"
    loops = [f"FOR statement IN SELECT format('DROP {kind} IF EXISTS %I.%I CASCADE', {where}, {name}) "
             f"FROM {catalog} WHERE {where} = {literal} LOOP EXECUTE statement; END LOOP;"
             for catalog, kind, name, where in DROPS]
    loops.append("FOR statement IN SELECT format('DROP FUNCTION IF EXISTS %s CASCADE', p.oid::regprocedure) "
                 f"FROM pg_proc p WHERE p.pronamespace = {literal}::regnamespace LOOP EXECUTE statement; END LOOP;")
    return (f"SET client_min_messages = warning;\nCREATE SCHEMA IF NOT EXISTS {quoted};\n"
            "DO $$ DECLARE statement text; BEGIN\n" + "\n".join(loops) + "\nEND $$;\n")


def client_env():
    """The environment for pg_dump, pg_restore and psql: the app's connection as PG* variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["PGDATABASE"] = db.obj.database
    for key, value in db.obj.connect_params.items():
        if key in LIBPQ_SETTINGS and value is not None:
            env["PG" + key.upper()] = str(value)
    return env


def run_client(command, stdin=None, what=None):
    """Run a PostgreSQL client tool; its output, or a BackupError with what it said."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install Debian's postgresql-client "
                          "(its major version must be the server's).")
    done = subprocess.run(command, stdin=stdin, capture_output=True, env=client_env())
    if done.returncode:
        said = done.stderr.decode(errors="replace").strip()
        raise BackupError(f"{what or command[0] + ' failed'}: {said}")
    return done.stdout.decode(errors="replace")
