"""An objection after a rejection, in Arabic and English, on SQLite and PostgreSQL:
offered for OBJECTION_DAYS after the decision and once; why in at least 30
characters, documents checked as a request's; owner only; shown live in the panel
with its own due date; decided by a supervisor who did not reject (upheld with a
reason, or overturned: the request is accepted); an SMS either way; every step in the
timeline and the audit trail; the rating asked only once the objection is decided."""
import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from babel.support import Translations

from models import (
    REJECTED,
    UNDER_REVIEW,
    ActionRefused,
    Audit,
    Document,
    Event,
    Notice,
    Objection,
    Rating,
    ServiceRequest,
    User,
    db,
    due_date,
    figures,
    riyadh_date,
)
from tests.conftest import HX
from tests.factories import csrf_token, minimal_pdf, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}
HEADERS = {"en": EN, "ar": AR}
MOBILE = "+966500000777"
WHY = "The certificate is attested by the chamber of commerce; the attested copy is attached."
REJECTION = "The attached certificate is not attested."
UPHELD_REASON = "The stamp on the copy is not the chamber stamp, so the rejection stands."
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
BOTH = pytest.mark.parametrize("lang", ["ar", "en"])


def said(lang, msgid, **values):
    """The text as the pages show it in `lang`."""
    text = Translations.load(str(CATALOGUES), [lang]).gettext(msgid)
    return text % values if values else text


def said_n(lang, singular, plural, num, **values):
    """A plural text as the pages show it in `lang`."""
    return Translations.load(str(CATALOGUES), [lang]).ngettext(singular, plural, num) % dict(values, num=num)


def as_user(app, username):
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def reload(service_request):
    with db.connection_context():
        return ServiceRequest.get_by_id(service_request.id)


def objection_of(service_request):
    with db.connection_context():
        return Objection.get_or_none(Objection.request == service_request.id)


def reject(app, service_request, officer):
    """Reviewed and rejected by `officer` (its event and audit row name them)."""
    with app.test_request_context(), db.connection_context():
        ServiceRequest.update(assignee=officer).where(ServiceRequest.id == service_request.id).execute()
        current = ServiceRequest.get_by_id(service_request.id)
        current = current.change_status(UNDER_REVIEW, actor=officer)
        return current.change_status(REJECTED, actor=officer, message=REJECTION)


@pytest.fixture
def rejected(app, resident, officer):
    with db.connection_context():
        User.update(mobile=MOBILE).where(User.id == resident.id).execute()
    return reject(app, submit_request(resident), officer)


def send(client, number, text=WHY, files=(), lang="en"):
    data = {"text": text, "documents": [(file, name) for name, file in files]}
    return client.post(f"/requests/{number}/objection", data=data, headers=HEADERS[lang],
                       content_type="multipart/form-data")


def pdf(name="attested.pdf"):
    import io
    return name, io.BytesIO(minimal_pdf("Attested certificate"))


def lodge(app, service_request, text=WHY):
    with app.test_request_context(), db.connection_context():
        current = ServiceRequest.get_by_id(service_request.id)
        return Objection.lodge(current, User.get_by_id(current.owner_id), text, [])


def staff_post(client, number, action, lang="en", **data):
    return client.post(f"/staff/requests/{number}/objection/{action}", data=data, headers=HEADERS[lang])


# ------------------------------------------------------------------ the offer and the form

@BOTH
def test_a_rejected_request_offers_an_objection_until_its_last_day(app, rejected, lang):
    page = as_user(app, "amal").get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert said(lang, "Object to this decision") in page
    assert f'href="/requests/{rejected.number}/objection"' in page
    last_day = rejected.decided_on + dt.timedelta(days=30)
    assert f'<time datetime="{last_day.isoformat()}">' in page


@BOTH
def test_the_form_says_the_window_the_minimum_and_takes_documents(app, rejected, lang):
    response = as_user(app, "amal").get(f"/requests/{rejected.number}/objection", headers=HEADERS[lang])
    assert response.status_code == 200
    page = response.text
    assert 'enctype="multipart/form-data"' in page and 'name="documents"' in page and 'name="text"' in page
    last_day = rejected.decided_on + dt.timedelta(days=30)
    assert f'<time datetime="{last_day.isoformat()}">' in page
    assert REJECTION in page  # the decision being objected to


@BOTH
def test_an_objection_is_received_with_its_document_timeline_audit_and_own_due_date(app, rejected, lang):
    client = as_user(app, "amal")
    before = reload(rejected).version
    response = send(client, rejected.number, files=[pdf()], lang=lang)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/requests/{rejected.number}#status-panel")
    objection = objection_of(rejected)
    assert (objection.status, objection.outcome, objection.text) == ("received", None, WHY)
    assert objection.due_on == due_date(objection.submitted_on)
    assert objection.submitted_on == riyadh_date(objection.submitted_at)
    with db.connection_context():
        document = Document.get(Document.objection == objection.id)
        assert document.request_id == rejected.id and bytes(document.data) == minimal_pdf("Attested certificate")
        assert [e.kind for e in Event.select().where(Event.request == rejected.id).order_by(Event.id)][-1] == \
            "objection"
        assert [a.action for a in Audit.of_request(rejected)][-1] == "objection"
    current = reload(rejected)
    assert current.version == before + 1 and current.status == REJECTED
    page = client.get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    panel = page[page.index('id="status-panel"'):page.index("</section>", page.index('id="status-panel"'))]
    assert said(lang, "Objection received") in panel
    assert f'<time datetime="{objection.due_on.isoformat()}">' in panel
    assert "hx-get" in panel  # the panel polls while the objection waits
    assert said(lang, "Object to this decision") not in page
    assert said(lang, "Objection sent") in page[page.index('id="timeline"'):]


@BOTH
def test_an_objection_needs_thirty_characters_and_at_most_the_descriptions_maximum(app, rejected, lang):
    client = as_user(app, "amal")
    short = send(client, rejected.number, text="x" * 29, lang=lang)
    assert short.status_code == 422
    assert said(lang, "Say why in at least %(min)d characters (now %(count)d), so the supervisor can decide "
                      "without contacting you.", min=30, count=29) in short.text
    long = send(client, rejected.number, text="y" * 4001, lang=lang)
    assert long.status_code == 422 and "y" * 4001 in long.text  # what was typed is kept
    assert objection_of(rejected) is None
    assert send(client, rejected.number, text="  " + "z" * 30 + "  ", lang=lang).status_code == 303
    assert objection_of(rejected).text == "z" * 30


@BOTH
def test_documents_are_checked_as_a_requests_are_and_nothing_is_kept_on_error(app, rejected, lang):
    import io
    client = as_user(app, "amal")
    fake = send(client, rejected.number, files=[("scan.pdf", io.BytesIO(b"not a pdf at all"))], lang=lang)
    assert fake.status_code == 422
    assert said(lang, "“%(name)s” is not a PDF, JPEG or PNG file.", name="scan.pdf") in fake.text
    assert WHY in fake.text
    app.config["MAX_DOCUMENT_BYTES"] = 100
    big = send(client, rejected.number, files=[pdf("big.pdf")], lang=lang)
    assert big.status_code == 422 and "big.pdf" in big.text
    app.config["MAX_DOCUMENT_BYTES"], app.config["MAX_DOCUMENTS"] = 5 * 1024 * 1024, 1
    many = send(client, rejected.number, files=[pdf("a.pdf"), pdf("b.pdf")], lang=lang)
    assert many.status_code == 422 and "b.pdf" in many.text
    with db.connection_context():
        assert Objection.select().count() == 0
        assert Document.select().where(Document.objection.is_null(False)).count() == 0


@BOTH
def test_a_second_objection_is_refused_and_what_was_typed_is_kept(app, rejected, lang):
    client = as_user(app, "amal")
    assert send(client, rejected.number, lang=lang).status_code == 303
    again = send(client, rejected.number, text="A second objection, written with care and at length.", lang=lang)
    assert again.status_code == 409
    assert said(lang, "You have already objected to this decision: a decision can be objected to once.") in again.text
    assert "A second objection, written with care and at length." in again.text
    assert client.get(f"/requests/{rejected.number}/objection", headers=HEADERS[lang]).status_code == 409
    with db.connection_context():
        assert Objection.select().count() == 1 and Objection.get().text == WHY


@BOTH
def test_only_a_rejected_request_can_be_objected_to(app, service_request, lang):
    client = as_user(app, "amal")
    for response in (client.get(f"/requests/{service_request.number}/objection", headers=HEADERS[lang]),
                     send(client, service_request.number, lang=lang)):
        assert response.status_code == 409
        assert said(lang, "Only a rejected request can be objected to.") in response.text
    assert objection_of(service_request) is None


def at(day, hour, minute=0):
    """Time stopped at `hour`:`minute` UTC on `day` (the resident signs in again there:
    a month on, the earlier session has expired)."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC), tick=False)


@BOTH
def test_the_window_ends_after_its_last_day_in_riyadh(app, rejected, lang):
    last_day = rejected.decided_on + dt.timedelta(days=30)
    # 23:59 in Riyadh on the last day: still open; a minute later (21:00 UTC) it is the next day there.
    with at(last_day, 20, 59):
        assert said(lang, "Object to this decision") in as_user(app, "amal").get(
            f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    with at(last_day, 21):
        client = as_user(app, "amal")
        assert said(lang, "Object to this decision") not in client.get(f"/requests/{rejected.number}",
                                                                       headers=HEADERS[lang]).text
        late = send(client, rejected.number, lang=lang)
        assert late.status_code == 409
        expected = said_n(lang, "The time to object ended on %(date)s: an objection can be sent up to %(num)d day "
                                "after the decision.", "The time to object ended on %(date)s: an objection can "
                                "be sent up to %(num)d days after the decision.", 30, date="DATE")
        assert re.search(re.escape(expected).replace("DATE", ".+"), late.text)
        assert WHY in late.text
    assert objection_of(rejected) is None
    with at(last_day, 20, 59):
        assert send(as_user(app, "amal"), rejected.number, lang=lang).status_code == 303


def test_the_window_follows_the_configuration(app, rejected):
    app.config["OBJECTION_DAYS"] = 3
    last_day = rejected.decided_on + dt.timedelta(days=3)
    with at(last_day, 9):
        assert as_user(app, "amal").get(f"/requests/{rejected.number}/objection").status_code == 200
    with at(last_day + dt.timedelta(days=1), 9):
        assert send(as_user(app, "amal"), rejected.number).status_code == 409


def test_someone_elses_request_is_404_and_objection_documents_are_owner_and_staff_only(
        app, rejected, other_resident, officer):
    badr = as_user(app, "badr")
    assert badr.get(f"/requests/{rejected.number}/objection").status_code == 404
    assert send(badr, rejected.number).status_code == 404
    assert objection_of(rejected) is None
    assert send(as_user(app, "amal"), rejected.number, files=[pdf()]).status_code == 303
    with db.connection_context():
        document = Document.get(Document.objection.is_null(False))
    path = f"/requests/{rejected.number}/documents/{document.id}"
    assert badr.get(path).status_code == 404
    assert as_user(app, "amal").get(path).status_code == 200
    assert as_user(app, "noura").get(f"/staff/requests/{rejected.number}/documents/{document.id}").status_code == 200
    assert app.test_client().get(f"/requests/{rejected.number}/objection").status_code == 302


def test_the_objection_form_needs_the_csrf_token(app, rejected):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in_client(client)
    refused = send(client, rejected.number)
    assert refused.status_code == 400  # CSRFProtect, before the view
    assert objection_of(rejected) is None
    token = csrf_token(client, f"/requests/{rejected.number}/objection")
    response = client.post(f"/requests/{rejected.number}/objection", data={"text": WHY, "csrf_token": token})
    assert response.status_code == 303 and objection_of(rejected) is not None


# ------------------------------------------------------------------ the staff side

def test_supervisors_see_the_objections_waiting_soonest_due_first_officers_get_403(
        app, resident, officer, supervisor):
    late = reject(app, submit_request(resident), officer)
    early = reject(app, submit_request(resident), officer)
    lodge(app, late)
    first_due = lodge(app, early).due_on
    with db.connection_context():  # sent second, due first (as after a day off added for one of them)
        Objection.update(due_on=first_due + dt.timedelta(days=1)).where(Objection.request == late.id).execute()
    fahad = as_user(app, "fahad")
    page = fahad.get("/staff/objections", headers=EN).text
    assert page.index(early.number) < page.index(late.number)
    assert "Noura Officer" in page  # who rejected
    assert 'href="/staff/objections"' in fahad.get("/staff/", headers=EN).text
    noura = as_user(app, "noura")
    assert noura.get("/staff/objections").status_code == 403
    assert 'href="/staff/objections"' not in noura.get("/staff/", headers=EN).text
    assert staff_post(noura, early.number, "review").status_code == 403
    assert staff_post(noura, early.number, "decide", outcome="overturned").status_code == 403
    assert objection_of(early).status == "received"


@BOTH
def test_a_supervisor_reviews_then_upholds_with_a_reason_the_resident_reads(app, rejected, supervisor, lang):
    with db.connection_context():
        User.update(locale=lang).where(User.id == rejected.owner_id).execute()
    lodge(app, rejected)
    fahad = as_user(app, "fahad")
    staff_page = fahad.get(f"/staff/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert WHY in staff_page and 'id="objection-decide"' in staff_page
    version = reload(rejected).version
    assert staff_post(fahad, rejected.number, "review", lang).status_code == 303
    assert objection_of(rejected).status == "under_review" and reload(rejected).version == version + 1
    assert staff_post(fahad, rejected.number, "review", lang).status_code == 409  # once
    no_reason = staff_post(fahad, rejected.number, "decide", lang, outcome="upheld", reason="  ")
    assert no_reason.status_code == 422
    assert said(lang, "When the rejection stands, give the reason: the resident reads it.") in no_reason.text
    assert objection_of(rejected).is_open
    assert staff_post(fahad, rejected.number, "decide", lang, outcome="upheld",
                      reason=UPHELD_REASON).status_code == 303
    objection = objection_of(rejected)
    assert (objection.status, objection.outcome, objection.reason, objection.decided_by_id) == (
        "decided", "upheld", UPHELD_REASON, supervisor.id)
    assert objection.decided_on == riyadh_date(objection.decided_at)
    assert reload(rejected).status == REJECTED
    with db.connection_context():
        sms = Notice.select().where(Notice.to == MOBILE).order_by(Notice.id.desc()).first()
        assert rejected.number in sms.text and UPHELD_REASON not in sms.text
        assert f"/requests/{rejected.number}" in sms.text
        assert sms.text == said(lang, "Tawasul: your objection on request %(number)s was decided: the rejection "
                                      "stands. Read the reason at %(url)s", number=rejected.number,
                                url=f"{app.config['PUBLIC_URL']}/requests/{rejected.number}")
        assert [a.action for a in Audit.of_request(rejected)][-3:] == ["objection", "objection-review",
                                                                       "objection-upheld"]
    page = as_user(app, "amal").get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    panel = page[page.index('id="status-panel"'):page.index('id="after-decision"')]
    assert UPHELD_REASON in panel and said(lang, "Objection decided: the rejection stands") in panel
    assert "hx-get" not in panel  # decided: no more polling
    assert said(lang, "Object to this decision") not in page
    timeline = page[page.index('id="timeline"'):]
    for step in ("Objection sent", "Objection under review", "Objection decided: the rejection stands"):
        assert said(lang, step) in timeline


@BOTH
def test_an_overturned_rejection_makes_the_request_accepted_with_next_steps(app, rejected, supervisor, lang):
    with db.connection_context():
        User.update(locale=lang).where(User.id == rejected.owner_id).execute()
    lodge(app, rejected)
    first = reload(rejected)
    period = (first.decided_on - dt.timedelta(days=30), first.decided_on + dt.timedelta(days=30))
    with db.connection_context():
        figures_before = figures.per_service(*period, today=first.decided_on)
    fahad = as_user(app, "fahad")
    assert staff_post(fahad, rejected.number, "decide", lang, outcome="overturned").status_code == 303
    current = reload(rejected)
    assert current.status == "accepted"
    assert (current.decided_at, current.decided_on, current.hours_to_decision) == (
        first.decided_at, first.decided_on, first.hours_to_decision)  # the figures keep the first decision
    with db.connection_context():
        assert figures.per_service(*period, today=first.decided_on) == figures_before
        sms = Notice.select().where(Notice.to == MOBILE).order_by(Notice.id.desc()).first()
        assert sms.kind == "objection-overturned" and rejected.number in sms.text
        assert sms.text == said(lang, "Tawasul: your objection on request %(number)s was decided: the rejection "
                                      "is overturned and the request is accepted. Details: %(url)s",
                                number=rejected.number, url=f"{app.config['PUBLIC_URL']}/requests/{rejected.number}")
        audit = Audit.of_request(rejected).order_by(Audit.id.desc()).first()
        assert (audit.action, audit.from_status, audit.to_status, audit.actor_id) == (
            "objection-overturned", REJECTED, "accepted", supervisor.id)
    page = as_user(app, "amal").get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert said(lang, "What happens next") in page
    assert said(lang, "Collect the passport at the passports office, with the originals of the documents "
                      "you attached.") in page
    assert said(lang, "Objection decided: the rejection is overturned") in page
    assert said(lang, "Rate this service") in page  # asked now the objection is decided


def test_the_officer_who_rejected_never_decides_even_as_a_supervisor(app, resident, supervisor):
    from tests.factories import make_user
    other = make_user("salma", None, role="supervisor", full_name="Salma Supervisor")
    rejected = reject(app, submit_request(resident), supervisor)  # fahad rejected it himself
    lodge(app, rejected)
    fahad = as_user(app, "fahad")
    page = fahad.get(f"/staff/requests/{rejected.number}", headers=EN).text
    message = "You made the rejection this objection is about: another supervisor decides it."
    assert message in page and 'id="objection-decide"' not in page
    for action, data in (("review", {}), ("decide", {"outcome": "overturned"})):
        refused = staff_post(fahad, rejected.number, action, **data)
        assert refused.status_code == 409 and message in refused.text
    assert objection_of(rejected).is_open and reload(rejected).status == REJECTED
    assert staff_post(as_user(app, "salma"), rejected.number, "decide", outcome="overturned").status_code == 303
    assert objection_of(rejected).decided_by_id == other.id


def test_the_rejecter_is_found_in_the_audit_trail_too(app, rejected, supervisor):
    lodge(app, rejected)
    with db.connection_context():  # the timeline no longer names anyone: the audit trail still does
        Event.update(actor=None).where(Event.request == rejected.id).execute()
    with app.test_request_context(), db.connection_context():
        objection = Objection.get(Objection.request == rejected.id)
        noura = User.get(User.username == "noura")
        noura.role = "supervisor"
        assert objection.deciders_refusal(noura) is not None  # noura rejected it
        assert objection.deciders_refusal(supervisor) is None


def test_two_supervisors_deciding_at_once_give_one_decision(app, rejected, supervisor):
    from tests.factories import make_user
    other = make_user("salma", None, role="supervisor", full_name="Salma Supervisor")
    lodge(app, rejected)
    with app.test_request_context(), db.connection_context():
        first, second = (Objection.get(Objection.request == rejected.id) for _ in range(2))
        first.decide(supervisor, "overturned")
        with pytest.raises(ActionRefused):
            second.decide(other, "upheld", "It stands.")
        assert Event.select().where(Event.kind.startswith("objection-")).count() == 1
        assert Notice.select().where(Notice.kind.startswith("objection")).count() == 1
    assert objection_of(rejected).outcome == "overturned" and reload(rejected).status == "accepted"


# ------------------------------------------------------------------ the panel and the rating

def test_the_panel_poll_shows_each_new_status_then_stops(app, rejected, supervisor):
    client = as_user(app, "amal")
    send(client, rejected.number)
    shown = f"{reload(rejected).version}-en"
    poll = {**HX, **EN, "X-Shown-Version": shown}
    assert client.get(f"/requests/{rejected.number}/status", headers=poll).status_code == 204
    assert staff_post(as_user(app, "fahad"), rejected.number, "review").status_code == 303
    changed = client.get(f"/requests/{rejected.number}/status", headers=poll)
    assert changed.status_code == 200 and "<html" not in changed.text
    assert "Objection under review" in changed.text and 'hx-get="' in changed.text
    assert f'"X-Shown-Version": "{reload(rejected).version}-en"' in changed.text
    staff_post(as_user(app, "fahad"), rejected.number, "decide", outcome="upheld", reason=UPHELD_REASON)
    final = client.get(f"/requests/{rejected.number}/status", headers={**poll, "X-Shown-Version": "0-en"})
    assert final.status_code == 200 and UPHELD_REASON in final.text and "hx-get" not in final.text.split(
        'id="after-decision"')[0]
    assert 'id="rating"' in final.text  # the rating arrives with the decision (out of band)


@BOTH
def test_no_rating_is_asked_while_the_objection_waits(app, rejected, supervisor, lang):
    client = as_user(app, "amal")
    page = client.get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert said(lang, "Rate this service") in page  # before objecting: asked, as for any decision
    send(client, rejected.number, lang=lang)
    page = client.get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert said(lang, "Rate this service") not in page and 'name="stars"' not in page
    refused = client.post(f"/requests/{rejected.number}/rating", data={"stars": "2"}, headers=HEADERS[lang])
    assert refused.status_code == 409
    assert said(lang, "You can rate this request once your objection is decided.") in refused.text
    with db.connection_context():
        assert Rating.select().count() == 0
    staff_post(as_user(app, "fahad"), rejected.number, "decide", outcome="upheld", reason=UPHELD_REASON)
    assert 'name="stars"' in client.get(f"/requests/{rejected.number}", headers=HEADERS[lang]).text
    assert client.post(f"/requests/{rejected.number}/rating", data={"stars": "2"}).status_code == 303


def test_a_rating_given_before_objecting_stays(app, rejected):
    client = as_user(app, "amal")
    assert client.post(f"/requests/{rejected.number}/rating", data={"stars": "3"}).status_code == 303
    assert send(client, rejected.number).status_code == 303
    with db.connection_context():
        assert Rating.get().stars == 3


def test_the_demo_has_an_objection_waiting_for_fahad_on_a_rejection_by_noura(app, runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    with app.test_request_context(), db.connection_context():
        waiting = list(Objection.waiting())
        assert len(waiting) == 1
        objection = waiting[0]
        assert User.get_by_id(objection.request.owner_id).username == "demo"
        fahad, noura = (User.get(User.username == name) for name in ("fahad", "noura"))
        assert objection.deciders_refusal(fahad) is None and objection.deciders_refusal(noura) is not None
        assert Document.select().where(Document.objection == objection.id).count() == 1
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0  # loaded once
    with db.connection_context():
        assert Objection.select().count() == 1
