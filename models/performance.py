"""The record published (/performance): for each service and month of the last twelve,
in the Umm al-Qura (Hijri) or the Gregorian calendar, the requests received and
decided, the share decided by their deadline, the median working days to a decision,
the objections and the share overturned, and the average rating.

Cheap at a million requests: each figure is one grouped query whose rows are per
service and *day* (never per request), bucketed into months here, so both calendars
come from the same rows; the median comes from a histogram of working days per
(service, submission day, decision day), counted with a working-day index built once
per computation. The whole is kept per process for ten minutes (`Kept`).

Nothing points at a person: a count from 1 to 9 is shown as "fewer than 10" (FEW),
no share, median or average is drawn from fewer than 10 requests, and where only one
service's count in a month is hidden, the next smallest is hidden too (HIDDEN), so the
all-services total does not give the hidden one away."""
import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field

from hijridate import Gregorian, Hijri
from peewee import Case, fn

from models.catalogue import Service
from models.clock import riyadh_today, utcnow
from models.deadlines import closed_days
from models.objections import Objection
from models.ratings import Rating
from models.rules import is_working_day
from models.workflow import ServiceRequest as SR  # noqa: N817 (a short alias keeps the SQL readable)

MONTHS = 12
SMALLEST = 10  # the smallest count shown as it is, and the fewest a derived figure is drawn from
KEEP = dt.timedelta(minutes=10)
HIJRI, GREGORIAN = "hijri", "gregorian"
CALENDARS = (HIJRI, GREGORIAN)
FEW, HIDDEN = "few", "hidden"  # a count from 1 to 9; a count hidden so a FEW cannot be worked out
ALL = 0  # the service id of the all-services rows
COUNTED = ("received", "decided", "objections")  # the counts shown (the others only feed a figure)


# ------------------------------------------------------------------ months

def month_of(day, calendar):
    """(year, month) of a Gregorian date in `calendar`."""
    if calendar == HIJRI:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        return hijri.year, hijri.month
    return day.year, day.month


def first_day(month, calendar):
    """The Gregorian date a (year, month) of `calendar` starts on."""
    year, number = month
    if calendar == HIJRI:
        return dt.date(*Hijri(year, number, 1).to_gregorian().datetuple())
    return dt.date(year, number, 1)


def last_months(today, calendar, count=MONTHS):
    """The `count` months up to and including today's (the last one still running), oldest first."""
    year, number = month_of(today, calendar)
    months = []
    for _ in range(count):
        months.append((year, number))
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    return months[::-1]


# ------------------------------------------------------------------ the figures

@dataclass
class Cell:
    """One service's (or all services') month: the raw sums, then what may be shown."""
    received: int = 0
    decided: int = 0
    on_time: int = 0
    days: Counter = field(default_factory=Counter)  # working days to a decision: how many requests
    ratings: int = 0
    stars: int = 0
    objections: int = 0
    objections_decided: int = 0
    overturned: int = 0

    def add(self, other):
        for name in ("received", "decided", "on_time", "ratings", "stars", "objections",
                     "objections_decided", "overturned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days.update(other.days)

    def shown(self):
        """{figure: value} as published: counts (or FEW), shares, median, average (or None)."""
        return dict(received=count_shown(self.received), decided=count_shown(self.decided),
                    share=ratio(self.on_time, self.decided), median=median(self.days, self.decided),
                    objections=count_shown(self.objections),
                    overturned=ratio(self.overturned, self.objections_decided),
                    rating=ratio(self.stars, self.ratings))


def count_shown(count):
    return FEW if 0 < count < SMALLEST else count


def ratio(part, whole):
    """part / whole, or None from fewer than SMALLEST."""
    return part / whole if whole >= SMALLEST else None


def median(histogram, total):
    """The median of a {value: how many} histogram (the mean of the two middle values
    for an even total), or None from fewer than SMALLEST."""
    if total < SMALLEST:
        return None
    middle, seen, found = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(histogram):
        seen += histogram[value]
        while len(found) < 2 and seen > middle[len(found)]:
            found.append(value)
    return sum(found) / 2


def protect(rows, services):
    """Where exactly one service's count of a month is FEW, hide the next smallest
    count too (HIDDEN), so the all-services total minus the others does not give it."""
    for name in COUNTED:
        few = [s for s in services if rows[s][name] == FEW]
        if len(few) != 1:
            continue
        shown = [s for s in services if isinstance(rows[s][name], int) and rows[s][name] > 0]
        if shown:
            rows[min(shown, key=lambda s: rows[s][name])][name] = HIDDEN


class WorkingDayIndex:
    """Working days between two dates in O(1): a running count of working days since
    `first`, built once (the closed days read once)."""

    def __init__(self, first, last):
        closed = closed_days(first, last)
        self.first, self.index, count = first, [], 0
        for offset in range((last - first).days + 1):
            count += is_working_day(first + dt.timedelta(days=offset), closed)
            self.index.append(count)

    def between(self, start, end):
        """Working days after `start` up to and including `end` (rules.working_days_between)."""
        return self.index[(end - self.first).days] - self.index[(start - self.first).days]


@dataclass
class Figures:
    """The published figures of one moment: per calendar, its months and
    {(service id or ALL, month): shown figures}; `rendered` keeps what is drawn from them
    (the page content per language and calendar, the CSV per calendar)."""
    today: dt.date  # the Riyadh date they were computed on
    until: dt.date  # the last day they count (yesterday)
    computed_at: dt.datetime
    services: list
    months: dict
    rows: dict
    rendered: dict = field(default_factory=dict)


def compute(today=None):
    """The figures for the twelve months up to yesterday (Riyadh), in both calendars.
    Whole days only: figures that moved every ten minutes would tell, by difference,
    what one person did in those ten minutes."""
    today = today or riyadh_today()
    until = today - dt.timedelta(days=1)
    months = {calendar: last_months(until, calendar) for calendar in CALENDARS}
    start = min(first_day(months[calendar][0], calendar) for calendar in CALENDARS)
    cells = {calendar: {} for calendar in CALENDARS}

    def cell(service_id, day):
        return [cells[c].setdefault((service_id, month_of(day, c)), Cell()) for c in CALENDARS]

    for service_id, day, count in received(start, until):
        for target in cell(service_id, day):
            target.received += count
    decisions = decided(start, until)
    index = WorkingDayIndex(min([start] + [row[1] for row in decisions]), until)
    for service_id, submitted_on, decided_on, waiting, count, on_time in decisions:
        days = max(0, index.between(submitted_on, decided_on) - waiting)
        for target in cell(service_id, decided_on):
            target.decided += count
            target.on_time += int(on_time or 0)
            target.days[days] += count
    for service_id, day, count, stars in rated(start, until):
        for target in cell(service_id, day):
            target.ratings += count
            target.stars += int(stars)
    for service_id, day, submitted, decided_count, overturned in objection_counts(start, until):
        for target in cell(service_id, day):
            target.objections += submitted
            target.objections_decided += decided_count
            target.overturned += overturned
    services = list(Service.ordered())
    rows = {calendar: shown_rows(cells[calendar], services, months[calendar]) for calendar in CALENDARS}
    return Figures(today=today, until=until, computed_at=utcnow(), services=services, months=months, rows=rows)


def shown_rows(cells, services, months):
    """{(service id or ALL, month): shown figures} for the months, protected per month."""
    ids = [service.id for service in services]
    rows = {}
    for month in months:
        total = Cell()
        month_rows = {}
        for service_id in ids:
            found = cells.get((service_id, month), Cell())
            total.add(found)
            month_rows[service_id] = found.shown()
        protect(month_rows, ids)
        month_rows[ALL] = total.shown()
        rows.update({(service_id, month): shown for service_id, shown in month_rows.items()})
    return rows


# ------------------------------------------------------------------ the grouped queries

def received(start, end):
    """[(service id, day, requests received that day)]."""
    return list(SR.select(SR.service, SR.submitted_on, fn.COUNT(SR.id))
                .where(SR.submitted_on.between(start, end))
                .group_by(SR.service, SR.submitted_on).tuples())


def decided(start, end):
    """[(service id, submitted on, decided on, working days waiting on the resident,
    requests, of which decided by their deadline)] for the decisions of the period."""
    return list(SR.select(SR.service, SR.submitted_on, SR.decided_on, SR.waiting_days, fn.COUNT(SR.id),
                          fn.SUM(Case(None, [(SR.decided_on <= SR.due_on, 1)], 0)))
                .where(SR.decided_on.between(start, end))
                .group_by(SR.service, SR.submitted_on, SR.decided_on, SR.waiting_days).tuples())


def rated(start, end):
    """[(service id, decision day, ratings, sum of their stars)] for the requests decided in the period."""
    return list(Rating.select(SR.service, SR.decided_on, fn.COUNT(Rating.id), fn.SUM(Rating.stars))
                .join(SR).where(SR.decided_on.between(start, end))
                .group_by(SR.service, SR.decided_on).tuples())


def objection_counts(start, end):
    """[(service id, day, objections received that day, objections decided that day,
    of which overturned)]: objections count in the month they were sent, their
    outcomes in the month they were decided."""
    counts = Counter()
    for service_id, day, count in (Objection.select(SR.service, Objection.submitted_on, fn.COUNT(Objection.id))
                                   .join(SR).where(Objection.submitted_on.between(start, end))
                                   .group_by(SR.service, Objection.submitted_on).tuples()):
        counts[(service_id, day, "received")] += count
    overturned = Case(None, [(Objection.outcome == "overturned", 1)], 0)
    for service_id, day, count, over in (Objection.select(SR.service, Objection.decided_on, fn.COUNT(Objection.id),
                                                          fn.SUM(overturned))
                                         .join(SR).where(Objection.decided_on.between(start, end))
                                         .group_by(SR.service, Objection.decided_on).tuples()):
        counts[(service_id, day, "decided")] += count
        counts[(service_id, day, "overturned")] += int(over or 0)
    keys = {(service_id, day) for service_id, day, _kind in counts}
    return [(service_id, day, counts[(service_id, day, "received")], counts[(service_id, day, "decided")],
             counts[(service_id, day, "overturned")]) for service_id, day in sorted(keys)]


# ------------------------------------------------------------------ kept for ten minutes

class Kept:
    """The figures of a process, computed at most once per KEEP (by models.clock, so
    tests move time) and again when the Riyadh date changes (the twelve months move).
    Two workers each keep their own; a crowd costs the database one computation per
    worker per ten minutes."""

    def __init__(self, keep=KEEP):
        self.keep = keep
        self.lock = threading.Lock()
        self.figures = None

    def get(self):
        today, now = riyadh_today(), utcnow()
        with self.lock:
            found = self.figures
            if found and found.today == today and dt.timedelta(0) <= now - found.computed_at < self.keep:
                return found
            self.figures = compute(today)  # under the lock: the threads of a worker wait for one computation
            return self.figures
