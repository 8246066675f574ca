"""flask db upgrade | status, and init-db (upgrade, with the demo data on request)."""
import click
from flask.cli import AppGroup, with_appcontext

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
