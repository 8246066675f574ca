"""flask holidays add | remove | list: the directorate's days off (DayOff). Saudi
public holidays come from the `holidays` package and need no typing; both are closed
days, which do not count for the deadline."""
import click
from flask.cli import AppGroup

from models import add_day_off, remove_day_off, riyadh_today
from models.deadlines import closed_days_in

holidays = AppGroup("holidays", help="Public holidays and days off: closed days, which do not count for the deadline.")
DAY = click.DateTime(formats=["%Y-%m-%d"])


@holidays.command("add")
@click.argument("day", type=DAY)
@click.argument("name")
def add_day_off_command(day, name):
    """Add a day off (YYYY-MM-DD NAME) and move the deadlines of open requests."""
    if not name.strip() or len(name) > 120:
        raise click.ClickException("Give the day a name of 1 to 120 characters.")
    moved = add_day_off(day.date(), name.strip())
    click.echo(f"Day off {day.date()} added; {moved} deadline(s) moved.")


@holidays.command("remove")
@click.argument("day", type=DAY)
def remove_day_off_command(day):
    """Remove a day off the directorate added, and move the deadlines back."""
    removed, moved = remove_day_off(day.date())
    if not removed:
        raise click.ClickException(f"{day.date()} is not a day the directorate added.")
    click.echo(f"Day off {day.date()} removed; {moved} deadline(s) moved.")


@holidays.command("list")
@click.option("--year", type=int, default=None, help="Which year (default: this year in Riyadh).")
def list_closed_days(year):
    """Every closed day of a year: public holidays and the directorate's days off."""
    for day, name, kind in closed_days_in(year or riyadh_today().year):
        click.echo(f"{day}  {day:%a}  {name}" + ("  (day off)" if kind == "day off" else ""))
