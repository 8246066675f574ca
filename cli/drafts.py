"""flask drafts purge: abandoned drafts go by age, never when a page is read."""
import click
from flask.cli import AppGroup

from models import DRAFT_MAX_AGE_DAYS, Draft

drafts = AppGroup("drafts", help="Requests being written.")


@drafts.command("purge")
@click.option("--days", default=DRAFT_MAX_AGE_DAYS, show_default=True, type=click.IntRange(1, 3650),
              help="Remove drafts untouched for this many days.")
def purge_drafts(days):
    """Remove abandoned drafts and their files (run daily from cron)."""
    click.echo(f"Removed {Draft.purge_older_than(days)} draft(s).")
