"""Guidance before a request (service pages, the person step, eligibility) and the
receipt after it, through the Flask test client."""
import io
import re

import pytest
from markupsafe import escape

from models import ACCEPTED, REJECTED, RETURNED, UNDER_REVIEW, Draft, Person, Service, db
from models.catalogue_data import SERVICE_CATALOGUE, SERVICE_GUIDE
from tests.factories import make_id_number, make_user, minimal_pdf, person_of, sign_in_client

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}
CODES = [entry["code"] for entry in SERVICE_CATALOGUE]


def radio(html, name, value):
    """The <input> tag of one radio button."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', html)
    assert found, (name, value)
    return found.group(0)


def person_id(resident, name):
    return str(person_of(resident, name).id)


# ------------------------------------------------------------------ service pages

@pytest.mark.parametrize("headers", [EN, AR])
def test_the_catalogue_lists_every_service_with_its_page(client, headers):
    html = client.get("/services/", headers=headers).get_data(as_text=True)
    for code in CODES:
        assert f'href="/services/{code}"' in html
    home = client.get("/", headers=headers).get_data(as_text=True)
    assert all(f'href="/services/{code}"' in home for code in CODES)


def test_visit_extension_page_says_who_may_apply_and_what_follows(client):
    html = client.get("/services/visit_extension", headers=EN).get_data(as_text=True)
    assert "Only for nationals of Yemen or Syria." in html
    for text in SERVICE_GUIDE["visit_extension"]["conditions_en"] + SERVICE_GUIDE["visit_extension"]["helpful_en"]:
        assert escape(text) in html
    assert "Copy of the passport" in html and "the current visit visa" in html  # required documents
    assert "seven working days" in html and "the count pauses until you answer" in html
    assert escape(SERVICE_GUIDE["visit_extension"]["after_en"]) in html
    assert 'href="/requests/new?service=visit_extension"' in html


def test_iqama_renewal_page_states_the_directorates_conditions_in_arabic(client):
    html = client.get("/services/iqama_renewal", headers=AR).get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "تأمين طبي ساري المفعول." in html and "جواز سفر ساري المفعول لستة أشهر على الأقل." in html
    assert "صورة الإقامة" in html and "إيصال سداد الرسوم" in html  # required and helpful documents


@pytest.mark.parametrize("code", ["nope", "PASSPORT", "x" * 300, "passport%20", "..", "%E2%80%AE"])
def test_an_unknown_service_is_a_404_page(client, code):
    response = client.get(f"/services/{code}", headers=EN)
    assert response.status_code == 404 and b"<html" in response.data


def test_a_nul_in_the_service_code_is_refused(client):
    assert client.get("/services/pass%00port").status_code == 400


def test_every_shipped_service_has_a_guide():
    assert set(SERVICE_GUIDE) == set(CODES)
    for guide in SERVICE_GUIDE.values():
        assert len(guide["conditions_ar"]) == len(guide["conditions_en"]) > 0
        assert len(guide["helpful_ar"]) == len(guide["helpful_en"])
        assert guide["after_ar"] and guide["after_en"]


# ------------------------------------------------------------------ the person step

def test_the_form_links_each_service_to_its_page_and_explains_the_persons(signed_in):
    html = signed_in.get("/requests/new", headers=EN).get_data(as_text=True)
    assert all(f'href="/services/{code}"' in html for code in CODES)
    assert "the national registry links to your identity number" in html
    assert "Absher" in html and "passports office" in html
    assert "links nobody else" not in html  # amal has linked persons


def test_an_account_alone_in_the_registry_is_told_why(client, app):
    with db.connection_context():
        user = make_user("solo", make_id_number(1, 55500001), full_name="Solo")
        Person.create(sponsor_id_number=user.id_number, id_number=user.id_number, name="Solo", nationality="SA")
    sign_in_client(client, "solo")
    html = client.get("/requests/new", headers=EN).get_data(as_text=True)
    assert "The registry links nobody else to your identity number yet" in html
    assert make_id_number(1, 55500001) in html


# ------------------------------------------------------------------ eligibility

def test_a_service_in_the_address_disables_the_persons_who_may_not_have_it(signed_in, resident):
    html = signed_in.get("/requests/new?service=visit_extension", headers=EN).get_data(as_text=True)
    assert "checked" in radio(html, "service", "visit_extension")
    for name in ("Amal Saad", "Ravi Indian"):
        assert "disabled" in radio(html, "person", person_id(resident, name))
    for name in ("Yusuf Yemeni", "Sami Syrian"):
        assert "disabled" not in radio(html, "person", person_id(resident, name))
    assert html.count("Only for nationals of Yemen or Syria.") >= 2


def test_iqama_services_disable_the_citizen(signed_in, resident):
    html = signed_in.get("/requests/new?service=iqama_renewal", headers=EN).get_data(as_text=True)
    assert "disabled" in radio(html, "person", person_id(resident, "Amal Saad"))
    assert "disabled" in radio(html, "person", person_id(resident, "Sami Syrian"))  # a border number
    assert "disabled" not in radio(html, "person", person_id(resident, "Yusuf Yemeni"))
    assert "Only for holders of: Iqama (resident ID)." in html


@pytest.mark.parametrize("service", ["bogus", "", "x" * 500, "passport'\"><"])
def test_an_unknown_service_in_the_address_is_ignored(signed_in, service):
    response = signed_in.get("/requests/new", query_string={"service": service}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "disabled" not in html
    assert not re.search(r'name="service"[^>]*checked', html)


def test_each_person_carries_the_services_they_may_not_have(signed_in, resident):
    html = signed_in.get("/requests/new", headers=EN).get_data(as_text=True)
    excluded = re.search(r'data-excluded="([^"]*)"', radio(html, "person", person_id(resident, "Amal Saad"))).group(1)
    assert "visit_extension" in excluded.split() and "passport" not in excluded.split()
    assert 'data-rule="Only for nationals of Yemen or Syria."' in radio(html, "service", "visit_extension")


def test_without_javascript_choosing_the_service_first_shows_who_may_apply(signed_in, resident):
    response = signed_in.post("/requests/new", headers=EN, data=dict(
        service="visit_extension", person=person_id(resident, "Amal Saad"), description="", id_number="",
        step="service"))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/requests/new?draft=") and location.endswith("#person")
    html = signed_in.get(location.split("#")[0], headers=EN).get_data(as_text=True)
    amal = radio(html, "person", person_id(resident, "Amal Saad"))
    assert "disabled" in amal and "checked" not in amal  # the draft's person no longer fits
    assert "checked" in radio(html, "service", "visit_extension")
    assert "Only for nationals of Yemen or Syria." in html


def test_an_ineligible_person_sent_anyway_gets_the_reason(signed_in, resident):
    data = dict(service="visit_extension", person=person_id(resident, "Ravi Indian"), id_number="",
                description="My visitor's visa ends next week and he is still in hospital.",
                documents=[(io.BytesIO(minimal_pdf()), "visa.pdf")])
    response = signed_in.post("/requests/new", headers=EN, data=data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "is only for nationals of Yemen or Syria" in html
    assert "disabled" in radio(html, "person", person_id(resident, "Ravi Indian"))


# ------------------------------------------------------------------ receipt and confirmation

@pytest.mark.parametrize("headers, words", [
    (EN, ["Receipt", "Request number", "Passport: issue, extend or renew", "Amal Saad", "Decision due", "Received"]),
    (AR, ["رقم الطلب", "جواز السفر", "Amal Saad", "تم الاستلام", 'dir="rtl"']),
])
def test_the_receipt_holds_what_a_resident_keeps(signed_in, service_request, headers, words):
    response = signed_in.get(f"/requests/{service_request.number}/receipt", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<bdi dir="ltr" class="num">{service_request.number}</bdi>' in html
    assert [w for w in words if w not in html] == []
    assert "data-print" in html and "js/app.js" in html


@pytest.mark.parametrize("number", ["123", "abc", "0" * 9, "9" * 40])
def test_a_receipt_for_a_wrong_number_is_404(signed_in, service_request, number):
    assert signed_in.get(f"/requests/{number}/receipt").status_code == 404


def test_someone_elses_receipt_is_404(client, service_request, other_resident):
    sign_in_client(client, "badr")
    assert client.get(f"/requests/{service_request.number}/receipt").status_code == 404


def test_the_receipt_needs_a_signed_in_owner(client, service_request):
    response = client.get(f"/requests/{service_request.number}/receipt")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_confirmation_and_request_pages_offer_the_receipt_and_a_print_button(signed_in, service_request):
    for path in ("confirmation", ""):
        html = signed_in.get(f"/requests/{service_request.number}/{path}".rstrip("/"), headers=EN).get_data(
            as_text=True)
        assert f'href="/requests/{service_request.number}/receipt"' in html
        assert re.search(r'<button type="button"[^>]*data-print hidden>Print</button>', html)
        assert "js/app.js" in html


@pytest.mark.parametrize("status", [ACCEPTED, REJECTED])
def test_the_confirmation_of_a_decided_request_says_so(signed_in, service_request, status):
    service_request.change_status(UNDER_REVIEW)
    service_request.change_status(status, message="Decided.")
    html = signed_in.get(f"/requests/{service_request.number}/confirmation", headers=EN).get_data(as_text=True)
    assert "has been decided" in html and "A decision is due by" not in html
    assert "Decided on" in html and "Decision due" not in html
    assert "See the decision" in html


def test_the_confirmation_of_a_returned_request_asks_for_the_answer(signed_in, service_request):
    service_request.change_status(UNDER_REVIEW)
    service_request.change_status(RETURNED, message="Attach the visa.")
    html = signed_in.get(f"/requests/{service_request.number}/confirmation", headers=EN).get_data(as_text=True)
    assert "waiting for your answer" in html and "A decision is due by" not in html
    assert "Paused: waiting on the resident" in html


def test_an_open_request_confirmation_still_gives_the_due_date(signed_in, service_request):
    html = signed_in.get(f"/requests/{service_request.number}/confirmation", headers=EN).get_data(as_text=True)
    assert "Your request has been sent" in html and "A decision is due by" in html


def test_service_lookup_is_safe_for_any_value(app):
    with app.app_context(), db.connection_context():
        assert Service.by_code("passport").code == "passport"
        assert Service.by_code(None) is None and Service.by_code("x" * 31) is None
        assert Draft.select().count() == 0


def test_show_who_may_apply_with_a_mistyped_number_shows_the_error(signed_in):
    response = signed_in.post("/requests/new", headers=EN, data=dict(
        service="visit_extension", person="", description="", id_number="12345", step="service"))
    assert response.status_code == 422 and 'id="id_number-error"' in response.get_data(as_text=True)
