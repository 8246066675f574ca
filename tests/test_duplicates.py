"""Duplicates caught (issue 15, part 4): the check-your-answers page names the
resident's own undecided request for the same person and service, and the officer's
page of a request lists the person's other requests, from any account."""
import datetime as dt
import re

import pytest

from models import ACCEPTED, REJECTED, UNDER_REVIEW, Draft, Service, ServiceRequest, db
from models.base import is_sqlite
from models.samples import link_person
from models.workflow import same_person_ids
from tests.factories import minimal_pdf, person_of, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
YUSUF = "Yusuf Yemeni"


def as_user(app, username):
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def draft_for(user, person_name="Amal Saad", service="passport"):
    """A draft ready to check and send, as the form leaves it."""
    draft = Draft.create(owner=user, person=person_of(user, person_name), service=Service.get(Service.code == service),
                         description="My passport expires next month and I need it renewed.")
    draft.add_file("passport.pdf", "application/pdf", minimal_pdf())
    return draft


def check_page(client, draft, headers=EN):
    response = client.get("/requests/new/check", query_string={"draft": draft.token}, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def decide(service_request, status=ACCEPTED, at=None):
    """Decide as the command line would (no officer: whoever it is assigned to)."""
    ServiceRequest.get_by_id(service_request.id).change_status(UNDER_REVIEW)
    ServiceRequest.get_by_id(service_request.id).change_status(status, message="Decided.")
    if at is not None:
        ServiceRequest.update(decided_at=at).where(ServiceRequest.id == service_request.id).execute()


# ------------------------------------------------------------------ the resident's check page

def test_the_check_page_names_the_undecided_request_for_the_same_person_and_service(app, resident):
    earlier = submit_request(resident)
    client = as_user(app, "amal")
    draft = draft_for(resident)
    english = check_page(client, draft)
    assert "You already sent a request for this service for this person that is not decided yet" in english
    assert f'href="/requests/{earlier.number}"' in english
    assert "a second request does not make it faster" in english
    arabic = check_page(client, draft, headers={})
    assert "أرسلت من قبل طلبًا واحدًا لهذه الخدمة لهذا الشخص لم يُبتّ فيه بعد" in arabic
    assert f'href="/requests/{earlier.number}"' in arabic
    # the resident may still send: the reason may differ
    sent = client.post("/requests/new/confirm", data={"draft": draft.token})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/confirmation")
    assert ServiceRequest.select().count() == 2


def test_two_undecided_requests_are_both_named(app, resident):
    first, second = submit_request(resident), submit_request(resident)
    page = check_page(as_user(app, "amal"), draft_for(resident))
    assert "You already sent 2 requests for this service for this person" in page
    assert first.number in page and second.number in page


@pytest.mark.parametrize("person_name, service", [("Amal Saad", "dependents"), (YUSUF, "passport")])
def test_another_service_or_another_person_is_no_duplicate(app, resident, person_name, service):
    submit_request(resident)
    page = check_page(as_user(app, "amal"), draft_for(resident, person_name, service))
    assert 'id="duplicates"' not in page


@pytest.mark.parametrize("status", [ACCEPTED, REJECTED])
def test_a_decided_request_is_no_duplicate(app, resident, status):
    decide(submit_request(resident), status)
    page = check_page(as_user(app, "amal"), draft_for(resident))
    assert 'id="duplicates"' not in page


def test_another_accounts_request_for_the_same_person_is_never_shown_to_the_resident(app, resident, other_resident):
    """Badr is linked to Yusuf too (another Person row, same identity number) and filed
    for him: Amal is not told, not even that one exists (privacy first)."""
    yusuf = person_of(resident, YUSUF)
    link_person(other_resident.id_number, yusuf.id_number, YUSUF, "YE")
    theirs = submit_request(other_resident, person_name=YUSUF)
    client = as_user(app, "amal")
    for headers in (EN, {}):
        page = check_page(client, draft_for(resident, YUSUF), headers)
        assert 'id="duplicates"' not in page and theirs.number not in page


def test_the_same_person_under_two_sponsors_is_one_person(app, resident, other_resident):
    yusuf = person_of(resident, YUSUF)
    twin = link_person(other_resident.id_number, yusuf.id_number, YUSUF, "YE")
    assert {p.id for p in same_person_ids(twin)} == {yusuf.id, twin.id}
    assert {p.id for p in same_person_ids(yusuf)} == {yusuf.id, twin.id}


# ------------------------------------------------------------------ the officer's page

def test_the_officers_page_lists_the_persons_other_requests_from_any_account(
        app, resident, other_resident, officer):
    yusuf = person_of(resident, YUSUF)
    link_person(other_resident.id_number, yusuf.id_number, YUSUF, "YE")
    this = submit_request(resident, person_name=YUSUF)
    same_service = submit_request(other_resident, person_name=YUSUF)  # another account, same person
    other_service = submit_request(resident, person_name=YUSUF, service="visit_extension")
    someone_else = submit_request(resident)  # Amal herself: another person
    base = dt.datetime(2026, 1, 1, 9, 0)
    decided = [submit_request(resident, person_name=YUSUF) for _ in range(4)]
    for days, request in enumerate(decided):
        decide(request, REJECTED if days % 2 else ACCEPTED, at=base + dt.timedelta(days=days))
    noura = as_user(app, "noura")
    page = noura.get(f"/staff/requests/{this.number}", headers=EN).get_data(as_text=True)
    section = re.search(r'<section id="person-requests">.*?</section>', page, re.S).group(0)
    assert "This person's other requests" in section and "Not decided yet" in section and "Last decided" in section
    links = re.findall(r'href="/staff/requests/([0-9]+)"', section)
    # undecided by deadline (same day: by id), then the three decided last, newest first
    assert links == [same_service.number, other_service.number,
                     decided[3].number, decided[2].number, decided[1].number]
    assert this.number not in links and someone_else.number not in links and decided[0].number not in links
    assert section.count("Same service") == 4  # same_service and the three decided passports
    assert "Rejected" in section and "Accepted" in section and "Received" in section
    assert "Passport: issue, extend or renew" in section
    arabic = noura.get(f"/staff/requests/{this.number}").get_data(as_text=True)
    arabic_section = re.search(r'<section id="person-requests">.*?</section>', arabic, re.S).group(0)
    assert "طلبات أخرى لهذا الشخص" in arabic_section and "الخدمة نفسها" in arabic_section
    assert re.findall(r'href="/staff/requests/([0-9]+)"', arabic_section) == links


def test_the_officers_page_says_when_the_person_has_no_other_request(app, officer, service_request):
    noura = as_user(app, "noura")
    page = noura.get(f"/staff/requests/{service_request.number}", headers=EN).get_data(as_text=True)
    assert "None: this is the person's only request." in page
    assert "لا شيء: هذا هو الطلب الوحيد لهذا الشخص." in noura.get(f"/staff/requests/{service_request.number}").text


def plan(query):
    sql, params = query.sql()
    return " ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_the_persons_requests_are_read_by_index(app, resident):
    """Cheap at scale: SQLite reads them by the person indexes, never by a scan of
    every request (PostgreSQL's planner picks by table size: its plan on a test
    table says nothing)."""
    if not is_sqlite():
        pytest.skip("the SQLite planner's choice is the one that does not depend on the table's size")
    this = submit_request(resident)
    undecided, decided = this.same_person_queries()
    for query in (undecided, decided, ServiceRequest.undecided_of_person(this.person)):
        shown = plan(query)
        assert "USING INDEX servicerequest_person_id" in shown or "servicerequest_open_by_person" in shown, shown
        assert "SCAN " not in shown, shown
