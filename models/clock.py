"""The one place the project reads the clock. Tests move time with time-machine."""
import datetime as dt

RIYADH = dt.timezone(dt.timedelta(hours=3), "AST")  # Saudi Arabia keeps no daylight saving


def utcnow():
    """Now, as a naive UTC datetime (how every timestamp is stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def riyadh_date(moment):
    """The calendar date in Riyadh of a naive UTC datetime."""
    return moment.replace(tzinfo=dt.UTC).astimezone(RIYADH).date()


def riyadh_today():
    """Today's date in Riyadh (already tomorrow from 21:00 UTC)."""
    return riyadh_date(utcnow())
