"""flask sessions purge: sessions past their 12 hours leave the database (Redis
expires its own)."""
import click
from flask import current_app
from flask.cli import AppGroup

from models import utcnow

sessions = AppGroup("sessions", help="Sessions kept on the server.")


@sessions.command("purge")
def purge_sessions():
    """Remove expired sessions (run hourly from cron)."""
    removed = current_app.session_interface.store.purge(utcnow())
    click.echo(f"Removed {removed} expired session(s).")
