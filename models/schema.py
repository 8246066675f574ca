"""The schema's history: numbered scripts in models/migrations/, applied in order by
peewee's own runner (playhouse.migrations) and recorded in `schema_migration`."""
import os

from playhouse.migrations import Runner

from models.base import db, is_sqlite, write_transaction
from models.catalogue import sync_catalogues
from models.workflow import ServiceRequest

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
HISTORY_TABLE = "schema_migration"
UPGRADE_LOCK = 7311  # a PostgreSQL advisory lock: two servers starting at once upgrade one after the other


def runner():
    return Runner(db.obj, MIGRATIONS, table_name=HISTORY_TABLE)


def upgrade():
    """Apply the pending migrations, then write the shipped catalogues (requests that
    show a text they change get a new version) and move open deadlines to the current
    holiday calendar. Safe to run at every start."""
    if not is_sqlite():
        db.execute_sql("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
    try:
        applied = runner().up()
        with write_transaction():  # new texts and the versions of the pages that show them, together
            ServiceRequest.catalogue_changed(*sync_catalogues())
        ServiceRequest.reschedule_open()
    finally:
        if not is_sqlite():
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
    return applied


def status():
    """[(name, applied datetime or None)] for every migration, in order."""
    return [(m.name, m.applied) for m in runner().status()]
