"""Fresh test databases without running every migration for every test.

Each test process migrates once per engine, then gives each test a database in the
state the migrations leave:
- SQLite: a new file starts as a copy of a migrated template file;
- PostgreSQL: the schema's tables are emptied and refilled with the rows the
  migrations wrote (kept once, with COPY), and every sequence is set back to where
  the migrations left it (as TRUNCATE ... RESTART IDENTITY would, only faster).
The result is the same, row for row and sequence for sequence, except the moment
the migrations' history records (the template's, a few seconds earlier): upgrade()
would find nothing to do on it (no pending migration, the catalogues written, no
open request to reschedule). tests/test_migrations.py builds its own databases and
runs the migrations from scratch."""
import atexit
import io
import os
import shutil
import tempfile

from models import MODELS, db, upgrade, write_transaction
from models.schema import HISTORY_TABLE

SQLITE = "sqlite:///"
_sqlite_template = {}  # "path" -> a migrated SQLite file of this process
_postgres_snapshots = {}  # database URL -> PostgresSnapshot


def sqlite_path(url):
    """The file of a plain sqlite:/// URL, else None."""
    if not url.startswith(SQLITE) or "?" in url:
        return None
    return url[len(SQLITE):]


def copy_sqlite_template(url, make_template):
    """A SQLite database that does not exist yet starts as a copy of the migrated
    template (made once per process by `make_template(url)`). An existing file is
    left as it is (False): upgrade() brings it up to date, as at a server's start."""
    path = sqlite_path(url)
    if path is None or os.path.exists(path) or not os.path.isdir(os.path.dirname(path) or "."):
        return False
    if "path" not in _sqlite_template:
        folder = tempfile.mkdtemp(prefix="tawasul-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = os.path.join(folder, "template.sqlite")
        make_template(SQLITE + template)
        _sqlite_template["path"] = template
    shutil.copyfile(_sqlite_template["path"], path)
    return True


def migrate_sqlite_template():
    """Inside the template's app context: migrate it, and fold the WAL into the file."""
    upgrade()
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def fresh_postgres(url):
    """Inside an app context on `url`: its schema as the migrations leave it."""
    snapshot = _postgres_snapshots.get(url)
    if snapshot is not None and snapshot.tables == tables():
        snapshot.restore()
        return
    db.drop_tables(MODELS, safe=True, cascade=True)
    db.execute_sql(f"DROP TABLE IF EXISTS {HISTORY_TABLE}")
    upgrade()
    _postgres_snapshots[url] = PostgresSnapshot.take()


def tables():
    cursor = db.execute_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    return [name for (name,) in cursor.fetchall()]


def parents_first(names):
    """The tables in an order where every table comes after those its foreign keys name."""
    references = db.execute_sql(
        "SELECT child.relname, parent.relname FROM pg_constraint c "
        "JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid "
        "WHERE c.contype = 'f' AND child.relnamespace = current_schema()::regnamespace").fetchall()
    ordered, left = [], list(names)
    while left:
        ready = [name for name in left
                 if all(parent in ordered or parent == name for child, parent in references if child == name)]
        if not ready:
            raise RuntimeError(f"a cycle of foreign keys among {left}")
        ordered += ready
        left = [name for name in left if name not in ready]
    return ordered


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


class PostgresSnapshot:
    """The rows of every table of the current schema (COPY's text form) and where
    every sequence stood, taken right after the migrations ran."""

    def __init__(self, tables, rows, sequences, superuser):
        self.tables, self.rows, self.sequences, self.superuser = tables, rows, sequences, superuser

    @classmethod
    def take(cls):
        names = tables()
        rows = {}  # parents first: the foreign keys are checked as the rows go back in
        with db.connection().cursor() as cursor:
            for name in parents_first(names):
                out = io.StringIO()
                cursor.copy_expert(f"COPY {quoted(name)} TO STDOUT", out)
                if out.getvalue():
                    rows[name] = out.getvalue()
        sequences = db.execute_sql("SELECT sequencename, last_value FROM pg_sequences "
                                   "WHERE schemaname = current_schema() AND last_value IS NOT NULL").fetchall()
        superuser = db.execute_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        return cls(names, rows, sequences, superuser)

    def restore(self):
        """Empty every table, refill the migrations' rows, and set every sequence back
        where the migrations left it: one transaction."""
        with write_transaction(), db.connection().cursor() as cursor:
            self.empty(cursor)
            for name, text in self.rows.items():
                cursor.copy_expert(f"COPY {quoted(name)} FROM STDIN", io.StringIO(text))
            for name, last_value in self.sequences:
                cursor.execute("SELECT setval(%s, %s, true)", (quoted(name), last_value))

    def empty(self, cursor):
        """DELETE, with the triggers asleep for this transaction (the append-only trails
        refuse DELETE; the foreign keys' own triggers need not look: every table empties),
        takes a few milliseconds; TRUNCATE, for a role that may not do that, ten times more."""
        if not self.superuser:
            cursor.execute(f"TRUNCATE {', '.join(quoted(name) for name in self.tables)} RESTART IDENTITY")
            return
        cursor.execute("SET LOCAL session_replication_role = replica")
        for name in self.tables:
            cursor.execute(f"DELETE FROM {quoted(name)}")
        cursor.execute("SELECT setval(c.oid, s.seqstart, false) FROM pg_sequence s "
                       "JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = current_schema()::regnamespace")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
