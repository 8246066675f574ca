import re

import pytest

from models import luhn_digit
from tests.factories import sign_in_client, submit_request

EN = {"Accept-Language": "en"}


def test_inquiry_page_has_the_form(signed_in):
    page = signed_in.get("/inquiry", headers=EN).get_data(as_text=True)
    assert 'name="number"' in page and "Inquire about a request" in page


def test_own_number_leads_to_the_request(signed_in, service_request):
    response = signed_in.get("/inquiry", query_string={"number": service_request.number})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/requests/{service_request.number}"


def test_number_in_arabic_digits_with_spaces_is_accepted(signed_in, service_request):
    typed = " ".join([service_request.number[:3], service_request.number[3:6], service_request.number[6:]])
    typed = typed.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = signed_in.get("/inquiry", query_string={"number": typed})
    assert response.headers["Location"] == f"/requests/{service_request.number}"


def test_another_persons_number_looks_like_a_missing_one(signed_in, other_resident):
    theirs = submit_request(other_resident, person_name="Badr Ali")
    missing = "12345678" + luhn_digit("12345678")
    signed_in.get("/inquiry")  # the form first: neither answer is a first visit (web/first_screen.py)
    answers = [signed_in.get("/inquiry", query_string={"number": n}, headers=EN) for n in (theirs.number, missing)]
    assert [a.status_code for a in answers] == [404, 404]
    bodies = [re.sub(r'name="csrf_token" value="[^"]+"', "", a.get_data(as_text=True).replace(n, "N"))
              for a, n in zip(answers, (theirs.number, missing), strict=True)]
    assert bodies[0] == bodies[1] and "no request with this number in your account" in bodies[0]


@pytest.mark.parametrize("number, message", [
    ("", "Enter the request number"),
    ("12ab", "digits only"),
    ("1234", "exactly 9 digits; this one has 4"),
    ("123456789", "has a typo"),
])
def test_malformed_numbers_are_caught_before_any_lookup(signed_in, number, message):
    if number == "123456789" and luhn_digit("12345678") == "9":
        number = "123456788"
    response = signed_in.get("/inquiry", query_string={"number": number}, headers=EN)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_inquiry_needs_sign_in(client):
    assert client.get("/inquiry").status_code == 302


def test_healthz_answers_while_the_process_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}  # the database: tests/test_readiness.py


def test_start_page_for_visitors_and_redirect_for_residents(client, resident):
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert "Sign in" in page and "seven working days" in page
    sign_in_client(client)
    assert client.get("/").headers["Location"] == "/requests/"
