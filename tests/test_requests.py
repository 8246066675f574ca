import datetime as dt
import io
import re

import pytest

from models import (
    ACCEPTED,
    MAX_DRAFTS_PER_OWNER,
    REJECTED,
    UNDER_REVIEW,
    Document,
    Draft,
    DraftFile,
    Event,
    ServiceRequest,
    add_working_days,
    closed_days,
    riyadh_date,
)
from tests.conftest import HX
from tests.factories import minimal_pdf, person_of, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
DESCRIPTION = "My passport expires next month and I travel for treatment; please renew it."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


PASSPORT_PDF = minimal_pdf()


def form(resident, files=(("passport.pdf", PASSPORT_PDF),), **change):
    data = dict(service="passport", person=str(person_of(resident, "Amal Saad").id),
                description=DESCRIPTION, id_number="")
    data.update(change)
    data["documents"] = [(io.BytesIO(content), name) for name, content in files]
    return data


def post_new(client, data):
    return client.post("/requests/new", data=data, content_type="multipart/form-data", headers=EN)


def test_new_request_page_lists_services_and_linked_persons(signed_in):
    page = signed_in.get("/requests/new", headers=EN).get_data(as_text=True)
    assert page.count('name="service"') == 9
    for name in ("Amal Saad", "Yusuf Yemeni", "Ravi Indian", "Sami Syrian"):
        assert name in page
    assert 'enctype="multipart/form-data"' in page


def test_the_whole_flow_gives_a_request_number_and_a_due_date(signed_in, resident):
    response = post_new(signed_in, form(resident))
    assert response.status_code == 303
    check_url = response.headers["Location"]
    assert check_url.startswith("/requests/new/check?draft=")
    page = signed_in.get(check_url, headers=EN).get_data(as_text=True)
    assert "Passport: issue, extend or renew" in page and "Amal Saad" in page
    assert DESCRIPTION in page and "passport.pdf" in page and "Change" in page
    token = Draft.get().token
    response = signed_in.post("/requests/new/confirm", data={"draft": token})
    assert response.status_code == 303
    created = ServiceRequest.get()
    assert response.headers["Location"] == f"/requests/{created.number}/confirmation"
    page = signed_in.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert created.number in page and "What happens next" in page
    received = riyadh_date(created.submitted_at)
    assert created.due_on == add_working_days(received, 7, closed_days(received))
    assert created.due_on.strftime("%-d") in page
    document = Document.get()
    assert (document.name, document.content_type, document.size) == ("passport.pdf", "application/pdf",
                                                                      len(minimal_pdf()))
    assert created.owner_id == resident.id and created.status == "received"


def test_confirming_twice_creates_one_request(signed_in, resident):
    post_new(signed_in, form(resident))
    token = Draft.get().token
    first = signed_in.post("/requests/new/confirm", data={"draft": token})
    again = signed_in.post("/requests/new/confirm", data={"draft": token})
    assert first.headers["Location"] == again.headers["Location"]
    assert ServiceRequest.select().count() == 1 and Document.select().count() == 1


def test_another_accounts_draft_cannot_be_confirmed(client, resident, other_resident):
    sign_in_client(client)
    post_new(client, form(resident))
    token = Draft.get().token
    client.post("/auth/logout")
    sign_in_client(client, "badr")
    response = client.post("/requests/new/confirm", data={"draft": token})
    assert response.status_code == 303 and "/requests/new" in response.headers["Location"]
    assert ServiceRequest.select().count() == 0


@pytest.mark.parametrize("change, message", [
    (dict(service=""), "Choose the service"),
    (dict(service="not-a-service"), "Choose the service"),
    (dict(person=""), "Choose the person, or type their identity number"),
    (dict(person="999999"), "Choose the person, or type their identity number"),
    (dict(description="too short"), "at least 30 characters (now 9)"),
    (dict(description="x" * 4001), "at most 4000 characters (now 4001)"),
    (dict(person="", id_number="1000000009"), "not valid: check each digit"),
    (dict(person="", id_number="12345"), "exactly 10 digits"),
    (dict(person="", id_number="1000000008"), "not linked to your account"),
    (dict(service="visit_extension", person="Ravi Indian"), "only for nationals of Yemen or Syria"),
    (dict(service="profession", person="Amal Saad"), "only for holders of"),
])
def test_bad_requests_are_refused_with_a_clear_message(signed_in, resident, change, message):
    if change.get("person") in ("Ravi Indian", "Amal Saad"):
        change["person"] = str(person_of(resident, change["person"]).id)
    response = post_new(signed_in, form(resident, **change))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert ServiceRequest.select().count() == 0


def test_a_linked_person_can_be_given_by_number_in_arabic_digits(signed_in, resident):
    yusuf = person_of(resident, "Yusuf Yemeni")
    arabic = yusuf.id_number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = post_new(signed_in, form(resident, person="", id_number=arabic, service="visit_extension"))
    assert response.status_code == 303
    assert Draft.get().person_id == yusuf.id


@pytest.mark.parametrize("files, message", [
    ((), "Attach at least one document"),
    ((("fake.pdf", b"just some text pretending"),), "is not a PDF, JPEG or PNG file"),
    ((("empty.pdf", b""),), "is empty"),
    ((("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),), "is larger than 5 MB"),
])
def test_bad_documents_are_refused(signed_in, resident, files, message):
    response = post_new(signed_in, form(resident, files=files))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert Document.select().count() == 0


def test_documents_are_recognised_by_content_not_name(signed_in, resident):
    files = (("scan.pdf", PNG), ("photo", JPEG), ("letter.PDF", minimal_pdf()))
    assert post_new(signed_in, form(resident, files=files)).status_code == 303
    stored = [(f.name, f.content_type) for f in Draft.get().files()]
    assert stored == [("scan.pdf.png", "image/png"), ("photo.jpg", "image/jpeg"), ("letter.PDF", "application/pdf")]


def test_at_most_five_documents(signed_in, resident):
    files = [(f"d{i}.pdf", minimal_pdf()) for i in range(6)]
    response = post_new(signed_in, form(resident, files=files))
    assert response.status_code == 422 and "At most 5 documents" in response.get_data(as_text=True)
    assert Draft.get().file_count() == 5


def test_an_oversized_upload_gets_a_friendly_page(app, signed_in, resident):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = post_new(signed_in, form(resident, files=(("a.pdf", b"%PDF-" + b"0" * 4096),)))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "<html" in page and "What you sent is too large" in page


def test_a_text_field_no_page_sends_is_a_400_not_the_documents_page(signed_in, resident):
    """Werkzeug refuses a text field over 500 KB with a 413; its page would ask for
    smaller documents. The documents here are small: the form is what is wrong."""
    response = post_new(signed_in, form(resident, description="x" * 600_000))
    assert response.status_code == 400 and "Something in this request was not right" in response.text
    assert "What you sent is too large" not in response.text and Draft.select().count() == 0
def test_the_limits_shown_are_the_configured_ones(app, signed_in, resident):
    """The hint, the browser's size check, the refusal and the too-large page all
    say the configured limits, in the reader's language."""
    app.config.update(MAX_DOCUMENT_BYTES=2 * 1024 * 1024, MAX_DOCUMENTS=3)
    for path in ("/requests/new", "/services/passport"):
        page = signed_in.get(path, headers=EN).get_data(as_text=True)
        assert "PDF, JPEG or PNG; at most 3 files of 2 MB each." in page and "5 MB" not in page
    assert "This file is larger than 2 MB" in signed_in.get("/requests/new", headers=EN).get_data(as_text=True)
    arabic = signed_in.get("/requests/new", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "بحد أقصى 3 ملفات، لا يتجاوز حجم كل منها 2 ميغابايت" in arabic
    big = post_new(signed_in, form(resident, files=(("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024)),)))
    assert big.status_code == 422 and "“big.pdf” is larger than 2 MB" in big.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    too_large = post_new(signed_in, form(resident, files=(("a.pdf", b"%PDF-" + b"0" * 4096),)))
    assert too_large.status_code == 413
    assert "Each document may be at most 2 MB, and at most 3 documents in all." in too_large.get_data(as_text=True)


def test_uploaded_files_survive_a_failed_check(signed_in, resident):
    """On a metered connection a file must never be sent twice."""
    response = post_new(signed_in, form(resident, description="short"))
    assert response.status_code == 422
    draft = Draft.get()
    assert "passport.pdf" in response.get_data(as_text=True) and draft.file_count() == 1
    response = post_new(signed_in, form(resident, files=(), draft=draft.token))
    assert response.status_code == 303
    assert Draft.get().file_count() == 1


def test_a_change_link_keeps_everything_and_files_can_be_removed(signed_in, resident):
    post_new(signed_in, form(resident, files=(("a.pdf", minimal_pdf()), ("b.png", PNG))))
    draft = Draft.get()
    page = signed_in.get(f"/requests/new?draft={draft.token}", headers=EN).get_data(as_text=True)
    assert DESCRIPTION in page and "a.pdf" in page and "b.png" in page
    first = draft.files()[0]
    response = post_new(signed_in, form(resident, files=(), draft=draft.token, remove=[str(first.id)],
                                        service="dependents"))
    assert response.status_code == 303
    assert [f.name for f in Draft.get().files()] == ["b.png"] and Draft.get().service.code == "dependents"


def test_my_requests_lists_only_mine_newest_first(client, resident, other_resident):
    older = submit_request(resident)
    newer = submit_request(resident, person_name="Yusuf Yemeni", service="iqama_renewal")
    theirs = submit_request(other_resident, person_name="Badr Ali")
    ServiceRequest.update(submitted_at=older.submitted_at - dt.timedelta(days=365)).where(
        ServiceRequest.id == older.id).execute()
    sign_in_client(client)
    page = client.get("/requests/").get_data(as_text=True)
    assert page.index(newer.number) < page.index(older.number)
    assert theirs.number not in page


def test_request_page_shows_details_documents_timeline_and_panel(signed_in, service_request):
    page = signed_in.get(f"/requests/{service_request.number}", headers=EN).get_data(as_text=True)
    assert "<html" in page and 'id="status-panel"' in page and 'id="timeline"' in page
    assert "doc0.pdf" in page and "Request sent" in page and "Received" in page
    assert "htmx.min.js" in page and 'http-equiv="refresh"' in page


def test_document_download_is_an_attachment_with_the_right_bytes(signed_in, service_request):
    document = Document.get(Document.request == service_request)
    response = signed_in.get(f"/requests/{service_request.number}/documents/{document.id}")
    assert response.status_code == 200 and response.data == bytes(document.data)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"] and "ETag" not in response.headers  # never kept


@pytest.mark.parametrize("path", ["", "/status", "/confirmation", "/documents/{doc}"])
def test_another_persons_request_is_not_found(client, service_request, other_resident, path):
    document = Document.get(Document.request == service_request)
    sign_in_client(client, "badr")
    url = f"/requests/{service_request.number}" + path.format(doc=document.id)
    assert client.get(url).status_code == 404
    assert client.get(url, headers=HX).status_code == 404


def test_a_document_of_another_request_is_not_found(client, resident, other_resident):
    mine = submit_request(resident)
    theirs = submit_request(other_resident, person_name="Badr Ali")
    their_doc = Document.get(Document.request == theirs)
    sign_in_client(client)
    assert client.get(f"/requests/{mine.number}/documents/{their_doc.id}").status_code == 404


@pytest.mark.parametrize("number", ["123", "abc", "000000000"])
def test_malformed_numbers_in_urls_are_not_found(signed_in, number):
    assert signed_in.get(f"/requests/{number}").status_code == 404


# ------------------------------------------------------------------ live panel

def panel(client, service_request, version=None):
    headers = dict(HX)
    if version:
        headers["X-Shown-Version"] = version
    return client.get(f"/requests/{service_request.number}/status", headers=headers)


def version_in(html):
    return re.search(r'"X-Shown-Version": "([^"]+)"', html).group(1)


def test_plain_get_of_the_panel_url_is_a_whole_page(signed_in, service_request):
    response = signed_in.get(f"/requests/{service_request.number}/status")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_get_of_the_panel_is_the_fragment_only(signed_in, service_request):
    html = panel(signed_in, service_request).get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<section id="status-panel"')
    assert 'hx-trigger="poll, visibilitychange from:document"' in html and 'data-poll-every="10"' in html
    assert 'hx-swap="outerHTML"' in html
    assert 'hx-status:5xx="swap:none"' in html


def test_an_unchanged_poll_costs_no_body(signed_in, service_request):
    version = version_in(panel(signed_in, service_request).get_data(as_text=True))
    response = panel(signed_in, service_request, version)
    assert response.status_code == 204 and response.data == b""


def test_a_changed_status_returns_the_new_panel_and_timeline(signed_in, service_request):
    version = version_in(panel(signed_in, service_request).get_data(as_text=True))
    service_request.change_status(UNDER_REVIEW)
    response = panel(signed_in, service_request, version)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "s-under_review" in html
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html
    assert version_in(html) != version


def test_a_final_status_stops_polling_and_shows_the_reason(signed_in, service_request):
    service_request.change_status(UNDER_REVIEW)
    service_request.change_status(REJECTED, message="The photo is not clear.")
    html = panel(signed_in, service_request, "stale").get_data(as_text=True)
    assert "hx-get" not in html and "hx-trigger" not in html and "data-poll" not in html
    assert "The photo is not clear." in html
    page = signed_in.get(f"/requests/{service_request.number}").get_data(as_text=True)
    assert "htmx.min.js" not in page and 'http-equiv="refresh"' not in page


def test_the_panel_version_depends_on_the_language(signed_in, service_request):
    arabic = version_in(panel(signed_in, service_request).get_data(as_text=True))
    signed_in.post("/auth/language", data={"lang": "en"})
    response = panel(signed_in, service_request, arabic)
    html = response.get_data(as_text=True)
    assert arabic.endswith("-ar") and response.status_code == 200
    assert version_in(html) == arabic.replace("-ar", "-en") and "This panel updates by itself." in html
    assert panel(signed_in, service_request, version_in(html)).status_code == 204  # English, unchanged


def test_a_panel_is_never_kept_by_the_browser_so_it_has_no_etag(signed_in, service_request):
    """Sent no-store, a panel is never revalidated: an unchanged panel is the
    X-Shown-Version poll's empty 204, never a 304."""
    first = panel(signed_in, service_request)
    assert "no-store" in first.headers["Cache-Control"] and "ETag" not in first.headers
    again = signed_in.get(f"/requests/{service_request.number}/status", headers={**HX, "If-None-Match": "*"})
    assert again.status_code == 200 and again.text == first.text


def test_timeline_lists_every_change(signed_in, service_request):
    service_request.change_status(UNDER_REVIEW)
    service_request.change_status(ACCEPTED, message="Approved.")
    assert [e.status for e in Event.timeline(service_request)] == ["received", UNDER_REVIEW, ACCEPTED]
    page = signed_in.get(f"/requests/{service_request.number}", headers=EN).get_data(as_text=True)
    assert page.split('id="timeline"')[1].count("<time ") == 3 and "Approved." in page




def test_huge_ids_are_refused_not_crashed(signed_in, resident, service_request):
    response = post_new(signed_in, form(resident, remove=["99999999999999999999999"]))
    assert response.status_code == 303 and Draft.get().file_count() == 1
    url = f"/requests/{service_request.number}/documents/99999999999999999999999"
    assert signed_in.get(url).status_code == 404


def test_drafts_in_many_tabs_are_all_kept_up_to_the_limit(signed_in, resident):
    for _ in range(MAX_DRAFTS_PER_OWNER):
        assert signed_in.get("/requests/new").status_code == 200  # reading never deletes
        assert post_new(signed_in, form(resident)).status_code == 303
    assert Draft.select().count() == MAX_DRAFTS_PER_OWNER
    page = signed_in.get("/requests/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "cannot be saved" in page  # said before anything is typed or uploaded
    refused = post_new(signed_in, form(resident))
    assert refused.status_code == 422 and "cannot be saved" in refused.get_data(as_text=True)
    assert Draft.select().count() == MAX_DRAFTS_PER_OWNER


def test_my_requests_lists_drafts_to_continue_or_delete(signed_in, resident):
    post_new(signed_in, form(resident))
    draft = Draft.get()
    page = signed_in.get("/requests/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/requests/new?draft={draft.token}" in page and "Unfinished requests" in page
    assert f"/requests/drafts/{draft.token}/delete" in page
    question = signed_in.get(f"/requests/drafts/{draft.token}/delete", headers={"Accept-Language": "en"})
    assert question.status_code == 200 and "cannot be undone" in question.get_data(as_text=True)
    assert Draft.select().count() == 1  # asking deletes nothing
    assert signed_in.post(f"/requests/drafts/{draft.token}/delete").status_code == 303
    assert Draft.select().count() == 0 and DraftFile.select().count() == 0
    assert signed_in.post("/requests/drafts/nope/delete").status_code == 404
    assert signed_in.post("/requests/drafts/a%00b/delete").status_code == 400


def test_only_the_owner_can_delete_a_draft(app, signed_in, resident, other_resident):
    post_new(signed_in, form(resident))
    token = Draft.get().token
    badr = app.test_client()
    sign_in_client(badr, "badr")
    assert badr.get(f"/requests/drafts/{token}/delete").status_code == 404
    assert badr.post(f"/requests/drafts/{token}/delete").status_code == 404
    assert Draft.select().count() == 1


def test_a_late_second_confirmation_finds_the_request(signed_in, resident, monkeypatch):
    """The draft is gone because the first confirmation turned it into the request."""
    post_new(signed_in, form(resident))
    token = Draft.get().token
    first = signed_in.post("/requests/new/confirm", data={"draft": token})
    import models.workflow as routes
    original = ServiceRequest.get_or_none
    calls = []

    def miss_first_lookup(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else original(*args, **kwargs)
    monkeypatch.setattr(routes.ServiceRequest, "get_or_none", miss_first_lookup)
    again = signed_in.post("/requests/new/confirm", data={"draft": token})
    assert again.headers["Location"] == first.headers["Location"]


def test_the_back_button_to_the_check_page_after_sending_shows_the_request(signed_in, resident):
    post_new(signed_in, form(resident))
    token = Draft.get().token
    sent = signed_in.post("/requests/new/confirm", data={"draft": token})
    back = signed_in.get(f"/requests/new/check?draft={token}")
    assert back.status_code == 303 and back.headers["Location"] == sent.headers["Location"]


@pytest.mark.parametrize("token", ["x" * 1_000_000, "a" * 33, "a" * 31, "abc", "a" * 31 + "\n",
                                   "../" + "a" * 29, "a" * 31 + "/"])
def test_a_draft_value_not_shaped_like_a_token_is_a_400_never_echoed(signed_in, resident, token):
    responses = [signed_in.get("/requests/new", query_string={"draft": token}, headers=EN),
                 signed_in.get("/requests/new/check", query_string={"draft": token}, headers=EN),
                 signed_in.post("/requests/new/confirm", data={"draft": token}, headers=EN),
                 post_new(signed_in, form(resident, draft=token))]
    for response in responses:
        assert response.status_code == 400 and "Something in this request was not right" in response.text
        assert "Location" not in response.headers and not any(token in value for value in response.headers.values())
        assert sum(len(value) for value in response.headers.values()) < 2000
    assert Draft.select().count() == 0


def test_an_unknown_token_shaped_draft_value_leads_back_to_a_new_form(signed_in, resident):
    token = "A" * 32
    response = signed_in.post("/requests/new/confirm", data={"draft": token})
    assert response.status_code == 303 and response.headers["Location"] == f"/requests/new?draft={token}"
    assert signed_in.get(response.headers["Location"]).status_code == 200
    assert signed_in.get("/requests/new?draft=").status_code == 200  # empty: a new request


def test_an_anonymous_1mb_draft_value_is_refused_before_the_sign_in_redirect(client):
    response = client.post("/requests/new/confirm", data={"draft": "x" * 1_000_000})
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosted_and_history_restore_requests_get_the_whole_page(signed_in, service_request, header):
    response = signed_in.get(f"/requests/{service_request.number}/status", headers={**HX, header: "true"})
    assert "<html" in response.get_data(as_text=True)
