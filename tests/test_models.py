import datetime as dt
import threading

import pytest

from models import (
    ACCEPTED,
    REJECTED,
    UNDER_REVIEW,
    ActionRefused,
    Document,
    Draft,
    Event,
    InvalidNumber,
    Person,
    Service,
    ServiceRequest,
    add_working_days,
    db,
    luhn_valid,
    new_request_number,
    parse_id_number,
    parse_request_number,
)
from tests.factories import minimal_pdf, person_of, submit_request


@pytest.mark.parametrize("number", ["1000000008", "1123456780", "2000000006", "2123456788"])
def test_luhn_accepts_known_valid_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["1234567890", "1000000009", "2123456789"])
def test_luhn_refuses_wrong_check_digit(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize("raw, expected", [
    ("1000000008", "1000000008"),
    ("١٠٠٠٠٠٠٠٠٨", "1000000008"),          # Arabic-Indic digits
    ("۲۰۰۰۰۰۰۰۰۶", "2000000006"),          # Persian digits
    (" 1000 000 008 ", "1000000008"),
    ("3012345678", "3012345678"),          # border numbers carry no Luhn digit
    ("4000000001", "4000000001"),
])
def test_id_numbers_are_normalised(raw, expected):
    assert parse_id_number(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("", "Enter the identity number"),
    ("10000000a8", "digits only"),
    ("²000000008", "digits only"),
    ("100000000", "exactly 10 digits; this one has 9"),
    ("10000000080", "exactly 10 digits; this one has 11"),
    ("5000000008", "starts with 1"),
    ("1000000009", "not valid: check each digit"),
])
def test_bad_id_numbers_say_what_is_wrong(raw, message):
    with pytest.raises(InvalidNumber) as caught:
        parse_id_number(raw)
    assert message in str(caught.value)


def test_request_numbers_are_random_digits_with_a_check_digit():
    numbers = {new_request_number() for _ in range(200)}
    assert len(numbers) == 200
    for number in numbers:
        assert number.isdigit() and len(number) == 9 and luhn_valid(number)
        assert parse_request_number(number) == number


def test_every_single_digit_typo_in_a_request_number_is_caught():
    number = new_request_number()
    for position in range(len(number)):
        for digit in "0123456789":
            typo = number[:position] + digit + number[position + 1:]
            if typo != number:
                with pytest.raises(InvalidNumber, match="typo"):
                    parse_request_number(typo)


@pytest.mark.parametrize("start, due", [
    (dt.date(2026, 11, 22), dt.date(2026, 12, 1)),   # Sunday
    (dt.date(2026, 11, 26), dt.date(2026, 12, 7)),   # Thursday
    (dt.date(2026, 11, 27), dt.date(2026, 12, 7)),   # Friday (weekend)
    (dt.date(2026, 11, 28), dt.date(2026, 12, 7)),   # Saturday (weekend)
])
def test_seven_working_days_skip_friday_and_saturday(start, due):
    assert add_working_days(start, 7) == due


def test_working_days_skip_closed_days():
    assert add_working_days(dt.date(2026, 11, 22), 7, closed_days={dt.date(2026, 11, 24)}) == dt.date(2026, 12, 2)


def test_submit_stores_documents_and_first_event_and_removes_the_draft(resident):
    created = submit_request(resident, files=2)
    assert created.status == "received" and created.due_on > created.submitted_at.date()
    docs = list(Document.select().where(Document.request == created))
    assert [d.name for d in docs] == ["doc0.pdf", "doc1.pdf"]
    assert docs[0].size == len(bytes(docs[0].data)) and len(docs[0].sha256) == 64
    assert [e.kind for e in Event.timeline(created)] == ["submitted"]
    assert Draft.select().count() == 0


def test_submitting_the_same_draft_twice_gives_one_request(resident):
    draft = Draft.create(owner=resident, person=person_of(resident, "Amal Saad"),
                         service=Service.get(Service.code == "passport"), description="x" * 40)
    draft.add_file("a.pdf", "application/pdf", minimal_pdf())
    first = ServiceRequest.submit(draft)
    second = ServiceRequest.submit(draft)
    assert first.id == second.id and ServiceRequest.select().count() == 1


def test_concurrent_confirmations_create_one_request(app, resident):
    draft = Draft.create(owner=resident, person=person_of(resident, "Amal Saad"),
                         service=Service.get(Service.code == "passport"), description="x" * 40)
    draft.add_file("a.pdf", "application/pdf", minimal_pdf())
    db.close()
    barrier, numbers, errors = threading.Barrier(2), [], []

    def confirm():
        try:
            with db.connection_context():
                mine = Draft.get_by_id(draft.id)
                barrier.wait()
                numbers.append(ServiceRequest.submit(mine).number)
        except Exception as error:  # the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.connect(reuse_if_open=True)
    assert not errors
    assert len(set(numbers)) == 1 and ServiceRequest.select().count() == 1
    assert Document.select().count() == 1


def test_a_failure_during_submit_saves_nothing(resident, monkeypatch):
    draft = Draft.create(owner=resident, person=person_of(resident, "Amal Saad"),
                         service=Service.get(Service.code == "passport"), description="x" * 40)
    draft.add_file("a.pdf", "application/pdf", minimal_pdf())

    def broken(**kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(Event, "create", broken)
    with pytest.raises(RuntimeError):
        ServiceRequest.submit(draft)
    assert ServiceRequest.select().count() == 0 and Document.select().count() == 0
    assert Draft.get_by_id(draft.id).files().count() == 1


def test_status_changes_follow_the_rules_and_append_events(service_request):
    reviewed = service_request.change_status(UNDER_REVIEW)
    assert reviewed.status == UNDER_REVIEW and reviewed.version == service_request.version + 1
    with pytest.raises(ActionRefused, match="reason"):
        reviewed.change_status(REJECTED, message="  ")
    decided = reviewed.change_status(ACCEPTED, message="All documents are in order.")
    assert decided.is_final and decided.decided_at and decided.reason == "All documents are in order."
    with pytest.raises(ActionRefused, match="a decision is final"):
        decided.change_status(REJECTED, message="changed my mind")
    kinds = [(e.kind, e.status) for e in Event.timeline(service_request)]
    assert kinds == [("submitted", "received"), ("status", UNDER_REVIEW), ("status", ACCEPTED)]


def test_a_stale_object_cannot_decide_twice(service_request):
    """The status check is in the UPDATE: a copy loaded before the first decision loses."""
    service_request.change_status(UNDER_REVIEW)
    stale = ServiceRequest.get_by_id(service_request.id)
    service_request.change_status(ACCEPTED, message="ok")
    with pytest.raises(ActionRefused):
        stale.change_status(REJECTED, message="no")
    assert ServiceRequest.get_by_id(service_request.id).status == ACCEPTED


def test_linked_persons_list_the_owner_first(resident, other_resident):
    names = [p.name for p in Person.linked_to(resident)]
    assert names[0] == "Amal Saad" and set(names[1:]) == {"Ravi Indian", "Sami Syrian", "Yusuf Yemeni"}
    assert [p.name for p in Person.linked_to(other_resident)] == ["Badr Ali"]


def test_catalogue_has_the_nine_services_in_both_languages(app):
    services = list(Service.ordered())
    assert len(services) == 9
    assert all(s.name_ar and s.name_en and s.documents_ar and s.documents_en for s in services)
    visit = Service.get(Service.code == "visit_extension")
    assert visit.nationality_rule == ["YE", "SY"]
    Service.sync_catalogue()
    assert Service.select().count() == 9


def test_a_draft_says_what_keeps_it_from_being_sent(resident, other_resident):
    draft = Draft.create(owner=resident, description="too short")
    assert draft.problems() == ["service", "person", "description", "documents"]
    draft.service = Service.get(Service.code == "visit_extension")
    draft.person = person_of(resident, "Ravi Indian")  # an Indian national: visit extension is YE and SY only
    draft.description = "x" * 30
    draft.save()
    assert draft.problems() == ["eligibility", "documents"]
    draft.person = person_of(other_resident, "Badr Ali")  # not linked to this account
    assert draft.problems() == ["person", "documents"]
    draft.person = person_of(resident, "Yusuf Yemeni")
    draft.add_file("a.pdf", "application/pdf", minimal_pdf())
    assert draft.problems() == []
    draft.description = "x" * 4001
    assert draft.problems() == ["description"]
