"""After a decision: what happens next, starting again from a rejected request, the
resident's rating (once) and the supervisors' averages; the officer's request page
that refreshes itself, and who sees the decision form. On SQLite and PostgreSQL."""
import csv
import io
import re

import pytest
from peewee import IntegrityError

from models import (
    ACCEPTED,
    MAX_DRAFTS_PER_OWNER,
    REJECTED,
    UNDER_REVIEW,
    AlreadyRated,
    Draft,
    NotDecided,
    Rating,
    ServiceRequest,
    db,
)
from tests.conftest import HX
from tests.factories import csrf_token, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}


def as_user(app, username):
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def decide(service_request, status, message=None):
    with db.connection_context():
        current = ServiceRequest.get_by_id(service_request.id)
        if current.status == "received":
            current = current.change_status(UNDER_REVIEW)
        return current.change_status(status, message=message)


@pytest.fixture
def rejected(service_request):
    return decide(service_request, REJECTED, "The passport copy is unreadable; attach a clear copy.")


@pytest.fixture
def accepted(service_request):
    return decide(service_request, ACCEPTED, "Renewed for five years.")


# ------------------------------------------------------------------ what happens next

def test_an_accepted_request_says_what_happens_next(app, accepted):
    html = as_user(app, "amal").get(f"/requests/{accepted.number}", headers=EN).get_data(as_text=True)
    assert "What happens next" in html and "Collect the passport at the passports office" in html
    assert "Start a new request from this one" not in html and "Rate this service" in html


def test_an_open_request_offers_neither_next_steps_nor_a_rating(app, service_request):
    html = as_user(app, "amal").get(f"/requests/{service_request.number}", headers=EN).get_data(as_text=True)
    assert 'id="after-decision"></div>' in html
    assert "Rate this service" not in html and "Start a new request" not in html


def test_a_rejected_request_shows_the_reason_then_start_again(app, rejected):
    html = as_user(app, "amal").get(f"/requests/{rejected.number}", headers=AR).get_data(as_text=True)
    assert html.index("attach a clear copy") < html.index(f"/requests/{rejected.number}/again")


# ------------------------------------------------------------------ start again

def test_start_again_makes_a_filled_draft_and_opens_the_form(app, rejected):
    client = as_user(app, "amal")
    response = client.post(f"/requests/{rejected.number}/again", headers=EN)
    assert response.status_code == 303
    location = response.headers["Location"]
    token = re.search(r"draft=([A-Za-z0-9_-]+)", location).group(1)
    assert f"again={rejected.number}" in location
    with db.connection_context():
        draft = Draft.get(Draft.token == token)
        assert (draft.service_id, draft.person_id, draft.description) == (
            rejected.service_id, rejected.person_id, rejected.description)
        assert draft.file_count() == 0 and draft.problems() == ["documents"]
    form = client.get(location, headers=EN).get_data(as_text=True)
    assert f"starts from request {rejected.number}, which was rejected" in form
    assert "My passport expires next month" in form
    assert re.search(r'value="passport"[^>]*checked|checked[^>]*value="passport"', form)


def test_start_again_only_for_a_rejected_request(app, accepted):
    response = as_user(app, "amal").post(f"/requests/{accepted.number}/again", headers=EN)
    assert response.status_code == 409 and "Only a rejected request can be started again." in response.text
    with db.connection_context():
        assert Draft.select().count() == 0


def test_start_again_respects_the_draft_limit(app, resident, rejected):
    with db.connection_context():
        for _ in range(MAX_DRAFTS_PER_OWNER):
            Draft.create(owner=resident)
    response = as_user(app, "amal").post(f"/requests/{rejected.number}/again", headers=EN)
    assert response.status_code == 409
    assert "You already keep as many unfinished requests as an account may" in response.text
    with db.connection_context():
        assert Draft.select().count() == MAX_DRAFTS_PER_OWNER


@pytest.mark.parametrize("number", ["000000000", "12", "abc", "１２３٤٥٦٧٨٩"])
def test_start_again_and_rating_of_an_unknown_number_is_404(app, resident, number):
    client = as_user(app, "amal")
    assert client.post(f"/requests/{number}/again").status_code == 404
    assert client.post(f"/requests/{number}/rating", data={"stars": "5"}).status_code == 404


def test_someone_elses_request_is_404_and_staff_get_no_resident_pages(app, rejected, other_resident, officer):
    badr = as_user(app, "badr")
    assert badr.post(f"/requests/{rejected.number}/again").status_code == 404
    assert badr.post(f"/requests/{rejected.number}/rating", data={"stars": "4"}).status_code == 404
    with db.connection_context():
        assert Draft.select().count() == 0 and Rating.select().count() == 0


def test_visitors_sign_in_first(app, rejected):
    for action in ("again", "rating"):
        response = app.test_client().post(f"/requests/{rejected.number}/{action}")
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_again_form_with_an_odd_again_value_is_just_the_form(app, rejected):
    client = as_user(app, "amal")
    location = client.post(f"/requests/{rejected.number}/again").headers["Location"]
    for odd in ("x", "999999999", "1" * 500):
        page = client.get(re.sub(r"again=\d+", f"again={odd}", location), headers=EN)
        assert page.status_code == 200 and "which was rejected" not in page.text


def test_start_again_and_rating_need_the_csrf_token(app, rejected):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in_client(client)
    assert client.post(f"/requests/{rejected.number}/again").status_code == 400
    assert client.post(f"/requests/{rejected.number}/rating", data={"stars": "5"}).status_code == 400
    token = csrf_token(client, f"/requests/{rejected.number}")
    assert client.post(f"/requests/{rejected.number}/again", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/requests/{rejected.number}/rating",
                       data={"stars": "5", "csrf_token": token}).status_code == 303


# ------------------------------------------------------------------ rating

def test_a_decided_request_is_rated_once(app, accepted):
    client = as_user(app, "amal")
    response = client.post(f"/requests/{accepted.number}/rating", data={"stars": "4", "comment": "  Quick.  "})
    assert response.status_code == 303 and response.headers["Location"].endswith("#rating")
    with db.connection_context():
        rating = Rating.get()
        assert (rating.request_id, rating.stars, rating.comment) == (accepted.id, 4, "Quick.")
    html = client.get(f"/requests/{accepted.number}", headers=EN).get_data(as_text=True)
    assert "You rated this service 4 of 5. Thank you." in html and 'name="stars"' not in html
    again = client.post(f"/requests/{accepted.number}/rating", data={"stars": "1"}, headers=EN)
    assert again.status_code == 409 and "You have already rated this request" in again.text
    with db.connection_context():
        assert Rating.select().count() == 1 and Rating.get().stars == 4


def test_a_rejected_request_can_be_rated_too_without_comment(app, rejected):
    assert as_user(app, "amal").post(f"/requests/{rejected.number}/rating", data={"stars": "1"}).status_code == 303
    with db.connection_context():
        assert Rating.get().comment is None


def test_an_open_request_cannot_be_rated(app, service_request):
    response = as_user(app, "amal").post(f"/requests/{service_request.number}/rating", data={"stars": "5"},
                                         headers=EN)
    assert response.status_code == 409 and "You can rate a request once it is decided." in response.text
    with db.connection_context():
        assert Rating.select().count() == 0


@pytest.mark.parametrize("data, message", [
    ({}, "Choose from 1 to 5 stars."),
    ({"stars": "0"}, "Choose from 1 to 5 stars."),
    ({"stars": "6"}, "Choose from 1 to 5 stars."),
    ({"stars": "-1"}, "Choose from 1 to 5 stars."),
    ({"stars": "five"}, "Choose from 1 to 5 stars."),
    ({"stars": "9" * 40}, "Choose from 1 to 5 stars."),
    ({"stars": "3", "comment": "x" * 1001}, "At most 1000 characters."),
])
def test_bad_ratings_are_refused_with_the_form(app, accepted, data, message):
    response = as_user(app, "amal").post(f"/requests/{accepted.number}/rating", data=data, headers=EN)
    assert response.status_code == 422 and message in response.text
    assert 'aria-invalid="true"' in response.text or 'id="stars-error"' in response.text
    with db.connection_context():
        assert Rating.select().count() == 0


def test_the_database_keeps_one_rating_per_request_and_stars_in_range(app, accepted):
    with db.connection_context():
        current = ServiceRequest.get_by_id(accepted.id)
        Rating.give(current, 5)
        with pytest.raises(AlreadyRated):
            Rating.give(current, 3)
        with pytest.raises(IntegrityError), db.atomic():  # the unique index, without the model's check
            Rating.insert(request=current, stars=2).execute()
        with pytest.raises(IntegrityError), db.atomic():  # the CHECK constraint
            Rating.update(stars=9).execute()
        assert [r.stars for r in Rating.select()] == [5]


def test_the_model_refuses_an_open_request(app, service_request):
    with db.connection_context(), pytest.raises(NotDecided):
        Rating.give(ServiceRequest.get_by_id(service_request.id), 5)


def test_the_decision_arriving_in_place_brings_next_steps_and_the_rating_form(app, service_request):
    client = as_user(app, "amal")
    page = client.get(f"/requests/{service_request.number}", headers=EN).get_data(as_text=True)
    version = re.search(r'"X-Shown-Version": "([^"]+)"', page).group(1)
    decide(service_request, ACCEPTED)
    update = client.get(f"/requests/{service_request.number}/status", headers={**HX, **EN,
                                                                                "X-Shown-Version": version})
    html = update.get_data(as_text=True)
    assert update.status_code == 200 and "<html" not in html
    assert 'id="after-decision" class="after" hx-swap-oob="true"' in html and 'name="stars"' in html


# ------------------------------------------------------------------ supervisors' figures

def rate(service_request, stars):
    with db.connection_context():
        Rating.give(ServiceRequest.get_by_id(service_request.id), stars, "private words")


def test_supervisors_see_the_average_per_service_officers_do_not(app, resident, officer, supervisor):
    for stars in (5, 4):
        rate(decide(submit_request(resident), ACCEPTED), stars)
    rate(decide(submit_request(resident, "Yusuf Yemeni", "visit_extension"), REJECTED, "No."), 2)
    html = as_user(app, "fahad").get("/staff/figures", headers=EN).get_data(as_text=True)
    section = html[html.index("Residents' satisfaction"):html.index("SMS notices to residents")]
    assert re.search(r"Passport: issue, extend or renew</th>\s*<td>2</td><td>4.5</td>", section)
    assert re.search(r"Visit visa extension[^<]*</th>\s*<td>1</td><td>2.0</td>", section)
    assert re.search(r"All services</th>\s*<td>3</td><td>3.7</td>", section)
    assert "private words" not in html and "amal" not in section
    officer_html = as_user(app, "noura").get("/staff/figures", headers=EN).get_data(as_text=True)
    assert "Residents' satisfaction" not in officer_html and "Deadline figures" in officer_html


def test_the_csv_has_the_ratings_for_supervisors_only(app, resident, officer, supervisor):
    rate(decide(submit_request(resident), ACCEPTED), 3)
    rows = list(csv.DictReader(io.StringIO(as_user(app, "fahad").get("/staff/figures.csv").text)))
    passport = next(row for row in rows if row["service"] == "passport")
    assert (passport["ratings"], passport["average_rating"]) == ("1", "3.00")
    assert (rows[-1]["service"], rows[-1]["ratings"]) == ("all", "1")
    assert next(row for row in rows if row["service"] == "transfer")["average_rating"] == ""
    officer_rows = list(csv.DictReader(io.StringIO(as_user(app, "noura").get("/staff/figures.csv").text)))
    assert "ratings" not in officer_rows[0] and "average_rating" not in officer_rows[0]


def test_staff_request_pages_never_show_a_rating(app, accepted, officer, supervisor):
    rate(accepted, 1)
    for username in ("noura", "fahad"):
        html = as_user(app, username).get(f"/staff/requests/{accepted.number}", headers=EN).text
        assert "private words" not in html and "rated" not in html and "★" not in html


# ------------------------------------------------------------------ the officer's page refreshes itself

def state_version(html):
    return re.search(r'"X-Shown-Version": "([^"]+)"', html).group(1)


def test_the_officers_page_polls_and_gets_204_while_nothing_changed(app, service_request, officer, officer2):
    noura = as_user(app, "noura")
    page = noura.get(f"/staff/requests/{service_request.number}", headers=EN).text
    assert 'id="request-state"' in page and "data-poll" in page and "htmx.min.js" in page
    url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    version = state_version(page)
    unchanged = noura.get(url, headers={**HX, **EN, "X-Shown-Version": version})
    assert unchanged.status_code == 204 and unchanged.data == b"" and "Content-Type" not in unchanged.headers
    assert as_user(app, "khalid").post(f"/staff/requests/{service_request.number}/claim").status_code == 303
    changed = noura.get(url, headers={**HX, **EN, "X-Shown-Version": version})
    html = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "<html" not in html and 'id="request-state"' in html
    assert "Khalid Officer" in html and "This request changed since you opened this page" in html
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html and "Taken by the officer" in html
    assert 'id="decide"' not in html and 'id="note"' not in html  # the forms are never in the fragment
    assert noura.get(url, headers={**HX, **EN, "X-Shown-Version": state_version(html)}).status_code == 204


def test_an_answer_and_a_note_change_the_officers_version(app, service_request, officer):
    noura = as_user(app, "noura")
    version = state_version(noura.get(f"/staff/requests/{service_request.number}").text)
    url = f"/staff/requests/{service_request.number}/state"
    with db.connection_context():
        ServiceRequest.get_by_id(service_request.id).add_note(officer, "Looks complete.")
    response = noura.get(url, headers={**HX, "X-Shown-Version": version})
    assert response.status_code == 200 and "Looks complete." in response.text
    assert "This request changed" not in response.text  # no seen value: nothing to compare


def test_the_state_without_htmx_is_the_whole_page(app, service_request, officer):
    response = as_user(app, "noura").get(f"/staff/requests/{service_request.number}/state", headers=EN)
    assert response.status_code == 200 and "<html" in response.text and 'id="note"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_a_decided_request_stops_the_officers_polling(app, accepted, officer):
    html = as_user(app, "noura").get(f"/staff/requests/{accepted.number}", headers=EN).text
    assert 'id="request-state"' in html and "data-poll" not in html and "htmx.min.js" not in html
    fragment = as_user(app, "noura").get(f"/staff/requests/{accepted.number}/state", headers={**HX, **EN}).text
    assert "hx-get" not in fragment and "Renewed for five years." in fragment


@pytest.mark.parametrize("number", ["000000000", "12", "abc"])
def test_the_state_of_an_unknown_request_is_404(app, officer, number):
    assert as_user(app, "noura").get(f"/staff/requests/{number}/state", headers=HX).status_code == 404


def test_the_state_is_for_staff_only(app, service_request):
    assert as_user(app, "amal").get(f"/staff/requests/{service_request.number}/state").status_code == 403
    visitor = app.test_client().get(f"/staff/requests/{service_request.number}/state", headers=HX)
    assert visitor.status_code == 401 and visitor.headers["HX-Redirect"].startswith("/auth/login")


def test_an_odd_seen_value_is_harmless(app, service_request, officer):
    response = as_user(app, "noura").get(f"/staff/requests/{service_request.number}/state?seen=" + "<x>" * 50,
                                         headers={**HX, **EN})
    assert response.status_code == 200 and "<x>" not in response.text


# ------------------------------------------------------------------ who sees the decision form

def under_review(service_request, officer=None):
    with db.connection_context():
        return ServiceRequest.get_by_id(service_request.id).change_status(UNDER_REVIEW, actor=officer)


def test_only_the_holder_sees_the_decision_form(app, service_request, officer, officer2, supervisor):
    under_review(service_request, officer)
    number = service_request.number
    assert 'id="decide"' in as_user(app, "noura").get(f"/staff/requests/{number}").text
    khalid = as_user(app, "khalid").get(f"/staff/requests/{number}", headers=EN).text
    assert 'id="decide"' not in khalid and 'id="return"' not in khalid
    assert "Noura Officer is working on this request." in khalid
    fahad = as_user(app, "fahad").get(f"/staff/requests/{number}", headers=EN).text
    assert 'id="decide"' not in fahad and "reassign it to yourself below" in fahad
    refused = as_user(app, "khalid").post(f"/staff/requests/{number}/decide",
                                          data={"decision": "accepted"}, headers=EN)
    assert refused.status_code == 409  # the server still refuses


def test_an_unheld_request_under_review_asks_to_take_it_first(app, service_request, officer):
    under_review(service_request)
    html = as_user(app, "noura").get(f"/staff/requests/{service_request.number}", headers=EN).text
    assert 'id="decide"' not in html and "Take this request to decide it" in html

