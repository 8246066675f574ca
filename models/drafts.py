"""Requests being written. A draft lives in the database so the uploaded files
survive a failed check, a 'change' link, a lost connection or a second tab. Reading
a draft never deletes anything; abandoned drafts go by age (`flask drafts purge`)."""
import datetime as dt
import re
import secrets

from peewee import JOIN, CharField, DateTimeField, ForeignKeyField, TextField

from models.base import BaseModel, Prepared, StoredFile, is_sqlite, slot, write_transaction
from models.catalogue import Service
from models.clock import utcnow
from models.users import Person, User

MAX_DRAFTS_PER_OWNER = 10  # unfinished requests kept at once (each may hold 25 MB)
DESCRIPTION_MIN, DESCRIPTION_MAX = 30, 4000  # characters: enough to decide without calling the resident
DRAFT_MAX_AGE_DAYS = 7  # `flask drafts purge` removes drafts untouched for longer
TOKEN_BYTES = 24
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")  # what secrets.token_urlsafe(TOKEN_BYTES) makes


def new_token():
    return secrets.token_urlsafe(TOKEN_BYTES)


class TooManyDrafts(ValueError):
    """The owner already keeps MAX_DRAFTS_PER_OWNER unfinished requests."""


class Draft(BaseModel):
    token = CharField(max_length=64, unique=True, default=new_token)
    owner = ForeignKeyField(User, on_delete="CASCADE")
    service = ForeignKeyField(Service, null=True, on_delete="SET NULL")
    person = ForeignKeyField(Person, null=True, on_delete="SET NULL")
    description = TextField(default="")
    updated_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("owner", "updated_at"), False),)

    @staticmethod
    def is_token(value):
        """True for a value shaped like a draft's token (none is longer)."""
        return bool(TOKEN_SHAPE.fullmatch(value))

    @classmethod
    def of_owner(cls, user, token):
        return cls.get_or_none((cls.owner == user) & (cls.token == (token or "")))

    @classmethod
    def start(cls, user):
        """A new draft, saved only when the resident sends the form."""
        return cls(owner=user)

    @classmethod
    def open_for(cls, user):
        """The owner's unfinished requests, the last touched first."""
        return OPEN_FOR(owner=getattr(user, "id", user))

    @classmethod
    def limit_reached(cls, user, hold=False):
        """True when `user` keeps the most drafts. With `hold` (in a write transaction,
        before adding one) the owner's other saves wait until this transaction ends,
        so two at once cannot both take the last place: SQLite's write lock does that
        already; on PostgreSQL, whose reads never wait, the owner's row is locked (in
        the mode that still lets rows that refer to it be written)."""
        if hold and not is_sqlite():
            User.select(User.id).where(User.id == getattr(user, "id", user)).for_update("FOR NO KEY UPDATE").execute()
        return cls.select().where(cls.owner == user).count() >= MAX_DRAFTS_PER_OWNER

    def save_from(self, service, person, description, remove_ids, files, max_files):
        """Keep what was typed and the accepted files (name, content type, bytes), in
        one transaction, even when something else on the form is wrong. Returns the
        names of the files left out because the draft already holds `max_files`."""
        with write_transaction():
            self.service = service
            self.person = person or self.person
            self.description = description or ""
            self.updated_at = utcnow()
            if self.id is not None and not self.save():  # sent or deleted in another tab a moment ago:
                self.id, self.token = None, new_token()  # what was typed goes into a new draft
            if self.id is None:
                if Draft.limit_reached(self.owner_id, hold=True):
                    raise TooManyDrafts()
                self.save(force_insert=True)
            if remove_ids:
                DraftFile.delete().where((DraftFile.draft == self) & DraftFile.id.in_(remove_ids)).execute()
            room = max_files - self.file_count()
            for name, content_type, data in files[:max(room, 0)]:
                self.add_file(name, content_type, data)
        return [name for name, _type, _data in files[max(room, 0):]]

    @classmethod
    def held(cls, draft_id):
        """The draft as it is now, in a write transaction, or None; on PostgreSQL its
        row stays locked until the transaction ends (SQLite's write lock holds it all)."""
        query = cls.select().where(cls.id == draft_id)
        if not is_sqlite():
            query = query.for_update()
        return query.first()

    def problems(self):
        """What still keeps this draft from being sent, as codes (empty: ready):
        "service", "person" (none, or not linked to the owner), "eligibility",
        "description" (length) and "documents" (none attached)."""
        found = []
        if not self.service_id:
            found.append("service")
        if not self.person_id or self.person.sponsor_id_number != self.owner.id_number:
            found.append("person")
        elif self.service_id and self.service.ineligibility(self.person):
            found.append("eligibility")
        if not DESCRIPTION_MIN <= len(self.description.strip()) <= DESCRIPTION_MAX:
            found.append("description")
        if not self.file_count():
            found.append("documents")
        return found

    def files(self):
        return (DraftFile.select(DraftFile.id, DraftFile.name, DraftFile.content_type, DraftFile.size)
                .where(DraftFile.draft == self).order_by(DraftFile.id))

    def file_count(self):
        return DraftFile.select().where(DraftFile.draft == self).count() if self.id else 0

    def add_file(self, name, content_type, data):
        return DraftFile.create(draft=self, **StoredFile.values(name, content_type, data))

    def delete_with_files(self):
        with write_transaction():
            DraftFile.delete().where(DraftFile.draft == self).execute()
            self.delete_instance()

    @classmethod
    def purge_older_than(cls, days):
        cutoff = utcnow() - dt.timedelta(days=days)
        stale = cls.select(cls.id).where(cls.updated_at < cutoff)
        with write_transaction():
            DraftFile.delete().where(DraftFile.draft.in_(stale)).execute()
            return cls.delete().where(cls.updated_at < cutoff).execute()


class DraftFile(StoredFile):
    draft = ForeignKeyField(Draft, backref="draft_files", on_delete="CASCADE")


OPEN_FOR = Prepared(lambda: Draft.select(Draft, Service).join(Service, JOIN.LEFT_OUTER)
                    .where(Draft.owner == slot("owner")).order_by(Draft.updated_at.desc(), Draft.id.desc()))
