"""`flask db backup` and `flask db restore`: what an operator moving to a new server
relies on. A database with requests, documents, timelines, a signed-in session and an
SMS in the outbox is backed up, restored into a new empty database (a new file on
SQLite, a scratch database on PostgreSQL), and compared table by table, row by row;
a SQLite backup taken while another connection keeps writing is whole; a backup
made before the last migration restores and upgrades; a restore never replaces
requests unless forced; a missing or garbage file gets a message, not a traceback."""
import hashlib
import itertools
import os
import sqlite3
import stat
import threading
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from app import create_app
from models import Document, Notice, ServiceRequest, User, WebSession, db, write_transaction
from models.schema import runner as migrations_runner
from tests.conftest import PG_URL, app_config
from tests.databases import sqlite_path
from tests.factories import make_amal, sign_in_client, submit_request

_scratch_numbers = itertools.count(1)


def is_sqlite_url(url):
    return url.startswith("sqlite")


@pytest.fixture
def scratch_url(app, tmp_path):
    """A URL for a new, empty database of the app's engine (nothing migrated). On
    PostgreSQL a database of its own, named for this process and test, with the
    same search_path as the app's (the backup names its schema); dropped afterwards."""
    urls = []

    def make(schema=True):
        if is_sqlite_url(app.config["DATABASE_URL"]):
            return f"sqlite:///{tmp_path / f'scratch-{next(_scratch_numbers)}.sqlite'}"
        name = f"tawasul_restore_{os.getpid()}_{next(_scratch_numbers)}"
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
        urls.append(name)
        url = urlunsplit(urlsplit(app.config["DATABASE_URL"])._replace(path="/" + name))
        if schema:  # as `public` is there in every new database
            admin(f"CREATE SCHEMA {app_schema(url)}", url=url)
        return url

    yield make
    if urls and not db.is_closed():
        db.close()
    for name in urls:
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def app_schema(url):
    """The schema named by the search_path of a test's PostgreSQL URL (conftest's pg_url)."""
    return parse_qs(urlsplit(url).query)["options"][0].removeprefix("-csearch_path=")


def admin(*statements, url=PG_URL):
    import psycopg2
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def cli(url):
    """A CLI runner of an app on `url`; the app's database becomes the models' database."""
    return create_app(app_config(url)).test_cli_runner()


def every_row(url):
    """{table: its rows, sorted} for every table of the database at `url`, read
    directly (not through the models)."""
    if is_sqlite_url(url):
        connection = sqlite3.connect(sqlite_path(url))
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    else:
        import psycopg2
        connection = psycopg2.connect(url)
        cursor = connection.cursor()
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        names = [name for (name,) in cursor.fetchall()]
    try:
        tables = {}
        for name in names:
            cursor = connection.cursor()
            cursor.execute(f'SELECT * FROM "{name}"')
            rows = [tuple(bytes(value) if isinstance(value, memoryview) else value for value in row)
                    for row in cursor.fetchall()]
            tables[name] = sorted(rows, key=repr)
        return tables
    finally:
        connection.close()


def fill(app, runner):
    """Requests with documents, a timeline, a signed-in session and an SMS waiting."""
    amal = make_amal([("Amal Saad", None, "SA")])
    first = submit_request(amal, files=2)
    submit_request(amal, files=1)
    assert runner.invoke(args=["requests", "set-status", first.number, "under_review"]).exit_code == 0
    assert sign_in_client(app.test_client()).status_code == 303
    with db.connection_context(), write_transaction():
        Notice.queue("backup-test", "+966551234567", "طلبك قيد المراجعة", kind="test")
    return first


def test_backup_restores_into_a_new_database_row_for_row(app, runner, scratch_url, tmp_path):
    source = app.config["DATABASE_URL"]
    first = fill(app, runner)
    before = every_row(source)
    for table in ("servicerequest", "document", "event", "websession", "notice", "schema_migration"):
        assert before[table], f"the test's data has no {table} row"
    backup_file = tmp_path / "tawasul.backup"

    result = runner.invoke(args=["db", "backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "2 requests, 3 documents" in result.output and "MB" in result.output
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600  # personal data: the operator's alone

    target = scratch_url(schema=False)  # on PostgreSQL the restore makes the schema too
    restoring = cli(target)
    result = restoring.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "2 requests, 3 documents" in result.output
    assert every_row(target) == before
    assert restoring.invoke(args=["db", "status"]).exit_code == 0  # no migration pending

    with db.connection_context():
        for document in Document.select().join(ServiceRequest).where(ServiceRequest.number == first.number):
            assert hashlib.sha256(bytes(document.data)).hexdigest() == document.sha256
        assert WebSession.select().count() == 1 and Notice.get(Notice.key == "backup-test").status == "pending"
    submit_request(User.get(User.username == "amal"), files=1)  # the sequences carried on, too
    with db.connection_context():
        assert ServiceRequest.select().count() == 3


def test_restore_refuses_to_replace_requests_without_force(app, runner, tmp_path):
    fill(app, runner)
    backup_file = tmp_path / "tawasul.backup"
    assert runner.invoke(args=["db", "backup", str(backup_file)]).exit_code == 0
    submit_request(User.get(User.username == "amal"), files=1)  # made after the backup

    result = runner.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 1
    assert "already holds 3 request(s)" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    with db.connection_context():
        assert ServiceRequest.select().count() == 3  # nothing replaced

    result = runner.invoke(args=["db", "restore", "--force", str(backup_file)])
    assert result.exit_code == 0, result.output
    with db.connection_context():
        assert ServiceRequest.select().count() == 2


def test_restore_onto_a_migrated_new_server(app, runner, scratch_url, tmp_path):
    """A new server often ran `flask db upgrade` before the restore: no requests, tables already there."""
    fill(app, runner)
    before = every_row(app.config["DATABASE_URL"])
    backup_file = tmp_path / "tawasul.backup"
    assert runner.invoke(args=["db", "backup", str(backup_file)]).exit_code == 0
    target = scratch_url()
    restoring = cli(target)
    assert restoring.invoke(args=["db", "upgrade"]).exit_code == 0
    result = restoring.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert every_row(target) == before


def test_a_backup_from_an_older_release_restores_then_upgrades(app, scratch_url, tmp_path):
    older = scratch_url()
    older_cli = cli(older)
    with db.connection_context():
        migrations_runner().up(target="0009_objections")  # the release before 0010_reasons
        User.insert(username="old-officer", full_name="Old Officer", role="officer", password_hash="x").execute()
    backup_file = tmp_path / "older.backup"
    assert older_cli.invoke(args=["db", "backup", str(backup_file)]).exit_code == 0

    restoring = cli(scratch_url())
    result = restoring.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "predates 1 migration(s)" in result.output
    assert restoring.invoke(args=["db", "status"]).exit_code == 1
    assert restoring.invoke(args=["db", "upgrade"]).exit_code == 0
    assert restoring.invoke(args=["db", "status"]).exit_code == 0
    with db.connection_context():
        assert User.get(User.username == "old-officer").role == "officer"


@pytest.mark.parametrize("content", [None, b"", b"not a backup at all\n" * 50, b"SQLite format 3\x00" + b"\x07" * 500,
                                     b"PGDMP" + b"\x01" * 500])
def test_a_missing_or_garbage_file_is_refused_clearly(app, runner, tmp_path, content):
    path = tmp_path / "suspect.backup"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(args=["db", "restore", "--force", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and str(path) in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_a_sqlite_backup_while_another_connection_writes_is_whole(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    live = cli(url)
    assert live.invoke(args=["db", "upgrade"]).exit_code == 0
    committed, stop = [], threading.Event()
    first_rows = threading.Event()

    def keep_writing():
        writer = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=10)
        writer.execute("PRAGMA journal_mode = wal")
        for number in itertools.count():
            if stop.is_set():
                break
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO notice (key, \"to\", text, kind, status, attempts, next_try_at, created_at) "
                           "VALUES (?, '+966551234567', 'x', 'test', 'pending', 0, '2026-01-01', '2026-01-01')",
                           (f"live-{number}",))
            writer.execute("COMMIT")
            committed.append(f"live-{number}")
            if number == 50:
                first_rows.set()
        writer.close()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        assert first_rows.wait(30), "the writer never wrote"
        committed_before = list(committed)
        result = live.invoke(args=["db", "backup", str(tmp_path / "live.backup")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output

    copy = sqlite3.connect(tmp_path / "live.backup")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    keys = [key for (key,) in copy.execute("SELECT key FROM notice ORDER BY id")]
    copy.close()
    assert keys[:len(committed_before)] == committed_before  # every row committed before the backup began ...
    assert keys == committed[:len(keys)]  # ... and no gap: the rows of one moment


def test_a_backup_cut_short_changes_nothing(app, runner, tmp_path):
    """A file truncated in transfer: refused, and the database replaced by force keeps every row."""
    fill(app, runner)
    before = every_row(app.config["DATABASE_URL"])
    backup_file = tmp_path / "tawasul.backup"
    assert runner.invoke(args=["db", "backup", str(backup_file)]).exit_code == 0
    whole = backup_file.read_bytes()
    cut = tmp_path / "cut.backup"
    cut.write_bytes(whole[:len(whole) * 3 // 4])

    result = runner.invoke(args=["db", "restore", "--force", str(cut)])
    assert result.exit_code == 1 and result.output.startswith("Error: ")
    assert "Traceback" not in result.output
    assert every_row(app.config["DATABASE_URL"]) == before
