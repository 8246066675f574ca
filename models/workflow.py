"""A request's life: the request itself, from submission through the moves
between its statuses (models.statuses) to a decision, its timeline of events and
its documents. Its deadline is models.deadlines.RequestDeadline."""

import datetime as dt

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import (
    JOIN,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DeferredForeignKey,
    FloatField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
    Tuple,
    Value,
)

from models.audit import Audit
from models.base import BaseModel, Prepared, StoredFile, lock_for_transaction, slot, write_transaction
from models.catalogue import Reason, Service
from models.clock import riyadh_date, riyadh_today, utcnow
from models.deadlines import DayOff, RequestDeadline, due_date
from models.drafts import Draft, DraftFile, TooManyDrafts
from models.notices import Notice
from models.reasons import RETIRED_REASON, ReasonRetired
from models.rules import REQUEST_NUMBER_LENGTH, new_request_number, normalize_digits
from models.statuses import (
    ACCEPTED,
    FINAL_STATUSES,
    OPEN_STATUSES,
    RECEIVED,
    REJECTED,
    RETURNED,
    STATUS_LABELS,
    TRANSITIONS,
    UNDER_REVIEW,
    ActionRefused,
)
from models.users import Person, User


class ServiceRequest(RequestDeadline, BaseModel):
    number = CharField(max_length=REQUEST_NUMBER_LENGTH, unique=True)
    owner = ForeignKeyField(User, backref="requests", on_delete="CASCADE")
    person = ForeignKeyField(Person, on_delete="RESTRICT")
    service = ForeignKeyField(Service, on_delete="RESTRICT")
    description = TextField()
    status = CharField(max_length=20, default=RECEIVED, index=True)
    assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")  # the officer holding it
    reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")  # ready-made reason
    reason = TextField(null=True)  # the decision's written reason, shown to the resident
    submitted_at = DateTimeField(default=utcnow, index=True)
    submitted_on = DateField(index=True)  # Riyadh date, for the daily figures
    due_on = DateField()  # moves later while the request waits on the resident
    paused_at = DateTimeField(null=True)  # set while returned to the applicant
    waiting_days = IntegerField(default=0)  # working days spent waiting on the resident
    decided_at = DateTimeField(null=True)
    decided_on = DateField(null=True, index=True)  # Riyadh date
    hours_to_decision = FloatField(null=True)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)  # bumped on every change the resident can see
    draft_token = CharField(max_length=64, unique=True)  # one request per confirmed draft

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def awaits_staff(self):
        """Received or under review: only then can the status change without the resident."""
        return self.status in (RECEIVED, UNDER_REVIEW)

    @classmethod
    def of_owner(cls, user):
        """The owner's requests, newest first, with what My requests shows of each."""
        return OF_OWNER(owner=getattr(user, "id", user))

    @classmethod
    def unused_number(cls):
        """A new request number no request has yet (the numbers are random)."""
        number = new_request_number()
        while cls.select().where(cls.number == number).exists():
            number = new_request_number()
        return number

    @classmethod
    def numbered(cls, number, owner=None):
        """The request with this number (only among `owner`'s, when given), or None,
        with its service and person: every page shows them."""
        if owner is None:
            return NUMBERED.first(number=number)
        return NUMBERED_OF_OWNER.first(number=number, owner=getattr(owner, "id", owner))

    @classmethod
    def undecided_like(cls, owner, person, service):
        """The owner's undecided requests for this person (by identity number, so the
        same person linked under another sponsor counts) and this service, newest
        first: what a new request would duplicate. Only the owner's own: another
        account's request for the same person is none of this resident's business
        (the officer sees it, see `of_same_person`). Read by the person's index (a
        person has a handful of undecided requests), then sifted here: in SQL the
        owner's or the service's index may look as good to a planner without
        statistics, and a service has millions."""
        owner_id, service_id = getattr(owner, "id", owner), getattr(service, "id", service)
        return [found for found in cls.undecided_of_person(person)
                if found.owner_id == owner_id and found.service_id == service_id]

    @classmethod
    def undecided_of_person(cls, person):
        return (cls.select(cls.number, cls.status, cls.submitted_at, cls.owner, cls.service)
                .where(cls.person.in_(same_person_ids(person)) & cls.decided_at.is_null())
                .order_by(cls.submitted_at.desc(), cls.id.desc()))

    def of_same_person(self, decided_limit=3):
        """The person's other requests, by any account, for the officer's page:
        (undecided ones by deadline, the last `decided_limit` decided ones). Both read
        by index: the undecided by the partial index on (person, due date), the
        decided by the index on person (a person has a handful of requests)."""
        undecided, decided = self.same_person_queries(decided_limit)
        return list(undecided), list(decided)

    def same_person_queries(self, decided_limit=3):
        cls = type(self)
        base = (cls.select(cls.id, cls.number, cls.status, cls.submitted_at, cls.due_on, cls.decided_at,
                           cls.service, Service).join(Service)
                .where(cls.person.in_(same_person_ids(self.person)) & (cls.id != self.id)))
        undecided = base.where(cls.decided_at.is_null()).order_by(cls.due_on, cls.id)
        decided = (base.where(cls.decided_at.is_null(False)).order_by(cls.decided_at.desc(), cls.id.desc())
                   .limit(decided_limit))
        return undecided, decided

    @classmethod
    def sent_from_draft(cls, user, token):
        """The owner's request made from this draft, if it was confirmed already."""
        return cls.get_or_none((cls.draft_token == (token or "")) & (cls.owner == user))

    @classmethod
    def submit(cls, draft):
        """Turn a confirmed draft into a request, with its documents and first event,
        in one transaction, where the rule also gives it to an officer
        (models.assignment; with nobody available it waits unassigned). The draft is
        read again inside it, as it is now (another tab may have changed it since it
        was checked): None when it is gone or no longer ready. A draft confirmed
        twice, even at the same moment, gives one request: the unique draft_token
        decides."""
        from models.assignment import assign_waiting  # models.assignment builds on this module
        try:
            with write_transaction():
                current = Draft.held(draft.id)  # first: waits for a confirmation of it under way
                existing = cls.get_or_none(cls.draft_token == draft.token)
                if existing is not None:
                    return existing
                created = None if current is None or current.problems() else cls._create_from(current)
        except IntegrityError:
            existing = cls.get_or_none(cls.draft_token == draft.token)
            if existing is None:
                raise
            return existing
        if created is not None and created.assignee_id is not None:
            assign_waiting()  # someone is available: requests that waited for one go before the next
        return created

    @classmethod
    def _create_from(cls, draft):
        from models.assignment import assign  # models.assignment builds on this module
        now = utcnow()
        created = cls.create(number=cls.unused_number(), owner=draft.owner, person=draft.person,
                             service=draft.service, description=draft.description,
                             submitted_at=now, submitted_on=riyadh_date(now), updated_at=now,
                             draft_token=draft.token, due_on=due_date(riyadh_date(now)))
        fields = [DraftFile.name, DraftFile.content_type, DraftFile.size, DraftFile.sha256, DraftFile.data]
        Document.insert_from(
            DraftFile.select(Value(created.id), Value(now), *fields).where(DraftFile.draft == draft),
            [Document.request, Document.added_at, Document.name, Document.content_type,
             Document.size, Document.sha256, Document.data]).execute()
        Event.create(request=created, at=now, kind="submitted", status=RECEIVED)
        draft.delete_instance(recursive=True)
        officer = assign(created)
        created.assignee = officer
        return created

    # ------------------------------------------------------------ workflow
    # Every change checks the state it expects inside its UPDATE (compare and set),
    # so of two officers acting at the same moment exactly one wins.

    def refusal(self, new_status, actor=None):
        """Why this request (as loaded) cannot move to new_status, or None."""
        if self.is_final:
            return _l("This request was already decided (“%(status)s”); a decision is final.",
                      status=STATUS_LABELS[self.status])
        if self.status not in TRANSITIONS.get(new_status, ()):
            return _l("A request that is “%(current)s” cannot become “%(new)s”.",
                      current=STATUS_LABELS[self.status], new=STATUS_LABELS[new_status])
        if actor is not None and actor.is_staff and self.status == RETURNED:
            return _l("This request waits for the resident's answer; only the answer resumes the review.")
        if actor is not None and actor.is_staff and self.assignee_id not in (None, actor.id):
            return _l("%(name)s is working on this request.", name=self.assignee.full_name)
        return None

    def change_status(self, new_status, actor=None, message=None, reason_choice=None, ip=None):
        """Move to new_status: received -> under review -> accepted / rejected, and
        under review <-> returned. A staff actor takes the request if nobody holds it."""
        message = (message or "").strip() or None
        if new_status == REJECTED and not (message or reason_choice):
            raise ActionRefused(_l("A rejection needs a reason the resident can read."))
        if new_status == RETURNED and not message:
            raise ActionRefused(_l("Say what is missing: the resident reads this message."))
        cls, now = type(self), utcnow()
        with write_transaction():
            current = cls.get_by_id(self.id)
            problem = current.refusal(new_status, actor)
            if problem:
                raise ActionRefused(problem)
            if reason_choice is not None and not Reason.still_offered(reason_choice):
                raise ReasonRetired(RETIRED_REASON)
            values = dict(status=new_status, version=cls.version + 1, updated_at=now,
                          **current.clock_values(new_status, now))
            condition = (cls.id == self.id) & (cls.status == current.status)
            if actor is not None and actor.is_staff:
                values["assignee"] = actor
                condition &= cls.assignee.is_null() | (cls.assignee == actor)
            if new_status in FINAL_STATUSES:
                values.update(reason=message, reason_choice=reason_choice, decided_at=now,
                              decided_on=riyadh_date(now),
                              hours_to_decision=(now - current.submitted_at).total_seconds() / 3600)
            if not cls.update(**values).where(condition).execute():
                raise ActionRefused(_l("Someone changed this request at the same moment; "
                                         "look at it again."))
            kind = "answer" if actor is not None and actor.id == current.owner_id else "status"
            event = Event.create(request=self, at=now, kind=kind, status=new_status, message=message,
                                 reason_choice=reason_choice, actor=actor)
            Audit.record(actor, current, new_status, current.status, new_status, ip)
            if new_status in (RETURNED, ACCEPTED, REJECTED):
                current.notify_owner(event)
        return cls.get_by_id(self.id)

    def notify_owner(self, event):
        """The resident's SMS about a return or a decision, in their language: the
        number and a link to the request's page, never the reason (an SMS is read
        over shoulders). Queued in the caller's transaction; the event's id keeps it
        one notice per change. An account from before sign-up by SMS has no proven
        mobile (User.mobile is NULL): it gets no SMS, only the page."""
        owner = User.get_by_id(self.owner_id)
        if not owner.mobile:
            return
        url = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/requests/{self.number}"
        with force_locale(owner.locale or "ar"):
            if event.status == RETURNED:
                text = _("Tawasul: your request %(number)s needs more information from you. "
                         "Read what is missing and answer at %(url)s", number=self.number, url=url)
            elif event.status == ACCEPTED:
                text = _("Tawasul: your request %(number)s was accepted. Details: %(url)s",
                         number=self.number, url=url)
            else:
                text = _("Tawasul: your request %(number)s was rejected. Read the reason at %(url)s",
                         number=self.number, url=url)
        Notice.queue(f"request-{self.number}-{event.id}", owner.mobile, text, kind=event.status)

    def answer(self, owner, message, files):
        """The resident answers a return: text and/or documents, then back to review."""
        with write_transaction():
            for name, content_type, data in files:
                Document.create(request=self, **StoredFile.values(name, content_type, data))
            return self.change_status(UNDER_REVIEW, actor=owner, message=message)

    def claim(self, officer, ip=None):
        """Hold this request; refused with who holds it when another officer does."""
        cls = type(self)
        with write_transaction():
            taken = cls.update(assignee=officer).where(
                (cls.id == self.id) & cls.assignee.is_null() & cls.decided_at.is_null()).execute()
            current = cls.get_by_id(self.id)
            if not taken:
                if current.is_final:
                    raise ActionRefused(current.refusal(current.status))
                if current.assignee_id != officer.id:
                    raise ActionRefused(_l("%(name)s is working on this request.",
                                             name=current.assignee.full_name))
                return current
            Event.create(request=self, kind="claim", actor=officer, internal=True)
            Audit.record(officer, current, "claim", current.status, current.status, ip)
        return current

    def release(self, officer, ip=None):
        """Give the request back (its holder, or a supervisor for anyone): the rule
        (models.assignment) gives it to another available officer at once, never to
        the one who held it; with nobody else available it waits in the shared
        queue, where any officer may take it."""
        from models.assignment import assign  # models.assignment builds on this module
        cls = type(self)
        condition = (cls.id == self.id) & cls.assignee.is_null(False) & cls.decided_at.is_null()
        if officer.role != "supervisor":
            condition &= cls.assignee == officer
        with write_transaction():
            lock_for_transaction("assignment")  # first, as every assignment: no deadlock on the row
            holder = cls.get_by_id(self.id).assignee_id
            if not cls.update(assignee=None).where(condition & (cls.assignee == holder)).execute():
                current = cls.get_by_id(self.id)
                raise ActionRefused(current.refusal(current.status) if current.is_final
                                      else _l("You do not hold this request."))
            current = cls.get_by_id(self.id)
            Event.create(request=self, kind="release", actor=officer, internal=True)
            Audit.record(officer, current, "release", current.status, current.status, ip)
            assign(current, exclude=holder)
        return cls.get_by_id(self.id)

    def add_note(self, officer, text, ip=None):
        """An internal note: staff see it, the resident never does."""
        text = (text or "").strip()
        if not text:
            raise ActionRefused(_l("Write the note first."))
        with write_transaction():
            Event.create(request=self, kind="note", message=text, actor=officer, internal=True)
            Audit.record(officer, self, "note", self.status, self.status, ip)

    def draft_again(self):
        """A new draft for a rejected request's owner, with its service, person and
        description filled in; the documents are chosen again (they may be what the
        reason asked to change). TooManyDrafts when the owner keeps the most already."""
        with write_transaction():
            if Draft.limit_reached(self.owner_id, hold=True):
                raise TooManyDrafts()
            return Draft.create(owner=self.owner_id, service=self.service_id, person=self.person_id,
                                description=self.description)

    @classmethod
    def queue(cls, officer, status=None, service=None, overdue=False, mine=False,
              unassigned=False, search=None, after=None, limit=50, today=None, unassigned_first=False):
        """Undecided requests, soonest deadline first, with keyset pagination on
        (due_on, id): each page is an index range scan, however deep. With
        `unassigned_first` (the supervisors' view) those nobody holds come first: the
        keyset is then (held, due_on, id), `after` a triple. Each row holds what the
        queue shows (its service and holder with it), nothing more.

        The SQL is built once per shape (which filters are on), then run with this
        call's values (models.base.Prepared): building it cost as much as reading
        fifty rows."""
        digits = normalize_digits(search) if search else ""
        by_number = len(digits) == REQUEST_NUMBER_LENGTH
        keyset = len(after) if after and len(after) == (3 if unassigned_first else 2) else 0
        shape = (status in OPEN_STATUSES, bool(service), bool(overdue), bool(mine), bool(unassigned),
                 ("number" if by_number else "person") if search else None, keyset, limit, unassigned_first)
        prepared = QUEUES.get(shape)
        if prepared is None:
            prepared = QUEUES.setdefault(shape, Prepared(lambda: cls.queue_query(*shape)))
        values = dict(officer=getattr(officer, "id", officer), status=status, service=service,
                      today=(today or riyadh_today()).isoformat(), search=digits)
        values.update({f"after{index}": value.isoformat() if isinstance(value, dt.date) else value
                       for index, value in enumerate(after or ()) if keyset})
        return prepared(**values)

    @classmethod
    def queue_query(cls, status, service, overdue, mine, unassigned, search, keyset, limit, unassigned_first):
        """The queue's query for one shape, with a slot for each value (see queue())."""
        assignee = User.alias()  # no join to the person: the queue does not show them
        query = (cls.select(cls.id, cls.number, cls.status, cls.due_on, cls.submitted_on, cls.version,
                            cls.service, cls.assignee, Service.id, Service.name_ar, Service.name_en,
                            assignee.id, assignee.full_name)
                 .join(Service).switch(cls)
                 .join(assignee, JOIN.LEFT_OUTER, on=(cls.assignee == assignee.id))
                 .where(cls.decided_at.is_null()))
        if status:
            query = query.where(cls.status == slot("status"))
        if service:
            query = query.where(Service.code == slot("service"))
        if overdue:
            query = query.where(cls.overdue_on(slot("today")))
        if mine:
            query = query.where(cls.assignee == slot("officer"))
        if unassigned:
            query = query.where(cls.assignee.is_null())
        if search == "number":  # a request number (9 digits) or a person's identity number (10)
            query = query.where(cls.number == slot("search"))
        elif search:  # a join, not IN (subquery): with IN, SQLite read the whole open queue in order
            query = query.switch(cls).join(Person).where(Person.id_number == slot("search"))
        order = (cls.assignee.is_null(False), cls.due_on, cls.id) if unassigned_first else (cls.due_on, cls.id)
        if keyset:
            query = query.where(Tuple(*order) > Tuple(*(slot(f"after{index}") for index in range(keyset))))
        return query.order_by(*order).limit(limit)

    @classmethod
    def catalogue_changed(cls, services, reasons):
        """Requests that show a service name or a reason whose text changed get a new
        version, so kept pages (web/rendered.py) and open panels show the new text."""
        if not (services or reasons):
            return 0
        with_reason = Event.select(Event.request).where(Event.reason_choice.in_(reasons))
        return cls.update(version=cls.version + 1).where(
            cls.service.in_(services) | cls.reason_choice.in_(reasons) | cls.id.in_(with_reason)).execute()

    @classmethod
    def release_held_by(cls, officer):
        """Every undecided request the officer holds goes to others (the rule), or back to the queue."""
        held = list(cls.select().where((cls.assignee == officer) & cls.decided_at.is_null()))
        for service_request in held:
            service_request.release(officer)
        return len(held)


class Event(BaseModel):
    """One line of a request's timeline."""
    request = ForeignKeyField(ServiceRequest, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=20)  # submitted, status, answer, claim, release, note, assign, reassign
    status = CharField(max_length=20, null=True)
    message = TextField(null=True)
    reason_choice = ForeignKeyField(Reason, null=True, on_delete="SET NULL")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    internal = BooleanField(default=False)  # staff only: never shown to the resident

    @classmethod
    def timeline(cls, service_request, staff=False):
        return (TIMELINE if staff else PUBLIC_TIMELINE)(request=service_request.id)

    @classmethod
    def last_id(cls, service_request):
        """The id of the request's latest event (internal ones too), or None."""
        return (cls.select(cls.id).where(cls.request == service_request)
                .order_by(cls.id.desc()).limit(1).scalar())


class Document(StoredFile):
    request = ForeignKeyField(ServiceRequest, backref="documents", on_delete="CASCADE")
    added_at = DateTimeField(default=utcnow)
    objection = DeferredForeignKey("Objection", null=True, on_delete="CASCADE")  # sent with the objection

    @classmethod
    def listing(cls, service_request):
        """Documents without their bytes."""
        return DOCUMENTS(request=service_request.id)

    @classmethod
    def of_request(cls, service_request, document_id):
        return cls.get_or_none((cls.id == document_id) & (cls.request == service_request))


def same_person_ids(person):
    """The registry's entries for this person's identity number: a person linked to
    two sponsors (a worker who moved, a grown child) has one entry under each."""
    return Person.select(Person.id).where(Person.id_number == person.id_number)


# The queries every page of a request makes, built once (models.base.Prepared).
def _numbered(condition):
    return (ServiceRequest.select(ServiceRequest, Service, Person).join(Service).switch(ServiceRequest)
            .join(Person).where(condition).limit(1))


OF_OWNER = Prepared(lambda: ServiceRequest.select(ServiceRequest.id, ServiceRequest.number, ServiceRequest.status,
                                                  ServiceRequest.submitted_at, ServiceRequest.service, Service)
                    .join(Service).where(ServiceRequest.owner == slot("owner"))
                    .order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc()))
QUEUES = {}  # the queue's shape -> its Prepared query (ServiceRequest.queue)
NUMBERED = Prepared(lambda: _numbered(ServiceRequest.number == slot("number")))
NUMBERED_OF_OWNER = Prepared(lambda: _numbered((ServiceRequest.number == slot("number"))
                                               & (ServiceRequest.owner == slot("owner"))))
TIMELINE = Prepared(lambda: Event.select().where(Event.request == slot("request")).order_by(Event.at, Event.id))
PUBLIC_TIMELINE = Prepared(lambda: Event.select().where((Event.request == slot("request"))
                                                        & (Event.internal == False))  # noqa: E712 (SQL)
                           .order_by(Event.at, Event.id))
DOCUMENTS = Prepared(lambda: Document.select(Document.id, Document.name, Document.content_type, Document.size,
                                             Document.sha256, Document.added_at, Document.objection)
                     .where(Document.request == slot("request")).order_by(Document.id))


def add_day_off(day, name):
    """The directorate adds a day off; open deadlines move with it, in one transaction."""
    with write_transaction():
        DayOff.add(day, name)
        return ServiceRequest.reschedule_open()


def remove_day_off(day):
    """Take back a day the directorate added: (was it there, deadlines moved)."""
    with write_transaction():
        if not DayOff.remove(day):
            return False, 0
        return True, ServiceRequest.reschedule_open()
