"""The services Tawasul handles and the ready-made decision reasons: database rows
written from catalogue_data.py, so officers and figures can refer to them."""
import re

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from models.base import BaseModel, write_transaction
from models.catalogue_data import REASON_CATALOGUE, SERVICE_CATALOGUE, SERVICE_GUIDE


def in_language(locale, arabic, english):
    return arabic if str(locale).startswith("ar") else english


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
        return cls.select().order_by(cls.position)

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
    code = CharField(max_length=40, unique=True)
    kind = CharField(max_length=10)  # accept, reject
    service = ForeignKeyField(Service, null=True, on_delete="CASCADE")
    text_ar = TextField()
    text_en = TextField()

    def text(self, locale):
        return in_language(locale, self.text_ar, self.text_en)

    @classmethod
    def for_service(cls, service):
        return (cls.select().where(cls.service.is_null() | (cls.service == service))
                .order_by(cls.kind, cls.service.is_null(), cls.id))

    @classmethod
    def sync_catalogue(cls):
        services = {s.code: s.id for s in Service.select(Service.id, Service.code)}
        cls.upsert([dict(entry, service=services.get(entry["service"])) for entry in REASON_CATALOGUE],
                   key=("code",))


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
