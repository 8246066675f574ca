"""models.base.Prepared against the peewee it leans on. Prepared runs SQL that peewee
built once and reads the rows with peewee's own reader (`query._get_cursor_wrapper`),
telling each new reader the column layout the first one worked out (a CursorWrapper's
instance vars, less READ_STATE). None of that is peewee's public API: these tests
fail, saying what changed, when a peewee release moves it."""
import re
from pathlib import Path

import peewee
import pytest
from peewee import JOIN

from models import Document, Event, Person, Service, ServiceRequest, User, db
from models.base import READ_STATE, Prepared, slot
from tests.factories import submit_request

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
RECHECK = ("models.base.Prepared copies a peewee CursorWrapper's instance vars (less READ_STATE) from one "
           "reader to the next and calls query._get_cursor_wrapper: re-check both against the new peewee's "
           "CursorWrapper, ModelObjectCursorWrapper and ModelCursorWrapper (__init__ and initialize), then update "
           "READ_STATE and the layouts pinned in tests/test_prepared.py")

# What initialize() works out from the first rows, per reader class, in peewee 4.5.3,
# with what the reader is built with (the same for every run of one query).
ONE_MODEL = {"model", "select", "constructor", "is_model", "columns", "fields", "converters", "no_convert",
             "convert", "ncols", "unique_columns"}
JOINED = {"model", "select", "from_list", "joins", "columns", "fields", "converters", "no_convert", "convert",
          "ncols", "key_to_constructor", "src_to_dest", "column_keys", "_row_spec", "_constructor_list",
          "_dest_reachable"}
ROWS_AS_VALUES = {"model", "select", "columns", "fields", "converters", "no_convert", "convert", "ncols"}


def test_peewee_is_the_release_prepared_was_checked_against():
    pinned = re.search(r"^peewee==(\S+)$", REQUIREMENTS.read_text(), re.M).group(1)
    assert peewee.__version__ == pinned, f"peewee {peewee.__version__} runs, requirements.txt pins {pinned}. {RECHECK}"
    assert pinned == "4.5.3", f"requirements.txt now pins peewee {pinned}. {RECHECK}"


def test_the_peewee_internals_prepared_uses_are_there():
    for query_class in (peewee.ModelSelect, peewee.ModelRaw):
        assert callable(getattr(query_class, "_get_cursor_wrapper", None)), f"{query_class} lost it. {RECHECK}"
    fresh = set(vars(peewee.CursorWrapper(cursor=None)))
    assert fresh == READ_STATE, f"a new CursorWrapper keeps {sorted(fresh)}, READ_STATE names {sorted(READ_STATE)}. " \
                                f"{RECHECK}"


@pytest.fixture
def two_requests(resident, officer):
    """Two requests: one with a document and unassigned, one with two documents
    and taken by an officer."""
    first = submit_request(resident)
    second = submit_request(resident, person_name="Yusuf Yemeni", service="visit_extension", files=2)
    with db.connection_context():
        second.claim(officer)
    return first, ServiceRequest.get_by_id(second.id)


def shown(row):
    """A row as a value to compare: a model with the models joined to it, or the row."""
    if isinstance(row, peewee.Model):
        return type(row).__name__, row.__data__, {name: shown(rel) for name, rel in row.__rel__.items()}
    return row


assignee = User.alias()
# name -> (the query, given how to fill each value: a slot, or the value itself; the
# reader class layout the first rows give)
SHAPES = {
    "one model": (lambda v: Event.select().where(Event.request == v("request")).order_by(Event.id), ONE_MODEL),
    "one model, some columns": (lambda v: Document.select(Document.id, Document.name, Document.size)
                                .where(Document.request == v("request")).order_by(Document.id), ONE_MODEL),
    "a model with two joined models": (
        lambda v: ServiceRequest.select(ServiceRequest, Service, Person).join(Service).switch(ServiceRequest)
        .join(Person).where(ServiceRequest.id == v("request")), JOINED),
    "an outer join, found or not": (
        lambda v: ServiceRequest.select(ServiceRequest.number, assignee.full_name)
        .join(assignee, JOIN.LEFT_OUTER, on=(ServiceRequest.assignee == assignee.id))
        .where(ServiceRequest.id == v("request")), JOINED),
    "dicts": (lambda v: ServiceRequest.select(ServiceRequest.number, Service.code).join(Service)
              .where(ServiceRequest.id == v("request")).dicts(), ROWS_AS_VALUES | {"unique_columns"}),
    "tuples": (lambda v: Document.select(Document.name, Document.size).where(Document.request == v("request"))
               .order_by(Document.id).tuples(), ROWS_AS_VALUES),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_prepared_query_reads_what_peewee_reads(app, two_requests, shape):
    """The same rows, models and joined models as the plain query, on the first run
    (which learns the layout) and on later ones with other values (which reuse it)."""
    build, layout = SHAPES[shape]
    prepared = Prepared(lambda: build(slot))
    with db.connection_context():
        for service_request in (*two_requests, two_requests[0], ServiceRequest(id=0)):  # id 0: no rows
            plain = [shown(row) for row in build(lambda name, r=service_request: r.id)]
            assert [shown(row) for row in prepared(request=service_request.id)] == plain, f"{shape}. {RECHECK}"
        kept = set(prepared.layouts[type(db.obj)])
    assert kept == layout, (f"{shape}: the layout kept is {sorted(kept)}, was {sorted(layout)} with peewee 4.5.3: "
                            f"anything new that holds a cursor's rows belongs in READ_STATE. {RECHECK}")
    assert not kept & READ_STATE


def test_a_prepared_querys_joined_models_need_no_more_queries(app, two_requests, monkeypatch):
    prepared = Prepared(lambda: SHAPES["a model with two joined models"][0](slot))
    sent = []
    real = type(db.obj).execute_sql

    def spy(self, sql, *args, **kwargs):
        sent.append(sql)
        return real(self, sql, *args, **kwargs)
    with db.connection_context():
        expected = [(r.service.code, r.person.name) for r in two_requests]
        monkeypatch.setattr(type(db.obj), "execute_sql", spy)
        for service_request, (code, name) in zip(two_requests, expected, strict=True):
            sent.clear()
            (row,) = prepared(request=service_request.id)
            assert (row.service.code, row.person.name) == (code, name)
            run = [sql for sql in sent if not sql.startswith("PREPARE")]  # PostgreSQL plans it on first use
            assert len(run) == 1, f"reading the joined models queried again: {run}. {RECHECK}"
