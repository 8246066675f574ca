"""Every request has an officer: the one rule that gives an undecided request to an
officer, used when a request is sent, when an officer goes away or gives a request
back, and when someone becomes available (back, services widened, away ended).

Available: role "officer", not disabled, not away, and handling the request's
service. Away: `User.away_until` is the LAST day away, a Riyadh date; the officer is
available again the day after (NULL: present). Handling: an officer with no
`officer_service` rows handles every service; a supervisor's rows narrow it.
Among the available, the one with the fewest undecided requests wins; ties go to the
one given a request longest ago (never: first), then to the oldest account.

Every assignment takes the "assignment" lock first (models.base.lock_for_transaction;
SQLite's write lock does it for every writer), so two at once never both count
before either writes, and the counts stay within one of each other.
"""
import datetime as dt

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, TextField, fn

from models.audit import Audit
from models.base import BaseModel, db, is_sqlite, lock_for_transaction, write_transaction
from models.catalogue import Service
from models.clock import riyadh_today, utcnow
from models.statuses import ActionRefused
from models.users import User
from models.workflow import Event, ServiceRequest

WAITING_BATCH = 100  # requests assign_waiting() gives out per call: a submission never waits long on it


class OfficerService(BaseModel):
    """A service a supervisor narrowed an officer to. No rows: every service."""
    officer = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    service = ForeignKeyField(Service, on_delete="CASCADE", backref="+")

    class Meta:
        table_name = "officer_service"
        indexes = ((("officer", "service"), True),)


class StaffChange(BaseModel):
    """The append-only trail of the team changes that concern no one request: away,
    back, services narrowed or widened. The database refuses UPDATE and DELETE on it
    (triggers, migration 0007), as it does on the audit trail."""
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")  # None: the command line
    officer = ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    at = DateTimeField(default=utcnow)
    action = CharField(max_length=20)  # away, back, services
    note = TextField(null=True)  # away: the last day away; services: the codes, or "all"

    class Meta:
        table_name = "staff_change"

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise PermissionError("the staff changes trail is append-only")
        return super().save(*args, **kwargs)

    @classmethod
    def latest(cls, limit=20):
        officer = User.alias()
        return (cls.select(cls, User, officer).join(User, JOIN.LEFT_OUTER, on=(cls.actor == User.id))
                .switch(cls).join(officer, on=(cls.officer == officer.id))
                .order_by(cls.at.desc(), cls.id.desc()).limit(limit))


# ------------------------------------------------------------------ the rule

def officers():
    """Every officer account that is not disabled, by name."""
    return User.select().where((User.role == "officer") & (User.disabled == False)).order_by(  # noqa: E712 (SQL)
        User.full_name, User.id)


def available(today=None):
    """Officers who may be given work on `today` (a Riyadh date): not away."""
    today = today or riyadh_today()
    return User.select().where((User.role == "officer") & (User.disabled == False)  # noqa: E712 (SQL)
                               & (User.away_until.is_null() | (User.away_until < today)))


def handling(query, service_id):
    """`query`'s officers who handle the service: no narrowing, or narrowed to it."""
    narrowed = OfficerService.select(OfficerService.id).where(OfficerService.officer == User.id)
    handles = narrowed.where(OfficerService.service == service_id)
    return query.where(~fn.EXISTS(narrowed) | fn.EXISTS(handles))


def pick_officer(service_id, exclude=None, today=None):
    """The officer the rule gives a request of this service to, or None when nobody
    is available. Call it inside write_transaction() after lock_for_transaction
    ("assignment") (assign() does), or the count may be stale when it is used."""
    query = handling(available(today), service_id)
    if exclude is not None:
        query = query.where(User.id != getattr(exclude, "id", exclude))
    candidates = list(query)
    counts = undecided_counts([officer.id for officer in candidates])
    return min(candidates, default=None, key=lambda officer: (
        counts.get(officer.id, 0), officer.last_assigned_at is not None,
        officer.last_assigned_at or dt.datetime.min, officer.id))


OPEN_BY_ASSIGNEE = "servicerequest_open_by_assignee"  # migration 0007: (assignee_id, due_on, id), undecided only


def undecided_counts(officer_ids):
    """{officer id: undecided requests held}: one range of the partial index
    OPEN_BY_ASSIGNEE per officer, never their decided requests (at a million requests
    an officer holds tens of thousands). SQLite's planner prefers the plain index on
    assignee_id even with statistics, so it is told which index to use."""
    officer_ids = list(officer_ids)
    if not officer_ids:
        return {}
    hint = f' INDEXED BY "{OPEN_BY_ASSIGNEE}"' if is_sqlite() else ""
    marks = ", ".join([db.param] * len(officer_ids))
    return dict(db.execute_sql(
        f'SELECT "assignee_id", COUNT(*) FROM "servicerequest"{hint} WHERE "assignee_id" IN ({marks}) '
        'AND "decided_at" IS NULL GROUP BY "assignee_id"', officer_ids).fetchall())


def assign(service_request, held_by=None, action="assign", note=None, exclude=None):
    """Give the undecided request to the officer the rule picks, in the caller's
    transaction (or its own). It must be held by `held_by` (None: nobody), who is never
    picked, nor is `exclude`. Recorded as `action` ("assign", or "reassign" when it
    moves from someone) in the audit trail, by nobody (the rule), and on the staff's
    timeline. Returns the officer, or None: nobody available (it waits unassigned) or
    the request was decided or taken meanwhile."""
    cls = ServiceRequest
    with write_transaction():
        lock_for_transaction("assignment")
        officer = pick_officer(service_request.service_id, exclude=exclude or held_by)
        if officer is None:
            return None
        held = cls.assignee.is_null() if held_by is None else (cls.assignee == held_by)
        if not cls.update(assignee=officer).where(
                (cls.id == service_request.id) & held & cls.decided_at.is_null()).execute():
            return None
        given(officer, cls.get_by_id(service_request.id), action, note)
    return officer


def given(officer, service_request, action, note=None, actor=None, ip=None, message=None):
    """What every assignment leaves: the officer's turn, the timeline, the audit."""
    User.update(last_assigned_at=utcnow()).where(User.id == officer.id).execute()
    Event.create(request=service_request, kind=action, actor=officer, internal=True, message=message)
    Audit.record(actor, service_request, action, service_request.status, service_request.status, ip,
                 note=note, assignee=officer)


def assign_waiting(limit=WAITING_BATCH):
    """Give the requests that wait unassigned (nobody was available, or nobody else
    when one was given back) to the officers available now, soonest due first; call
    it whenever someone may have become available (an officer back, services widened,
    an away that ended by date: the queue's page, the watcher, `flask staff
    assign-waiting`). One index probe when nothing waits. Returns how many it gave."""
    cls = ServiceRequest
    waiting = list(cls.select(cls.id, cls.service, cls.status)
                   .where(cls.assignee.is_null() & cls.decided_at.is_null())
                   .order_by(cls.due_on, cls.id).limit(limit))
    if not waiting or not available().exists():
        return 0
    given_out, nobody_for = 0, set()
    for service_request in waiting:
        if service_request.service_id in nobody_for:
            continue
        if pick_officer(service_request.service_id) is None:  # a read first: no write lock for nothing
            nobody_for.add(service_request.service_id)
            continue
        if assign(service_request) is not None:
            given_out += 1
        elif not cls.get_by_id(service_request.id).assignee_id:
            nobody_for.add(service_request.service_id)
    return given_out


# ------------------------------------------------------------------ supervisors' changes

def reassign(service_request, officer, supervisor, reason, ip=None):
    """A supervisor gives an undecided request to a named officer (or to themself,
    to decide it), with a reason the audit trail keeps. Refused (ActionRefused)
    without a reason, for a decided request, an account that is not an active officer,
    or an officer away."""
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_l("Say why it moves: the reason is kept in the audit trail."))
    cls, today = ServiceRequest, riyadh_today()
    with write_transaction():
        lock_for_transaction("assignment")
        current = cls.get_by_id(service_request.id)
        officer = User.get_or_none(User.id == getattr(officer, "id", officer))
        if current.is_final:
            raise ActionRefused(current.refusal(current.status))
        if officer is None or officer.disabled or not (officer.role == "officer" or officer.id == supervisor.id):
            raise ActionRefused(_l("Choose one of the officers."))
        if officer.is_away(today):
            raise ActionRefused(away_message(officer))
        if current.assignee_id == officer.id:
            raise ActionRefused(_l("%(name)s already holds this request.", name=officer.full_name))
        held = cls.assignee.is_null() if current.assignee_id is None else (cls.assignee == current.assignee_id)
        if not cls.update(assignee=officer).where((cls.id == current.id) & held & cls.decided_at.is_null()).execute():
            raise ActionRefused(_l("Someone changed this request at the same moment; look at it again."))
        given(officer, current, "reassign", note=reason, actor=supervisor, ip=ip, message=reason)
    return cls.get_by_id(service_request.id)


def away_message(officer):
    return _l("%(name)s is away until %(date)s.", name=officer.full_name,
              date=format_date(officer.away_until, format="long"))


def set_away(officer, until, actor=None):
    """The officer is away through `until` (a Riyadh date, today or later), back the
    day after. Their undecided requests move to others by the rule, in the same
    transaction; with nobody else available they wait unassigned. Returns (moved,
    waiting)."""
    if until < riyadh_today():
        raise ActionRefused(_l("Choose today or a later day."))
    if officer.role != "officer":
        raise ActionRefused(_l("Only officers are given requests, so only officers are away."))
    cls, moved, waiting = ServiceRequest, 0, 0
    with write_transaction():
        lock_for_transaction("assignment")
        User.update(away_until=until).where(User.id == officer.id).execute()
        StaffChange.create(actor=actor, officer=officer, action="away", note=until.isoformat())
        held = list(cls.select().where((cls.assignee == officer) & cls.decided_at.is_null())
                    .order_by(cls.due_on, cls.id))
        for service_request in held:
            if assign(service_request, held_by=officer.id, action="reassign", note="away"):
                moved += 1
            else:
                waiting += unassign(service_request, officer, note="away")
    officer.away_until = until
    return moved, waiting


def unassign(service_request, holder, note):
    """Nobody else is available: the request leaves its holder and waits. 1 when it did."""
    cls = ServiceRequest
    if not cls.update(assignee=None).where(
            (cls.id == service_request.id) & (cls.assignee == holder) & cls.decided_at.is_null()).execute():
        return 0
    Event.create(request=service_request, kind="release", actor=holder, internal=True)
    Audit.record(None, service_request, "release", service_request.status, service_request.status, note=note)
    return 1


def set_back(officer, actor=None):
    """The officer is back (no longer away); requests that waited go out again,
    this officer among those the rule may pick. Returns how many were given."""
    with write_transaction():
        User.update(away_until=None).where(User.id == officer.id).execute()
        StaffChange.create(actor=actor, officer=officer, action="back")
    officer.away_until = None
    return assign_waiting()


def services_of(officer):
    """The ids of the services the officer is narrowed to (empty: every service)."""
    return {row.service_id for row in OfficerService.select().where(OfficerService.officer == officer)}


def set_services(officer, service_ids, actor=None):
    """A supervisor narrows the officer to these services (none: every service).
    Requests they hold stay with them; requests that waited go out again."""
    service_ids = set(service_ids)
    if service_ids == services_of(officer):
        return 0
    codes = [s.code for s in Service.select().where(Service.id.in_(service_ids)).order_by(Service.position)]
    with write_transaction():
        OfficerService.delete().where(OfficerService.officer == officer).execute()
        if service_ids:
            OfficerService.insert_many([dict(officer=officer, service=s) for s in service_ids]).execute()
        StaffChange.create(actor=actor, officer=officer, action="services", note=",".join(codes) or "all")
    return assign_waiting()
