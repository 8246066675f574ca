"""The watcher: who must hear that requests are at risk or overdue, told by SMS
through the outbox (`flask staff watch`, cli/watch.py, runs a pass a minute).

- A request **at risk** (models.deadlines: at most AT_RISK_WORKING_DAYS working
  days left) is told to the officer holding it; **overdue**, to that officer's
  supervisor, or to every active supervisor when the officer has none (or nobody
  holds the request). Paused (returned) and decided requests are told to nobody.
- Told once: a StaffAlert row per (request, person, kind). A request given to
  another officer after its officer was told is told once to the new officer too
  (they did not hear of it); never twice to the same person.
- One SMS per person per Riyadh day, summing up every request not told yet, with
  the Notice key `staff-{user id}-{day}`. A request found after that day's SMS
  went out waits for the next day's.
- Several watchers at once (several servers): each person is told in one
  write_transaction that takes the person's lock (SQLite's write lock, PostgreSQL's
  advisory lock on ("watch", user id)) and looks for the day's SMS first, then
  records the alerts and queues the SMS together: one of two watchers tells, the
  other finds the SMS sent and leaves; a request is marked told only with the SMS
  that tells it, so none is lost either."""
import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, fn

from models.base import BaseModel, lock_for_transaction, write_transaction
from models.clock import riyadh_today, utcnow
from models.deadlines import closed_days, risk_horizon
from models.notices import STAFF_NOTICE_KIND, Notice
from models.users import STAFF_ROLES, User
from models.workflow import ServiceRequest as SR  # noqa: N817 (a short alias keeps the SQL readable)

AT_RISK, OVERDUE = "at_risk", "overdue"


class StaffAlert(BaseModel):
    """That `user` was told (by the SMS `notice_key`) that `request` was at risk or overdue."""
    request = ForeignKeyField(SR, on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    kind = CharField(max_length=10)  # AT_RISK or OVERDUE
    at = DateTimeField(default=utcnow)
    notice_key = CharField(max_length=80)

    class Meta:
        table_name = "staff_alert"
        indexes = ((("request", "user", "kind"), True),)


@dataclass
class Told:
    """One person's SMS of a pass: how many requests of each kind it told."""
    user: User
    at_risk: int
    overdue: int
    text: str


@dataclass
class Day:
    """What a pass needs to know about today."""
    today: dt.date
    horizon: dt.date

    @classmethod
    def now(cls):
        today = riyadh_today()
        return cls(today, risk_horizon(today, closed=closed_days(today)))


def not_told(person, kind):
    """SQL: no StaffAlert of `kind` tells `person` (a User or a column) about the request."""
    return ~fn.EXISTS(StaffAlert.select(StaffAlert.id).where(
        (StaffAlert.request == SR.id) & (StaffAlert.user == person) & (StaffAlert.kind == kind)))


def at_risk_untold(person, day):
    """The person's requests at risk that nobody told them about yet."""
    return SR.select(SR.id, SR.due_on).where(
        SR.at_risk_on(day.today, day.horizon) & (SR.assignee == person) & not_told(person, AT_RISK))


def overdue_untold(supervisor, day):
    """Overdue requests `supervisor` must hear of and did not: those held by officers
    they supervise, and those whose officer has no active supervisor (or that
    nobody holds), which every supervisor hears of."""
    officer, chief = User.alias(), User.alias()
    theirs = ((chief.id == supervisor.id) | chief.id.is_null() | (chief.disabled == True)  # noqa: E712 (SQL)
              | (chief.role != "supervisor"))
    return (SR.select(SR.id, SR.due_on)
            .join(officer, JOIN.LEFT_OUTER, on=(SR.assignee == officer.id))
            .join(chief, JOIN.LEFT_OUTER, on=(officer.supervisor == chief.id))
            .where(SR.overdue_on(day.today) & theirs & not_told(supervisor.id, OVERDUE)))


def people_to_tell(day):
    """Active staff who may have something to hear: officers holding an untold
    request at risk, and every active supervisor (few) when any request is overdue."""
    holders = (SR.select(SR.assignee).distinct()
               .where(SR.at_risk_on(day.today, day.horizon) & SR.assignee.is_null(False)
                      & not_told(SR.assignee, AT_RISK)))
    wanted = User.id.in_(holders)
    if SR.select(SR.id).where(SR.overdue_on(day.today)).exists():
        wanted |= User.role == "supervisor"
    return list(User.select().where(wanted & User.role.in_(STAFF_ROLES) & (User.disabled == False))  # noqa: E712
                .order_by(User.id))


def watch_pass(day=None):
    """One pass of the watcher: ([Told] for the SMS it queued, [User] who have
    something to hear but no mobile, [User] who had today's SMS and hear the rest
    tomorrow)."""
    day = day or Day.now()
    told, unreachable, tomorrow = [], [], []
    for person in people_to_tell(day):
        if not has_untold(person, day):
            continue
        if not person.mobile:
            unreachable.append(person)
        elif Notice.select(Notice.id).where(Notice.key == notice_key(person, day)).exists():
            tomorrow.append(person)
        elif (result := tell(person, day)) is not None:
            told.append(result)
    return told, unreachable, tomorrow


def has_untold(person, day):
    return at_risk_untold(person, day).exists() or (
        person.role == "supervisor" and overdue_untold(person, day).exists())


def notice_key(person, day):
    return f"staff-{person.id}-{day.today.isoformat()}"


def tell(person, day):
    """Tell `person` today's untold requests in one SMS, or nothing when they had
    today's SMS already or there is nothing left to tell (another watcher told them)."""
    key = notice_key(person, day)
    with write_transaction():
        lock_for_transaction("watch", str(person.id))
        if Notice.select(Notice.id).where(Notice.key == key).exists():
            return None
        at_risk = list(at_risk_untold(person, day).tuples())
        overdue = list(overdue_untold(person, day).tuples()) if person.role == "supervisor" else []
        if not at_risk and not overdue:
            return None
        now = utcnow()
        rows = ([dict(request=rid, user=person.id, kind=AT_RISK, at=now, notice_key=key) for rid, _ in at_risk]
                + [dict(request=rid, user=person.id, kind=OVERDUE, at=now, notice_key=key) for rid, _ in overdue])
        for start in range(0, len(rows), 200):
            StaffAlert.insert_many(rows[start:start + 200]).execute()
        text = summary_text(person, len(at_risk), max((due for _, due in at_risk), default=None), len(overdue))
        Notice.queue(key, person.mobile, text, kind=STAFF_NOTICE_KIND)
    return Told(person, len(at_risk), len(overdue), text)


def summary_text(person, at_risk, due_by, overdue):
    """The day's SMS, in the person's language: how many requests they hold are due
    soon (and by when), how many are overdue, and a link to see them."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    url = f"{base}/staff/risks" if overdue else f"{base}/staff/?view=mine"
    with force_locale(person.locale or "ar"):
        parts = []
        if at_risk:
            parts.append(ngettext("%(num)d request you hold is due by %(day)s.",
                                  "%(num)d requests you hold are due by %(day)s.", at_risk,
                                  day=format_date(due_by, "EEEE d MMMM")))
        if overdue:
            parts.append(ngettext("%(num)d request is overdue.", "%(num)d requests are overdue.", overdue))
        return _("Tawasul: %(summary)s Open: %(url)s", summary=" ".join(parts), url=url)
