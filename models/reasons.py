"""Ready-made reasons kept by supervisors: add one (for a service or for all), reword
one, retire one; and `ReasonChange`, the append-only record of each change (the
database refuses UPDATE and DELETE on it: triggers from migration 0010).

A reworded reason is a new row that replaces the old one, which is retired: a row's
words never change once a supervisor touched it, so every decision keeps the words it
was given with, and pages kept by version (web/rendered.py) never go stale. Shipped
reasons (catalogue_data.py) are added at start when missing and never written over
a supervisor's change (Reason.sync_catalogue)."""
import secrets

from flask_babel import lazy_gettext as _l
from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, TextField

from models.base import BaseModel, lock_for_transaction, write_transaction
from models.catalogue import Reason, Service
from models.clock import utcnow
from models.statuses import ActionRefused
from models.users import User

KINDS = ("accept", "reject")
ADDED, REWORDED, RETIRED = "add", "reword", "retire"
CHANGE_LABELS = {ADDED: _l("Added"), REWORDED: _l("Reworded"), RETIRED: _l("Retired")}
KIND_LABELS = {"accept": _l("Acceptance"), "reject": _l("Rejection")}
TEXT_MAX = 500
RETIRED_REASON = _l("The ready-made reason you chose was retired a moment ago: choose another one. "
                    "What you wrote is kept.")


class ReasonRetired(ActionRefused):
    """The ready-made reason chosen was retired (or reworded) a moment ago."""


class ReasonChange(BaseModel):
    """Who changed which ready-made reason, when, how, and its words before and after."""
    reason = ForeignKeyField(Reason, backref="+", on_delete="RESTRICT")  # the row added, new or retired
    previous = ForeignKeyField(Reason, null=True, backref="+", on_delete="RESTRICT")  # a rewording: the old row
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")  # None: the command line
    at = DateTimeField(default=utcnow, index=True)
    action = CharField(max_length=10)  # add, reword, retire
    old_text_ar = TextField(null=True)
    old_text_en = TextField(null=True)
    new_text_ar = TextField(null=True)
    new_text_en = TextField(null=True)

    class Meta:
        table_name = "reason_change"

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise PermissionError("the record of reason changes is append-only")
        return super().save(*args, **kwargs)

    @property
    def label(self):
        return CHANGE_LABELS[self.action]

    @classmethod
    def latest(cls, limit=100, reasons=None):
        """The latest changes first (of these `reasons` only, when given), with the
        reason, its service and who made them."""
        query = (cls.select(cls, Reason, Service, User)
                 .join(Reason, on=(cls.reason == Reason.id))
                 .join(Service, JOIN.LEFT_OUTER, on=(Reason.service == Service.id)).switch(cls)
                 .join(User, JOIN.LEFT_OUTER, on=(cls.actor == User.id), attr="actor"))
        if reasons is not None:
            query = query.where(cls.reason.in_([getattr(r, "id", r) for r in reasons]))
        return query.order_by(cls.at.desc(), cls.id.desc()).limit(limit)


def kept_reasons():
    """Every reason, for the supervisors' page: for all services first, then by
    service, each group by kind, current ones before retired ones."""
    return (Reason.select(Reason, Service).join(Service, JOIN.LEFT_OUTER)
            .order_by(Service.position.is_null(False), Service.position, Reason.kind,
                      Reason.retired_at.is_null(False), Reason.id))


def add_reason(actor, service, kind, text_ar, text_en):
    """A new ready-made reason for `service` (None: every service)."""
    if kind not in KINDS:
        raise ValueError(kind)
    with write_transaction():
        reason = Reason.create(code=new_code(), kind=kind, service=service, text_ar=text_ar, text_en=text_en)
        ReasonChange.create(reason=reason, actor=actor, action=ADDED, new_text_ar=text_ar, new_text_en=text_en)
    return reason


def reword_reason(actor, reason, text_ar, text_en):
    """New words for a current reason: the old row is retired and a new one replaces
    it (same service and kind). Refused when it was retired meanwhile."""
    with write_transaction():
        old = retire_current(reason)
        new = Reason.create(code=new_code(), kind=old.kind, service=old.service_id, text_ar=text_ar,
                            text_en=text_en, replaces=old)
        ReasonChange.create(reason=new, previous=old, actor=actor, action=REWORDED, old_text_ar=old.text_ar,
                            old_text_en=old.text_en, new_text_ar=text_ar, new_text_en=text_en)
    return new


def retire_reason(actor, reason):
    """No longer offered to officers; the decisions that used it still show it."""
    with write_transaction():
        old = retire_current(reason)
        ReasonChange.create(reason=old, actor=actor, action=RETIRED, old_text_ar=old.text_ar,
                            old_text_en=old.text_en)
    return old


def retire_current(reason):
    """Inside write_transaction(): retire the reason if it is current (compare and
    set; officers deciding with it wait on the same lock), else ReasonRetired."""
    lock_for_transaction("reason", str(reason.id))
    if not Reason.update(retired_at=utcnow()).where((Reason.id == reason.id) & Reason.retired_at.is_null()).execute():
        raise ReasonRetired(_l("This reason was retired or reworded a moment ago; look at the list again."))
    return Reason.get_by_id(reason.id)


def new_code():
    """A code for a reason a supervisor wrote (shipped ones have names)."""
    return f"kept-{secrets.token_hex(8)}"


def lineage(reason):
    """The reason and those it reworded, newest first (a short chain)."""
    chain = [reason]
    while chain[-1].replaces_id is not None and len(chain) < 100:
        chain.append(Reason.get_by_id(chain[-1].replaces_id))
    return chain
