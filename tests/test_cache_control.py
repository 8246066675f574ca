"""Nothing a browser or a proxy keeps may carry personal data: every response of
every address says `Cache-Control: private, no-store`, whatever its type (a page, a
fragment, a CSV, a document) or status (a redirect, an error, a poll's 204 or 304).
The exceptions are a static file, the same for everyone, which says how long it
may be kept (web/static_files.py), and the published figures' CSV, the same for
everyone and nothing personal (a proxy may keep it five minutes)."""
import re

import pytest

from models import ACCEPTED, UNDER_REVIEW, Document, Draft, Reason, Service, db
from tests.conftest import HX, make_app
from tests.factories import make_amal, make_user, minimal_pdf, person_of, sign_in_client, submit_request

NO_STORE = "private, no-store"
# Routes that may answer 200 with a cache directive of their own, and why.
KEPT = {"static": "the site's CSS, scripts and icons, the same for everyone: a fingerprinted URL is kept a "
                  "year, any other is revalidated (web/static_files.py)",
        "home.performance_csv": "the published figures' CSV, the same for everyone and nothing personal: a proxy "
                                "may keep it five minutes (tests/test_performance.py)"}
# Routes that never answer 200 to a GET, whoever asks, and why.
NEVER_200 = {
    "auth.second_factor": "the second step of a staff sign-in: only while a sign-in waits for its code",
    "auth.register_code": "the code step of a sign-up: only while a sign-up waits for its code",
    "auth.reset_code": "the code step of a password reset: only while a reset waits for its code",
    "staff.old_figures_address": "the figures' old address: a 301 to the new one",
    "requests.objection": "the objection form: only for a rejected request (the walk's request is accepted: 409)",
}


@pytest.fixture
def demo_app(tmp_path):
    """The app with every blueprint (DEMO adds /dev/outbox), on SQLite: the rule does
    not depend on the database."""
    app = make_app(f"sqlite:///{tmp_path / 'cache.sqlite'}", DEMO=True)
    yield app
    if not db.is_closed():
        db.close()


@pytest.fixture
def clients(demo_app):
    """(role, signed-in client) for a visitor, a resident, an officer and a supervisor."""
    resident = make_amal([("Amal Saad", None, "SA")])
    make_user("noura", None, role="officer", full_name="Noura Officer")
    make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    found = [("visitor", demo_app.test_client())]
    for role, username in (("resident", "amal"), ("officer", "noura"), ("supervisor", "fahad")):
        client = demo_app.test_client()
        assert sign_in_client(client, username).status_code == 303
        found.append((role, client))
    return resident, found


def url_values(resident):
    """A value for each URL variable, so every address shows something real: a
    decided request of the resident's with a document, a complete draft."""
    decided = submit_request(resident)
    with db.connection_context():
        decided.change_status(UNDER_REVIEW)
        decided.change_status(ACCEPTED, message="Your passport is ready.")
        draft = Draft.create(owner=resident, person=person_of(resident, "Amal Saad"),
                             service=Service.get(Service.code == "passport"),
                             description="My passport expires next month and I need it renewed.")
        draft.add_file("passport.pdf", "application/pdf", minimal_pdf())
        document = Document.get(Document.request == decided.id)
        reason = Reason.get(Reason.code == "docs_missing")
    return dict(number=decided.number, document_id=document.id, token=draft.token, code="passport",
                filename="css/app.css", reason_id=reason.id), dict(draft=draft.token)


def get_routes(app):
    return sorted((rule for rule in app.url_map.iter_rules() if "GET" in rule.methods), key=lambda r: r.rule)


def test_every_response_of_every_route_says_private_no_store(demo_app, clients):
    resident, role_clients = clients
    values, query = url_values(resident)
    answered_200, wrong = set(), []
    for rule in get_routes(demo_app):
        path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        for role, client in role_clients:
            for headers in ({}, HX):
                response = client.get(path, query_string=query if "token" not in rule.arguments else None,
                                      headers=headers)
                kept = rule.endpoint in KEPT and response.status_code in (200, 304)
                if response.headers.get("Cache-Control") != NO_STORE and not kept:
                    wrong.append((rule.rule, role, response.status_code, response.headers.get("Cache-Control")))
                if response.status_code == 200:
                    answered_200.add(rule.endpoint)
    assert wrong == []
    never_200 = {rule.endpoint for rule in get_routes(demo_app)} - answered_200
    assert never_200 == set(NEVER_200)  # the walk reached every other address's real page


def test_polls_unchanged_answers_say_it_too(demo_app, clients):
    """A poll's empty 204 (answered before Flask, or by Flask) carries no data, but a
    cache that kept one would freeze the panel: same rule."""
    resident, role_clients = clients
    number, role_clients = submit_request(resident).number, dict(role_clients)
    panel, state = f"/requests/{number}/status", f"/staff/requests/{number}/state"
    panel_part = role_clients["resident"].get(panel, headers=HX).get_data(as_text=True)
    panel_version = re.search(r'"X-Shown-Version": "([^"]+)"', panel_part).group(1)
    polls = [role_clients["resident"].get(panel, headers=dict(HX, **{"X-Shown-Version": panel_version}))]
    staff_part = role_clients["officer"].get(state, headers=HX).get_data(as_text=True)
    state_version = re.search(r'"X-Shown-Version": "([^"]+)"', staff_part).group(1)
    polls.append(role_clients["officer"].get(state, headers=dict(HX, **{"X-Shown-Version": state_version})))
    assert [(p.status_code, p.headers.get("Cache-Control")) for p in polls] == [(204, NO_STORE), (204, NO_STORE)]


def test_a_static_file_is_kept_as_it_says_and_its_404_is_not(demo_app):
    client = demo_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    css_url = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert client.get(css_url).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/nope.css").headers["Cache-Control"] == NO_STORE


def test_an_error_page_says_it_too(demo_app, clients):
    _resident, role_clients = clients
    resident = dict(role_clients)["resident"]
    for response in (resident.get("/staff/"), resident.get("/requests/000000000"), resident.get("/nowhere")):
        assert response.status_code in (403, 404) and response.headers["Cache-Control"] == NO_STORE

