"""An objection after a rejection: the resident may object once, within
OBJECTION_DAYS calendar days of the decision (the config, 30 by default), saying why
(and with documents, kept as the request's documents with `objection` set). A
supervisor who did not make the rejection decides it within seven working days:
*upheld* (the rejection stands; the reason is shown to the resident) or *overturned*
(the request becomes accepted). Every step bumps the request's version (so its panel
and kept pages refresh), adds a line to its timeline and a row to the audit trail.

The figures are left as they were: an overturned request is accepted from then on,
but its decided_at, decided_on and hours_to_decision stay those of the first decision
(the seven-day promise is about that one; the objection has its own due date)."""
import datetime as dt

from flask import current_app
from flask_babel import LazyString, force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegrityError, TextField

from models.audit import Audit
from models.base import BaseModel, Prepared, StoredFile, slot, write_transaction
from models.catalogue import Service
from models.clock import riyadh_date, riyadh_today, utcnow
from models.deadlines import due_date
from models.notices import Notice
from models.statuses import ACCEPTED, REJECTED, ActionRefused
from models.users import User
from models.workflow import Document, Event, ServiceRequest

OBJECTION_DAYS = 30  # calendar days after the decision (config OBJECTION_DAYS)
OBJECTION_MIN = 30  # characters of why, at least
RECEIVED, UNDER_REVIEW, DECIDED = "received", "under_review", "decided"
OPEN = (RECEIVED, UNDER_REVIEW)
UPHELD, OVERTURNED = "upheld", "overturned"
OBJECTION_STATUS_LABELS = {
    RECEIVED: _l("Objection received"),
    UNDER_REVIEW: _l("Objection under review"),
    UPHELD: _l("Objection decided: the rejection stands"),
    OVERTURNED: _l("Objection decided: the rejection is overturned"),
}


class Objection(BaseModel):
    request = ForeignKeyField(ServiceRequest, unique=True, backref="objections", on_delete="CASCADE")  # once
    text = TextField()  # why, in the resident's words
    status = CharField(max_length=20, default=RECEIVED, index=True)  # received, under_review, decided
    submitted_at = DateTimeField(default=utcnow)
    submitted_on = DateField(index=True)  # Riyadh date
    due_on = DateField()  # seven working days after submitted_on
    reviewer = ForeignKeyField(User, null=True, on_delete="SET NULL")  # who started the review
    outcome = CharField(max_length=20, null=True)  # upheld, overturned; None until decided
    reason = TextField(null=True)  # the supervisor's words, shown to the resident (required when upheld)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    decided_on = DateField(null=True, index=True)  # Riyadh date

    @property
    def is_open(self):
        return self.status in OPEN

    @property
    def label(self):
        """What the resident reads of its status."""
        return OBJECTION_STATUS_LABELS[self.outcome or self.status]

    @classmethod
    def of_request(cls, service_request):
        return OF_REQUEST.first(request=getattr(service_request, "id", service_request))

    @classmethod
    def is_open_on(cls, service_request):
        """True while the request has an objection waiting for its decision."""
        return cls.select().where((cls.request == service_request.id) & cls.status.in_(OPEN)).exists()

    @classmethod
    def waiting(cls):
        """The objections waiting for a decision, soonest due first, with their request and service."""
        return (cls.select(cls, ServiceRequest, Service).join(ServiceRequest).join(Service)
                .where(cls.status.in_(OPEN)).order_by(cls.due_on, cls.id))

    # ------------------------------------------------------------ the rules

    @staticmethod
    def last_day(service_request):
        """The last day (Riyadh) an objection to this decision may be sent, or None
        when the request is not decided."""
        decided_on = service_request.decided_on or (
            service_request.decided_at and riyadh_date(service_request.decided_at))
        if not decided_on:
            return None
        return decided_on + dt.timedelta(days=current_app.config.get("OBJECTION_DAYS", OBJECTION_DAYS))

    @classmethod
    def refusal(cls, service_request, today=None):
        """Why the owner cannot object to this request now, or None."""
        if cls.of_request(service_request) is not None:
            return _l("You have already objected to this decision: a decision can be objected to once.")
        if service_request.status != REJECTED:
            return _l("Only a rejected request can be objected to.")
        last_day = cls.last_day(service_request)
        if last_day is None:  # a rejection without its time: nothing to count from
            return _l("Only a rejected request can be objected to.")
        if (today or riyadh_today()) > last_day:
            return LazyString(window_closed, last_day, current_app.config.get("OBJECTION_DAYS", OBJECTION_DAYS))
        return None

    @classmethod
    def lodge(cls, service_request, owner, text, files):
        """The owner objects: the objection, its documents, a timeline line and an
        audit row, and a new version of the request, in one transaction. Refused
        (ActionRefused) when the rules say no, even for two sent at the same moment
        (the unique request column decides)."""
        now = utcnow()
        try:
            with write_transaction():
                current = ServiceRequest.get_by_id(service_request.id)
                problem = cls.refusal(current, riyadh_date(now))
                if problem:
                    raise ActionRefused(problem)
                objection = cls.create(request=current, text=text, submitted_at=now, submitted_on=riyadh_date(now),
                                       due_on=due_date(riyadh_date(now)))
                for name, content_type, data in files:
                    Document.create(request=current, objection=objection, added_at=now,
                                    **StoredFile.values(name, content_type, data))
                Event.create(request=current, at=now, kind="objection", message=text, actor=owner)
                Audit.create(request=current, actor=owner, at=now, action="objection",
                             from_status=current.status, to_status=current.status)
                bump(current, now)
                return objection
        except IntegrityError:
            raise ActionRefused(cls.refusal(ServiceRequest.get_by_id(service_request.id))) from None

    def deciders_refusal(self, supervisor):
        """Why `supervisor` may not handle this objection, or None."""
        if supervisor.role != "supervisor":
            return _l("Only a supervisor decides an objection.")
        if supervisor.id in rejected_by(self.request_id):
            return _l("You made the rejection this objection is about: another supervisor decides it.")
        return None

    def start_review(self, supervisor, ip=None):
        """A supervisor starts reviewing a received objection (compare and set)."""
        cls, now = type(self), utcnow()
        problem = self.deciders_refusal(supervisor)
        if problem:
            raise ActionRefused(problem)
        with write_transaction():
            if not cls.update(status=UNDER_REVIEW, reviewer=supervisor).where(
                    (cls.id == self.id) & (cls.status == RECEIVED)).execute():
                raise ActionRefused(_l("This objection is no longer waiting to be reviewed; look at it again."))
            service_request = ServiceRequest.get_by_id(self.request_id)
            Event.create(request=service_request, at=now, kind="objection-review", actor=supervisor)
            Audit.record(supervisor, service_request, "objection-review", service_request.status,
                         service_request.status, ip)
            bump(service_request, now)
        return cls.get_by_id(self.id)

    def decide(self, supervisor, outcome, reason=None, ip=None):
        """Upheld (a reason is required) or overturned (the request becomes accepted;
        its first decision's times stay, for the figures). Of two supervisors deciding
        at the same moment, one wins; the other is refused."""
        cls, now = type(self), utcnow()
        reason = (reason or "").strip() or None
        if outcome not in (UPHELD, OVERTURNED):
            raise ActionRefused(_l("Choose whether the rejection stands or is overturned."))
        if outcome == UPHELD and not reason:
            raise ActionRefused(_l("When the rejection stands, give the reason: the resident reads it."))
        problem = self.deciders_refusal(supervisor)
        if problem:
            raise ActionRefused(problem)
        with write_transaction():
            if not cls.update(status=DECIDED, outcome=outcome, reason=reason, decided_by=supervisor,
                              decided_at=now, decided_on=riyadh_date(now)).where(
                    (cls.id == self.id) & cls.status.in_(OPEN)).execute():
                raise ActionRefused(_l("This objection was already decided; look at it again."))
            service_request = ServiceRequest.get_by_id(self.request_id)
            new_status = ACCEPTED if outcome == OVERTURNED else REJECTED
            values = dict(version=ServiceRequest.version + 1, updated_at=now, status=new_status)
            if outcome == OVERTURNED:  # the decision shown is now the acceptance, in the supervisor's words
                values.update(reason=reason, reason_choice=None)
            if not ServiceRequest.update(**values).where(
                    (ServiceRequest.id == service_request.id) & (ServiceRequest.status == REJECTED)).execute():
                raise ActionRefused(_l("Someone changed this request at the same moment; look at it again."))
            event = Event.create(request=service_request, at=now, kind=f"objection-{outcome}", status=new_status,
                                 message=reason, actor=supervisor)
            Audit.record(supervisor, service_request, f"objection-{outcome}", REJECTED, new_status, ip)
            notify_owner(service_request, outcome, event)
        return cls.get_by_id(self.id)


def bump(service_request, now):
    """A change the resident sees: a new version of the request (its panel and kept pages refresh)."""
    ServiceRequest.update(version=ServiceRequest.version + 1, updated_at=now).where(
        ServiceRequest.id == service_request.id).execute()


def rejected_by(request_id):
    """The ids of the staff who rejected this request (its timeline and its audit trail)."""
    from_events = Event.select(Event.actor).where((Event.request == request_id) & (Event.status == REJECTED)
                                                 & (Event.kind == "status") & Event.actor.is_null(False))
    from_audit = Audit.select(Audit.actor).where((Audit.request == request_id) & (Audit.action == REJECTED)
                                                 & Audit.actor.is_null(False))
    return {row.actor_id for row in from_events} | {row.actor_id for row in from_audit}


def rejecters(request_id):
    """The staff who rejected this request, as users."""
    ids = rejected_by(request_id)
    return list(User.select().where(User.id.in_(ids)).order_by(User.id)) if ids else []


def notify_owner(service_request, outcome, event):
    """The resident's SMS about the objection's decision, in their language: the
    number and a link, never the reason (see ServiceRequest.notify_owner)."""
    owner = User.get_by_id(service_request.owner_id)
    if not owner.mobile:
        return
    number = service_request.number
    url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/requests/{number}"
    with force_locale(owner.locale or "ar"):
        if outcome == UPHELD:
            text = _("Tawasul: your objection on request %(number)s was decided: the rejection stands. "
                     "Read the reason at %(url)s", number=number, url=url)
        else:
            text = _("Tawasul: your objection on request %(number)s was decided: the rejection is overturned "
                     "and the request is accepted. Details: %(url)s", number=number, url=url)
    Notice.queue(f"objection-{number}-{event.id}", owner.mobile, text, kind=f"objection-{outcome}"[:20])


def window_closed(last_day, days):
    """The refusal of a late objection, in the reader's language, when it is read."""
    from web.formatting import day_text  # the pages' own way of writing a date (it imports models)
    return ngettext("The time to object ended on %(date)s: an objection can be sent up to %(num)d day after "
                    "the decision.", "The time to object ended on %(date)s: an objection can be sent up to "
                    "%(num)d days after the decision.", days, date=day_text(last_day))


__all__ = ["DECIDED", "OBJECTION_DAYS", "OBJECTION_MIN", "OBJECTION_STATUS_LABELS", "OPEN", "OVERTURNED",
           "Objection", "RECEIVED", "UNDER_REVIEW", "UPHELD"]


OF_REQUEST = Prepared(lambda: Objection.select().where(Objection.request == slot("request")).limit(1))
