"""The database handle every model shares, and what the models have in common."""
import hashlib
import re
import sqlite3
import threading
import time
import urllib.parse
import weakref

from peewee import BlobField, CharField, ColumnBase, DatabaseProxy, IntegerField, Model, SqliteDatabase, chunked
from playhouse.db_url import register_database
from playhouse.pool import PooledPostgresqlDatabase

db = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = db

    @classmethod
    def upsert(cls, rows, key):
        """Insert rows (dicts), or update the row that has the same `key` fields."""
        rows = list(rows)
        if not rows:
            return
        fields = [cls._meta.fields[name] for name in rows[0] if name not in key]
        target = [cls._meta.fields[name] for name in key]
        for batch in chunked(rows, 200):
            cls.insert_many(batch).on_conflict(conflict_target=target, preserve=fields).execute()


class StoredFile(BaseModel):
    """A document's bytes and what is known of them (checked by content, not name)."""
    name = CharField(max_length=200)
    content_type = CharField(max_length=40)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    data = BlobField()

    @staticmethod
    def values(name, content_type, data):
        return dict(name=name, content_type=content_type, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), data=data)


def write_transaction():
    """The transaction of every change: on SQLite it takes the write lock at once
    (BEGIN IMMEDIATE), so two writers queue on the busy timeout instead of one
    failing with "database is locked" (a deferred transaction that read first cannot
    wait: its snapshot is stale once the other commits). Inside another transaction
    it is a savepoint of that one, which holds the lock already when it was opened
    here too; tests/test_transactions.py keeps app code from opening any other kind."""
    if isinstance(db.obj, SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def lock_for_transaction(*key):
    """Inside write_transaction(): writers that name the same key go one after the
    other until the transaction ends. SQLite's write lock already does that for
    every writer; PostgreSQL takes an advisory lock on the key's hash."""
    if not is_sqlite():
        db.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", ("\x1f".join(key),))


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)


# A real table: a database that lost its tables (or a SQLite file made anew) is not ready.
READY_QUESTION = 'SELECT 1 FROM "user" LIMIT 1'


def check_database(timeout):
    """Ask the database a real question on a connection of its own (not the pool's,
    which may wait for a free one), within `timeout` seconds: raises when it cannot
    answer in time (the readiness check, web/readiness.py)."""
    if is_sqlite():
        # mode=rw: a missing file is an error, never created empty; timeout: the busy timeout
        path = urllib.parse.quote(db.obj.database)
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout)
        try:
            connection.execute(READY_QUESTION).fetchall()
        finally:
            connection.close()
        return
    import psycopg2
    params = dict(db.obj.connect_params, dbname=db.obj.database, connect_timeout=max(1, round(timeout)))
    connection = psycopg2.connect(**params)
    try:
        with connection.cursor() as cursor:  # inside the transaction psycopg2 begins: SET LOCAL
            cursor.execute("SET LOCAL statement_timeout = %s", (int(timeout * 1000),))
            cursor.execute(READY_QUESTION)
    finally:
        connection.close()


class Slot:
    """Where a value goes in a prepared query (see `Prepared`)."""

    def __init__(self, name):
        self.name = name


class SlotNode(ColumnBase):
    def __init__(self, name):
        super().__init__()
        self.slot = Slot(name)

    def __sql__(self, ctx):
        return ctx.value(self.slot, converter=False)


def slot(name):
    """A placeholder for a value given when a `Prepared` query runs; the value is
    sent as given (an id, not a model)."""
    return SlotNode(name)


class Prepared:
    """A SELECT whose SQL peewee builds once per engine, then runs with new values.
    For the small fixed-shape queries every page makes, building the SQL cost more
    than running it (about a quarter of the request page's time). `build` returns
    the query, with `slot(name)` where each value goes; calling gives its rows, as
    the query would (models with their joined models)."""

    def __init__(self, build):
        self.build = build
        self.built = {}
        self.layouts = {}  # engine -> how peewee maps this query's columns to models

    def __call__(self, **values):
        engine = type(db.obj)
        if engine not in self.built:
            query = self.build()
            self.built[engine] = (query, *query.sql())
        query, sql, params = self.built[engine]
        cursor = execute_planned(sql, [values[p.name] if isinstance(p, Slot) else p for p in params])
        reader = query._get_cursor_wrapper(cursor)  # peewee's own row-to-model reader ...
        layout = self.layouts.get(engine)
        if layout is not None:  # ... told the columns it worked out for the first rows
            vars(reader).update(layout)
            reader.initialized = True
        rows = list(reader)
        if layout is None and reader.initialized:
            self.layouts[engine] = {name: value for name, value in vars(reader).items() if name not in READ_STATE}
        return rows

    def first(self, **values):
        rows = self(**values)
        return rows[0] if rows else None


# A peewee CursorWrapper's own state, per cursor; the rest of its vars is the layout
# Prepared hands on. Checked against peewee 4.5.3, the release requirements.txt pins:
# tests/test_prepared.py fails, saying what to re-check, when another runs or these move.
READ_STATE = {"cursor", "count", "index", "initialized", "populated", "row_cache"}
_planned_on = weakref.WeakKeyDictionary()  # a PostgreSQL connection -> the statements prepared on it
_planned_lock = threading.Lock()


def execute_planned(sql, params):
    """Run SQL that runs again and again (with `db.param` placeholders). PostgreSQL
    plans it once per connection (PREPARE, then EXECUTE): planning the poll's
    three-table join took 0.35 ms, four times what running it takes. SQLite's
    driver keeps its own cache of prepared statements."""
    if is_sqlite():
        return db.execute_sql(sql, params)
    name = "tawasul_" + hashlib.sha1(sql.encode()).hexdigest()[:16]
    connection = db.connection()
    with _planned_lock:
        planned = _planned_on.setdefault(connection, set())
    if name not in planned:  # not transactional: a rollback keeps it
        db.execute_sql(f"PREPARE {name} AS {numbered_placeholders(sql)}")
        planned.add(name)
    return db.execute_sql(f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}",
                          params)


def numbered_placeholders(sql):
    """psycopg2's %s placeholders as PostgreSQL's own $1, $2 ... (peewee writes no
    other % into the SQL it builds)."""
    if "%%" in sql:
        raise ValueError("a literal % in prepared SQL")
    count = iter(range(1, sql.count("%s") + 1))
    return re.sub("%s", lambda _: f"${next(count)}", sql)


class PooledPostgres(PooledPostgresqlDatabase):
    """The app's pool of PostgreSQL connections. peewee's asks the server whether a
    connection is alive ("SELECT 1") each time it hands one out: one of the
    unchanged poll's two round trips. This one asks only of a connection that sat idle
    longer than `ASK_AFTER` seconds; one given back a moment ago, in a clean state,
    is handed out as it is (under load every connection is)."""
    ASK_AFTER = 1.0

    def __init__(self, *args, **kwargs):
        self._given_back_at = {}  # connection key -> time.monotonic() of its return
        super().__init__(*args, **kwargs)

    def _close(self, conn, close_conn=False):
        with self._pool_lock:  # the pool's own (reentrant): no checkout in between
            super()._close(conn, close_conn)
            if close_conn or conn.closed:
                self._given_back_at.pop(self.conn_key(conn), None)
            else:
                self._given_back_at[self.conn_key(conn)] = time.monotonic()

    def _is_closed(self, conn):
        given_back_at = self._given_back_at.pop(self.conn_key(conn), None)
        if (given_back_at is not None and time.monotonic() - given_back_at < self.ASK_AFTER
                and not conn.closed and self._adapter.txn_status(conn) == self._adapter.txn_idle):
            return False
        return super()._is_closed(conn)


register_database(PooledPostgres, "postgres+pool", "postgresql+pool")
