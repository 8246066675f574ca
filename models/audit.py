"""The append-only record of every staff action. The database itself refuses UPDATE
and DELETE on it (triggers, created by the first migration on both engines)."""
from peewee import JOIN, CharField, DateTimeField, DeferredForeignKey, ForeignKeyField, TextField

from models.base import BaseModel
from models.clock import utcnow
from models.users import User


class Audit(BaseModel):
    """Who did what to which request, when, from which status to which, and from where."""
    request = DeferredForeignKey("ServiceRequest", on_delete="RESTRICT")
    actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")  # None: the command line
    at = DateTimeField(default=utcnow)
    action = CharField(max_length=20)
    from_status = CharField(max_length=20)
    to_status = CharField(max_length=20)
    ip = CharField(max_length=45, null=True)
    note = TextField(null=True)  # assign / reassign / release: why (a supervisor's reason, "away" ...)
    assignee = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")  # assign / reassign: to whom

    @classmethod
    def record(cls, actor, service_request, action, from_status, to_status, ip=None, note=None, assignee=None):
        if actor is not None and not actor.is_staff:
            return None  # residents' own steps are in the timeline
        return cls.create(request=service_request, actor=actor, action=action,
                          from_status=from_status, to_status=to_status, ip=ip, note=note, assignee=assignee)

    @classmethod
    def of_request(cls, service_request):
        given_to = User.alias()
        return (cls.select(cls, User, given_to)
                .join(User, JOIN.LEFT_OUTER, on=(cls.actor == User.id)).switch(cls)
                .join(given_to, JOIN.LEFT_OUTER, on=(cls.assignee == given_to.id))
                .where(cls.request == service_request).order_by(cls.at, cls.id))

    def save(self, *args, **kwargs):
        if self.id is not None:
            raise PermissionError("the audit trail is append-only")
        return super().save(*args, **kwargs)
