"""flask sessions purge: sessions past their 12 hours leave the database (Redis
expires its own), with one-time codes and the code SMS log past their use."""
import click
from flask import current_app
from flask.cli import AppGroup

from models import CodeSent, OneTimeCode, utcnow

sessions = AppGroup("sessions", help="Sessions kept on the server.")


@sessions.command("purge")
def purge_sessions():
    """Remove expired sessions (run hourly from cron)."""
    now = utcnow()
    removed = current_app.session_interface.store.purge(now)
    codes = OneTimeCode.purge(now) + CodeSent.purge(now)
    click.echo(f"Removed {removed} expired session(s) and {codes} spent code record(s).")
