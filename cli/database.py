"""flask db upgrade | status | backup | restore, and init-db (upgrade, with the demo data on request)."""
import click
from flask.cli import AppGroup, with_appcontext

from cli.backups import BackupError, backup, restore
from models import schema_status, upgrade

db = AppGroup("db", help="The database schema (migrations).")


@db.command("upgrade")
def db_upgrade():
    """Apply pending migrations and write the catalogues (safe at every start)."""
    applied = upgrade()
    click.echo(f"Applied {', '.join(applied)}." if applied else "The schema is up to date.")


@db.command("status")
def db_status():
    """List every migration and when it was applied; exit 1 when some are pending."""
    pending = 0
    for name, applied in schema_status():
        click.echo(f"[{'x' if applied else ' '}] {name}" + (f"  {applied:%Y-%m-%d %H:%M}" if applied else ""))
        pending += applied is None
    if pending:
        click.echo(f"{pending} migration(s) pending: run `flask --app app db upgrade`.")
        raise SystemExit(1)


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
def db_backup(file):
    """Copy the whole database (documents, sessions and outbox included) into FILE, safely while serving."""
    try:
        done = backup(file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the {done.engine} database ({described(done)}) to {done.path}: "
               f"{megabytes(done.size)} in {done.seconds:.2f} s.")


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds requests.")
def db_restore(file, force):
    """Replace the database with the backup in FILE (a new server's, unless --force)."""
    try:
        done = restore(file, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the {done.engine} database ({described(done)}) from {done.path} "
               f"({megabytes(done.size)}) in {done.seconds:.2f} s.")
    pending = sum(applied is None for _name, applied in schema_status())
    if pending:
        click.echo(f"The backup predates {pending} migration(s): run `flask --app app db upgrade`.")


def described(done):
    return f"{done.requests} requests, {done.documents} documents"


def megabytes(size):
    return f"{size / 1e6:.1f} MB"


@click.command("init-db")
@click.option("--demo", is_flag=True, help="Also load the demo accounts, persons and requests.")
@with_appcontext  # the demo's decisions queue SMS, which need the app's configuration
def init_db(demo):
    """Upgrade the schema, and load the demo data with --demo (safe to run again)."""
    upgrade()
    click.echo("Database ready.")
    if demo:
        from cli.demo import load_demo
        load_demo()
        click.echo("Demo data loaded.")
