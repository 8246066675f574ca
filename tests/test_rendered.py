"""The request page is rendered once per worker for each version and language
(web/rendered.py): never stale, and every session gets its own CSRF token in it."""
import datetime as dt
import re

import pytest
from flask import template_rendered

import blueprints.requests.routes as request_routes
import web.rendered
from models import (
    ACCEPTED,
    REJECTED,
    RETURNED,
    UNDER_REVIEW,
    Person,
    Rating,
    Reason,
    Service,
    ServiceRequest,
    User,
    db,
    upgrade,
    utcnow,
)
from tests.factories import CSRF_TOKEN, make_id_number, minimal_pdf, sign_in_client
from tests.test_after_decision import as_user, decide
from web.rendered import RenderedCache

EN = {"Accept-Language": "en"}


@pytest.fixture
def rendered(app):
    """The names of the templates each request renders."""
    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)
    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


def view(client, service_request, rendered, headers=EN, query=""):
    rendered.clear()
    response = client.get(f"/requests/{service_request.number}{query}", headers=headers)
    assert response.status_code == 200
    return response.text, "requests/detail.html" in rendered


def test_a_second_view_of_an_unchanged_request_renders_nothing(app, service_request, rendered):
    client = as_user(app, "amal")
    client.get("/requests/")  # a page before: the browser has app.css, no page inlines it (web/first_screen.py)
    first, page_rendered = view(client, service_request, rendered)
    assert page_rendered and "Received" in first
    again, page_rendered = view(client, service_request, rendered)
    assert not page_rendered and again == first
    arabic, page_rendered = view(client, service_request, rendered, {"Accept-Language": "ar"})
    assert page_rendered and 'lang="ar"' in arabic and "Timeline" not in arabic
    other_address, page_rendered = view(client, service_request, rendered, query="?from=sms")
    assert page_rendered and f'name="next" value="/requests/{service_request.number}?from=sms"' in other_address


def test_every_change_the_owner_can_see_shows_at_once(app, service_request, rendered):
    client = as_user(app, "amal")
    view(client, service_request, rendered)
    decide(service_request, ACCEPTED, "Renewed for five years.")
    page, page_rendered = view(client, service_request, rendered)
    assert page_rendered and "Accepted" in page and "Renewed for five years." in page
    assert "Rate this service" in page and 'name="stars"' in page
    assert as_user(app, "amal").post(f"/requests/{service_request.number}/rating",
                                     data={"stars": "4"}).status_code == 303  # from another device
    page, _ = view(client, service_request, rendered)
    assert "You rated this service 4 of 5." in page and 'name="stars"' not in page


def test_a_rating_leaves_the_version_that_staff_pages_carry_as_it_was(app, service_request, officer):
    """Staff must not learn which requests were rated: the rating is in the page's
    key, not in the request's version."""
    decided = decide(service_request, ACCEPTED)
    assert as_user(app, "amal").post(f"/requests/{decided.number}/rating", data={"stars": "5"}).status_code == 303
    with db.connection_context():
        assert ServiceRequest.get_by_id(decided.id).version == decided.version


def test_a_new_release_that_rewords_a_service_or_a_reason_shows_at_once(app, service_request, rendered):
    client = as_user(app, "amal")
    with db.connection_context():
        reason = Reason.select().where(Reason.kind == "reject").first()
        Service.update(name_en="An older name").where(Service.id == service_request.service_id).execute()
        Reason.update(text_en="An older reason").where(Reason.id == reason.id).execute()
        current = ServiceRequest.get_by_id(service_request.id).change_status(UNDER_REVIEW)
        current.change_status(REJECTED, reason_choice=reason)
    page, _ = view(client, service_request, rendered)
    assert "An older name" in page and page.count("An older reason") == 2  # the panel and the timeline
    with db.connection_context():
        upgrade()  # the new release writes its catalogue
    page, page_rendered = view(client, service_request, rendered)
    assert page_rendered and "An older" not in page and reason.text_en in page


def test_a_head_request_keeps_nothing(app, service_request, rendered):
    client = as_user(app, "amal")
    assert client.head(f"/requests/{service_request.number}", headers=EN).status_code == 200
    page, page_rendered = view(client, service_request, rendered)
    assert page_rendered and f'name="next" value="/requests/{service_request.number}?"' in page


def test_a_registry_correction_of_the_persons_name_shows_at_once(app, service_request, rendered):
    client = as_user(app, "amal")
    assert "Amal Saad" in view(client, service_request, rendered)[0]
    with db.connection_context():
        Person.update(name="Amal Saad Alharbi").where(Person.id == service_request.person_id).execute()
    assert "Amal Saad Alharbi" in view(client, service_request, rendered)[0]


def test_each_session_gets_its_own_token_in_a_page_rendered_once(app, service_request, rendered):
    app.config["WTF_CSRF_ENABLED"] = True
    decide(service_request, REJECTED, "The passport copy is unreadable.")
    phone, laptop = app.test_client(), app.test_client()
    for client in (phone, laptop):
        sign_in_client(client)
    phone_page, page_rendered = view(phone, service_request, rendered)
    assert page_rendered
    laptop_page, page_rendered = view(laptop, service_request, rendered)
    assert not page_rendered
    phone_tokens, laptop_tokens = set(CSRF_TOKEN.findall(phone_page)), set(CSRF_TOKEN.findall(laptop_page))
    assert len(phone_tokens) == len(laptop_tokens) == 1 and phone_tokens != laptop_tokens
    again = re.search(r'action="/requests/\d+/again".*?' + CSRF_TOKEN.pattern, laptop_page, re.S).group(1)
    assert laptop.post(f"/requests/{service_request.number}/again", data={"csrf_token": again}).status_code == 303


def test_a_form_with_what_was_typed_is_never_kept(app, service_request, rendered):
    client = as_user(app, "amal")
    decide(service_request, ACCEPTED)
    typed = "A comment of more than a thousand characters " * 30
    response = client.post(f"/requests/{service_request.number}/rating", data={"comment": typed}, headers=EN)
    assert response.status_code == 422 and "A comment of more" in response.text
    page, _ = view(client, service_request, rendered)
    assert "A comment of more" not in page and "Choose how many stars" not in page


def test_the_cache_drops_the_least_recently_used_and_size_zero_keeps_nothing():
    cache = RenderedCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    none = RenderedCache(0)
    none.put("a", "A")
    assert none.get("a") is None


def test_an_under_review_page_in_english_keeps_its_panel_polling(app, service_request, rendered):
    with db.connection_context():
        service_request.change_status(UNDER_REVIEW)
    client = as_user(app, "amal")
    for _ in range(2):
        page, _ = view(client, service_request, rendered)
        assert "data-poll" in page and '"X-Shown-Version": "2-en"' in page


# ------------------------------------------------------------------ the key follows the page

@pytest.fixture
def keyed(app, monkeypatch):
    """Every request page rendered afresh (none kept), each with the key it would be
    kept under; the same CSRF token in every page, so pages compare as shown."""
    app.extensions["rendered"] = RenderedCache(0)
    keys = []
    real = request_routes.page_key

    def recording(*args):
        keys.append(real(*args))
        return keys[-1]
    monkeypatch.setattr(request_routes, "page_key", recording)
    monkeypatch.setattr(web.rendered, "generate_csrf", lambda: "the-session-token")
    return keys


def current(service_request):
    return ServiceRequest.get_by_id(service_request.id)


def registry(service_request, **change):
    Person.update(**change).where(Person.id == service_request.person_id).execute()


def status(service_request, new_status, **details):
    current(service_request).change_status(new_status, **details)


def answer_with_a_document(service_request):
    request = current(service_request)
    request.answer(request.owner, "The clear copy.", [("clear.pdf", "application/pdf", minimal_pdf("clear"))])


def reject_with_a_ready_made_reason(service_request):
    status(service_request, REJECTED, reason_choice=Reason.select().where(Reason.kind == "reject").first())


def older_service_name(service_request):  # as the catalogue read before a release
    Service.update(name_en="An older name").where(Service.id == service_request.service_id).execute()


def older_reason_text(service_request):
    Reason.update(text_en="An older reason").where(Reason.id == current(service_request).reason_choice_id).execute()


def release(service_request):  # a new release writes its catalogue (models/schema.upgrade)
    upgrade()


def in_db(change):
    def run(service_request, client):
        with db.connection_context():
            change(service_request)
    return run


# (what changes, a setup where the page must first show something older, the change).
# Each is something the page shows, changed the way the app or the registry changes it.
INPUTS = [
    ("the registry's name for the person", None, in_db(lambda r: registry(r, name="Amal Saad Alharbi"))),
    ("the registry's identity number", None, in_db(lambda r: registry(r, id_number=make_id_number(1, 55500001)))),
    ("the registry's identity type", None, in_db(lambda r: registry(r, id_number=make_id_number(2, 55500002)))),
    ("the registry's nationality", None, in_db(lambda r: registry(r, nationality="YE"))),
    ("a release's service name", older_service_name, in_db(release)),
    ("the status", None, in_db(lambda r: status(r, UNDER_REVIEW))),
    ("a return, with the officer's question", None, in_db(lambda r: status(r, RETURNED, message="A clear copy?"))),
    ("the resident's answer, with a document", None, in_db(answer_with_a_document)),
    ("a decision, with a ready-made reason", None, in_db(reject_with_a_ready_made_reason)),
    ("a release's reason text", older_reason_text, in_db(release)),
    ("the rating", None, in_db(lambda r: Rating.give(current(r), 4))),
    ("the language", None, lambda r, client: client.post("/auth/language", data={"lang": "ar"})),
    ("the address", None, lambda r, client: client.addresses.append("?from=sms")),
    ("the menu (the account's role)", None,
     in_db(lambda r: User.update(role="officer").where(User.id == r.owner_id).execute())),
]


def test_the_kept_pages_key_changes_whenever_what_the_page_shows_does(app, service_request, keyed, time_machine):
    """page_key (blueprints/requests/routes.py) names by hand what the request page
    shows. Each input in turn: the page must change, and then so must its key,
    or a worker would go on serving the page as it was."""
    time_machine.move_to(utcnow(), tick=False)
    client = as_user(app, "amal")
    client.addresses = [""]  # query strings, the last one in use

    def look():
        keyed.clear()
        response = client.get(f"/requests/{service_request.number}{client.addresses[-1]}", headers=EN)
        assert response.status_code == 200 and len(keyed) == 1
        return response.text, keyed[0]

    for name, setup, change in INPUTS:
        if setup:
            in_db(setup)(service_request, client)
        page, key = look()
        change(service_request, client)
        changed_page, changed_key = look()
        assert changed_page != page, f"{name}: the page did not show the change (the test is out of date)"
        assert changed_key != key, f"{name} changed the page but not page_key: add it to the key"
    page, key = look()
    time_machine.move_to(utcnow() + dt.timedelta(hours=11), tick=False)  # the session lives 12 hours
    assert look() == (page, key), "the page changed with the time alone: the key has no time in it"


def test_the_bench_alone_is_told_whether_a_page_was_kept(app, service_request):
    """`make bench` counts kept pages by a Server-Timing header (SERVER_TIMING); off
    by default, so no visitor learns from it whether a page was viewed before."""
    client, path = as_user(app, "amal"), f"/requests/{service_request.number}"
    assert "Server-Timing" not in client.get(path, headers=EN).headers
    assert "Server-Timing" not in client.get(path, headers=EN).headers  # kept now: still nothing said
    app.config["SERVER_TIMING"] = True
    arabic = client.get(path, headers={"Accept-Language": "ar"})
    assert arabic.status_code == 200 and arabic.headers["Server-Timing"] == 'page;desc="rendered"'
    again = client.get(path, headers={"Accept-Language": "ar"})
    assert again.status_code == 200 and again.headers["Server-Timing"] == 'page;desc="kept"'
    assert "Server-Timing" not in client.get("/requests/", headers=EN).headers  # only the kept page says it
