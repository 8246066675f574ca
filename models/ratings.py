"""How satisfied residents are: one rating (1 to 5, an optional comment) per decided
request, given by its owner once. Staff see only averages per service, never who
rated what."""
from peewee import Check, DateTimeField, ForeignKeyField, IntegerField, IntegrityError, TextField, fn

from models.base import BaseModel, Prepared, slot, write_transaction
from models.clock import utcnow
from models.objections import Objection
from models.workflow import ServiceRequest

STARS = (1, 2, 3, 4, 5)
COMMENT_MAX = 1000  # characters


class AlreadyRated(ValueError):
    """The request has its rating already: a rating is given once."""


class NotDecided(ValueError):
    """Only a decided (accepted or rejected) request can be rated, and not while an
    objection to its decision waits for its own."""


class Rating(BaseModel):
    request = ForeignKeyField(ServiceRequest, unique=True, on_delete="CASCADE")  # once per request
    stars = IntegerField(constraints=[Check("stars BETWEEN 1 AND 5")])
    comment = TextField(null=True)
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def of_request(cls, service_request):
        return OF_REQUEST.first(request=service_request.id)

    @classmethod
    def give(cls, service_request, stars, comment=None):
        """The owner's rating of a decided request; AlreadyRated the second time, even
        when two arrive at the same moment (the unique request column decides)."""
        if not service_request.is_final or Objection.is_open_on(service_request):
            raise NotDecided()
        if stars not in STARS:
            raise ValueError(stars)
        comment = (comment or "").strip()[:COMMENT_MAX] or None
        try:
            with write_transaction():
                return cls.create(request=service_request, stars=stars, comment=comment)
        except IntegrityError:
            raise AlreadyRated() from None

    @classmethod
    def per_service(cls, start, end):
        """{service_id: (count, average stars)} for the requests decided in the period."""
        query = (cls.select(ServiceRequest.service, fn.COUNT(cls.id), fn.AVG(cls.stars))
                 .join(ServiceRequest)
                 .where(ServiceRequest.decided_on.between(start, end))
                 .group_by(ServiceRequest.service))
        return {service: (count, float(average)) for service, count, average in query.tuples()}

    @classmethod
    def overall(cls, start, end):
        """(count, average stars or None) over every service, for the period."""
        count, average = (cls.select(fn.COUNT(cls.id), fn.AVG(cls.stars)).join(ServiceRequest)
                          .where(ServiceRequest.decided_on.between(start, end)).scalar(as_tuple=True))
        return count, (float(average) if average is not None else None)



OF_REQUEST = Prepared(lambda: Rating.select().where(Rating.request == slot("request")).limit(1))
