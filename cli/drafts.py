"""flask drafts purge: abandoned drafts go by age, never when a page is read."""
import click
from flask.cli import AppGroup

from models import Draft

drafts = AppGroup("drafts", help="Requests being written.")


@drafts.command("purge")
@click.option("--days", default=7, show_default=True, help="Remove drafts untouched for this long.")
def purge_drafts(days):
    """Remove abandoned drafts and their files (run daily from cron)."""
    click.echo(f"Removed {Draft.purge_older_than(days)} draft(s).")
