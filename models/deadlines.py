"""When a decision is due: seven working days (Sunday to Thursday) after a request
is received, skipping the closed days and the working days spent waiting on the resident.

The words: a *public holiday* is the state's (from the maintained `holidays` package,
which computes the Islamic ones on the Umm al-Qura calendar); a *day off* is one the
directorate adds itself (DayOff, `flask holidays add`); the *closed days* are both."""
import datetime as dt
import functools

import holidays as holiday_calendars
from flask import current_app, has_app_context
from peewee import CharField, DateField

from models.base import BaseModel, write_transaction
from models.clock import riyadh_date, riyadh_today
from models.rules import add_working_days, working_days_between
from models.statuses import RETURNED

REVIEW_WORKING_DAYS = 7
AT_RISK_WORKING_DAYS = 2  # a request is at risk with this many working days left or fewer (config)
LOOK_AHEAD_DAYS = 370  # a deadline is never further than this from its start


@functools.lru_cache(maxsize=64)
def public_holidays(year):
    """{date: English name} of Saudi public holidays in `year` (Eid al-Fitr, Eid
    al-Adha and Arafah, Founding Day, National Day, with the days observed)."""
    return dict(holiday_calendars.country_holidays("SA", years=year, language="en_US"))


class DayOff(BaseModel):
    """A day off the directorate adds itself (`flask holidays add`)."""
    day = DateField(unique=True)
    name = CharField(max_length=120)

    class Meta:
        table_name = "holiday"  # its name before the words were settled

    @classmethod
    def days(cls):
        return {h.day for h in cls.select(cls.day)}

    @classmethod
    def add(cls, day, name):
        cls.upsert([dict(day=day, name=name)], key=("day",))

    @classmethod
    def remove(cls, day):
        return cls.delete().where(cls.day == day).execute()


def closed_days(start, end=None):
    """Every closed day that is not a weekend between `start` and `end`: public
    holidays and the directorate's days off."""
    end = end or start + dt.timedelta(days=LOOK_AHEAD_DAYS)
    public = set()
    for year in range(start.year, end.year + 1):
        public.update(public_holidays(year))
    return public | DayOff.days()


def look_ahead_end(start, waiting_days=0):
    """A day surely past the deadline of a request received on `start` that waited
    `waiting_days` working days (two calendar days a working day is ample)."""
    return start + dt.timedelta(days=LOOK_AHEAD_DAYS + 2 * waiting_days)


def due_date(submitted_on, waiting_days=0, closed=None):
    """Seven working days after submission, plus the working days spent waiting on
    the resident, skipping weekends and closed days."""
    if closed is None:
        closed = closed_days(submitted_on, look_ahead_end(submitted_on, waiting_days))
    return add_working_days(submitted_on, REVIEW_WORKING_DAYS + waiting_days, closed)


def at_risk_days():
    """AT_RISK_WORKING_DAYS from the app's configuration (the default outside an app)."""
    if has_app_context():
        return int(current_app.config.get("AT_RISK_WORKING_DAYS", AT_RISK_WORKING_DAYS))
    return AT_RISK_WORKING_DAYS


def risk_horizon(today, days=None, closed=None):
    """The latest due date of a request at risk on `today`: the day before the
    (days + 1)th working day after today, so that at most `days` working days lie
    after today up to and including the due date (working_days_between)."""
    days = at_risk_days() if days is None else days
    closed = closed_days(today) if closed is None else closed
    return add_working_days(today, days + 1, closed) - dt.timedelta(days=1)


def working_days_left(today, due_on, closed):
    """Working days after `today` up to and including `due_on`, or, once it passed,
    minus the working days after `due_on` up to and including today (0 the weekend
    right after a Thursday deadline: overdue, but no working day lost yet)."""
    if due_on >= today:
        return working_days_between(today, due_on, closed)
    return -working_days_between(due_on, today, closed)


def closed_days_in(year):
    """[(date, name, kind)] for a year: public holidays and the directorate's days off."""
    own = DayOff.select().where(DayOff.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    rows = [(day, name, "public holiday") for day, name in public_holidays(year).items()]
    rows += [(h.day, h.name, "day off") for h in own]
    return sorted(rows)


class RequestDeadline:
    """A request's deadline: when it is overdue, how many days are left, its pause
    while the request waits on the resident, and the recomputation when the calendar
    changes. Mixed into ServiceRequest (models.workflow), whose columns it reads."""

    @classmethod
    def running(cls):
        """The SQL condition "its clock runs": undecided and not waiting on the resident."""
        return cls.decided_at.is_null() & (cls.status != RETURNED)

    @classmethod
    def overdue_on(cls, today):
        """The SQL condition "past its deadline on `today`" (a request waiting on the
        resident is paused, never overdue)."""
        return cls.running() & (cls.due_on < today)

    @classmethod
    def at_risk_on(cls, today, horizon=None):
        """The SQL condition "at risk on `today`": running, not overdue, and due by
        `horizon` (risk_horizon(today), computed when not given)."""
        horizon = risk_horizon(today) if horizon is None else horizon
        return cls.running() & (cls.due_on >= today) & (cls.due_on <= horizon)

    def is_at_risk(self, today, closed=None, days=None):
        """At risk on `today` (the Python side of at_risk_on): running, not overdue,
        at most `days` (AT_RISK_WORKING_DAYS) working days left."""
        if self.status == RETURNED or self.is_final or self.due_on < today:
            return False
        closed = closed_days(today) if closed is None else closed
        days = at_risk_days() if days is None else days
        return working_days_between(today, self.due_on, closed) <= days

    def working_days_left(self, today, closed=None):
        """Working days left before the deadline (negative: working days over); None
        while paused or decided."""
        if self.status == RETURNED or self.is_final:
            return None
        if closed is None:
            closed = closed_days(min(today, self.due_on), max(today, self.due_on) + dt.timedelta(days=1))
        return working_days_left(today, self.due_on, closed)


    def is_overdue(self, today):
        """Past its deadline on `today` (the Python side of overdue_on)."""
        return (self.days_left(today) or 0) < 0

    def days_left(self, today=None):
        """Calendar days until the deadline (negative when overdue); None while paused."""
        if self.status == RETURNED or self.is_final:
            return None
        return (self.due_on - (today or riyadh_today())).days


    def clock_values(self, new_status, now):
        """Pause the deadline when the request goes back to the resident; when it
        comes back, add the working days it waited."""
        if new_status == RETURNED:
            return dict(paused_at=now)
        if self.status == RETURNED:
            closed = closed_days(self.submitted_on, look_ahead_end(riyadh_date(now)))
            waited = self.waiting_days + working_days_between(
                riyadh_date(self.paused_at), riyadh_date(now), closed)
            return dict(paused_at=None, waiting_days=waited,
                        due_on=due_date(self.submitted_on, waited, closed))
        return {}

    @classmethod
    def reschedule_open(cls):
        """Recompute the deadline of every undecided request after the calendar
        changed. A deadline depends only on (submitted_on, waiting_days), so there is
        one UPDATE per distinct pair, not one per request. The pairs are read in
        the same transaction, so a request answered meanwhile is not missed."""
        with write_transaction():
            pairs = list(cls.select(cls.submitted_on, cls.waiting_days).where(cls.decided_at.is_null())
                         .distinct().tuples())
            if not pairs:
                return 0
            days, waits = zip(*pairs, strict=True)
            closed = closed_days(min(days), look_ahead_end(max(days), max(waits)))
            changed = 0
            for submitted_on, waiting_days in pairs:
                due = due_date(submitted_on, waiting_days, closed)
                changed += cls.update(due_on=due, version=cls.version + 1).where(
                    cls.decided_at.is_null() & (cls.submitted_on == submitted_on)
                    & (cls.waiting_days == waiting_days) & (cls.due_on != due)).execute()
        return changed
