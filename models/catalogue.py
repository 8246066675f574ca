"""The services Tawasul handles and the ready-made decision reasons: database rows
written from catalogue_data.py, so officers and figures can refer to them."""
import re

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField, chunked

from models.base import BaseModel, Prepared, lock_for_transaction, write_transaction
from models.catalogue_data import REASON_CATALOGUE, SERVICE_CATALOGUE, SERVICE_GUIDE


def in_language(locale, arabic, english):
    """`arabic` or `english` for a Babel Locale or a language code ("ar", "en_US")."""
    return arabic if (getattr(locale, "language", None) or str(locale)).startswith("ar") else english


class Service(BaseModel):
    code = CharField(max_length=30, unique=True)
    position = IntegerField(default=0)
    name_ar = CharField(max_length=200)
    name_en = CharField(max_length=200)
    documents_ar = TextField(default="")
    documents_en = TextField(default="")
    id_types = CharField(max_length=60, default="")  # comma separated; empty: any
    nationalities = CharField(max_length=60, default="")  # comma separated; empty: any

    def name(self, locale):
        return in_language(locale, self.name_ar, self.name_en)

    def documents(self, locale):
        return in_language(locale, self.documents_ar, self.documents_en)

    def required_documents(self, locale):
        """The required documents as a list ("، " or ", " separate them in the data)."""
        return [d.strip() for d in re.split("[،,]", self.documents(locale)) if d.strip()]

    def guide(self, locale):
        """The service page's texts in this language: conditions (list), helpful
        documents (list), what follows an acceptance (text). Empty for an unknown code."""
        entry = SERVICE_GUIDE.get(self.code)
        if entry is None:
            return dict(conditions=[], helpful=[], after="")
        suffix = "_ar" if str(locale).startswith("ar") else "_en"
        return {key: entry[key + suffix] for key in ("conditions", "helpful", "after")}

    @property
    def id_type_rule(self):
        return [t for t in self.id_types.split(",") if t]

    @property
    def nationality_rule(self):
        return [n for n in self.nationalities.split(",") if n]

    def ineligibility(self, person):
        """Which rule keeps `person` from this service: "nationality", "id_type", or
        None when they may apply (e.g. visit-visa extension: YE and SY only)."""
        if self.nationality_rule and person.nationality not in self.nationality_rule:
            return "nationality"
        if self.id_type_rule and person.id_type not in self.id_type_rule:
            return "id_type"
        return None

    @classmethod
    def ordered(cls):
        """Every service in the catalogue's order (a list)."""
        return ORDERED()

    @classmethod
    def by_code(cls, code):
        """The service with this code, or None (any string is safe to pass)."""
        if not isinstance(code, str) or len(code) > 30:
            return None
        return cls.get_or_none(cls.code == code)

    @classmethod
    def sync_catalogue(cls):
        cls.upsert([dict(entry, position=position, id_types=",".join(entry["id_types"]),
                         nationalities=",".join(entry["nationalities"]))
                    for position, entry in enumerate(SERVICE_CATALOGUE)], key=("code",))


class Reason(BaseModel):
    """A ready-made reason, for one service or (service None) for all. Supervisors
    keep them (models/reasons.py): a row's words never change once a supervisor
    touched it; a rewording is a new row that `replaces` the old one, which is
    retired, so every decision keeps pointing at the words it was given with."""
    code = CharField(max_length=40, unique=True)
    kind = CharField(max_length=10)  # accept, reject
    service = ForeignKeyField(Service, null=True, on_delete="CASCADE")
    text_ar = TextField()
    text_en = TextField()
    retired_at = DateTimeField(null=True)  # no longer offered to officers
    replaces = ForeignKeyField("self", null=True, on_delete="RESTRICT")  # the reason this one rewords

    def text(self, locale):
        return in_language(locale, self.text_ar, self.text_en)

    @property
    def is_retired(self):
        return self.retired_at is not None

    @classmethod
    def current(cls):
        return cls.select().where(cls.retired_at.is_null())

    @classmethod
    def for_service(cls, service):
        """The reasons offered to an officer deciding a request for this service."""
        return (cls.current().where(cls.service.is_null() | (cls.service == service))
                .order_by(cls.kind, cls.service.is_null(), cls.id))

    @classmethod
    def still_offered(cls, reason):
        """Inside write_transaction(): is this reason still current? Waits for a
        supervisor retiring it at this moment (they take the same lock), so a decision
        never records a reason retired before it."""
        lock_for_transaction("reason", str(reason.id))
        return cls.current().where(cls.id == reason.id).exists()

    @classmethod
    def sync_catalogue(cls):
        """Shipped reasons missing from the table are added; a shipped one that no
        supervisor touched takes the shipped words (a correction in a release); one a
        supervisor retired or reworded (the old row is retired then) is left as it is."""
        services = {s.code: s.id for s in Service.select(Service.id, Service.code)}
        rows = [dict(entry, service=services.get(entry["service"])) for entry in REASON_CATALOGUE]
        fields = [cls.kind, cls.service, cls.text_ar, cls.text_en]
        for batch in chunked(rows, 200):
            cls.insert_many(batch).on_conflict(conflict_target=[cls.code], preserve=fields,
                                               where=cls.retired_at.is_null()).execute()


def sync_catalogues():
    """Write the shipped catalogues into the database (safe to run again). Gives the
    ids of the services and of the reasons whose texts it changed: (services, reasons)."""
    with write_transaction():
        before = catalogue_texts()
        Service.sync_catalogue()
        Reason.sync_catalogue()
        after = catalogue_texts()
    return tuple([id for id, texts in now.items() if id in then and then[id] != texts]
                 for then, now in zip(before, after, strict=True))


def catalogue_texts():
    return ({s.id: (s.name_ar, s.name_en) for s in Service.select(Service.id, Service.name_ar, Service.name_en)},
            {r.id: (r.text_ar, r.text_en) for r in Reason.select(Reason.id, Reason.text_ar, Reason.text_en)})


ORDERED = Prepared(lambda: Service.select().order_by(Service.position))
