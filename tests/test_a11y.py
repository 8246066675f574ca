"""Accessibility: axe-core (pinned in package.json) on the main pages, in Chromium,
in Arabic and English, at phone width."""
from pathlib import Path

import pytest

from tests.conftest import sign_in
from tests.factories import PASSWORD, make_id_number, make_user, registry_entry, submit_request

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
RESIDENT_PAGES = ["/auth/account", "/requests/", "/requests/new", "/requests/{number}",
                  "/requests/{number}/confirmation", "/inquiry", "/inquiry?number=12",
                  "/requests/new?service=visit_extension", "/requests/{number}/receipt", "/services/",
                  "/services/visit_extension", "/services/iqama_renewal", "/services/no-such-service"]
STAFF_PAGES = ["/staff/", "/staff/requests/{number}", "/staff/figures", "/staff/reasons", "/staff/reasons/1",
               "/staff/risks", "/staff/team"]


def violations(page):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]


@pytest.mark.parametrize("locale", ["ar-SA", "en-US"])
def test_pages_have_no_accessibility_violations(browser, live, e2e_resident, locale):
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it with npm")
    created = submit_request(e2e_resident, person_name="أمل سعد")
    make_user("fahad", None, role="supervisor", full_name="Fahad")
    found = {}
    for username, landing, paths in (("amal", "/requests/", RESIDENT_PAGES), ("fahad", "/staff/", STAFF_PAGES)):
        context = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 740})
        page = context.new_page()
        sign_in(page, live, username, landing)
        if username == "amal":
            found.update(anonymous_pages(browser, live, locale))
        for path in paths:
            page.goto(live + path.format(number=created.number))
            found[path] = violations(page)
        context.close()
    assert {path: v for path, v in found.items() if v} == {}


def anonymous_pages(browser, live, locale):
    """Sign-in, and both steps of sign-up and of a password reset."""
    registry_entry("نورة فهد", make_id_number(1, 77700002), "+966551110035")
    found = {}
    page = browser.new_context(locale=locale, bypass_csp=True).new_page()
    for path in ("/", "/services/passport", "/performance", "/performance?calendar=gregorian"):
        page.goto(live + path)
        found["anonymous " + path] = violations(page)
    for path in ("/auth/login", "/auth/register", "/auth/reset"):
        page.goto(live + path)
        found[path] = violations(page)
        if path != "/auth/login":
            page.fill("#id_number", make_id_number(1, 77700002))
            page.locator("main form button").first.click()
            page.wait_for_url(f"{live}{path}/code")
            found[path + "/code"] = violations(page)
    make_user("salma", None, role="officer", full_name="Salma")
    page = browser.new_context(locale=locale, bypass_csp=True).new_page()
    page.goto(f"{live}/auth/login")
    page.fill("#username", "salma")
    page.fill("#password", PASSWORD)
    page.click("main button")
    page.wait_for_url(f"{live}/auth/login/code**")
    found["/auth/login/code"] = violations(page)
    return found


@pytest.mark.parametrize("locale", ["ar-SA", "en-US"])
def test_after_decision_pages_have_no_accessibility_violations(browser, live, e2e_resident, locale):
    """A rejected request (reason, start again, rating form), the same form with its
    errors, an accepted one (what happens next, a given rating), the form started
    again, and the officer's page of a request someone else holds."""
    from models import ACCEPTED, REJECTED, UNDER_REVIEW, Rating, ServiceRequest, db
    rejected, accepted, held = [submit_request(e2e_resident, person_name="أمل سعد") for _ in range(3)]
    officer = make_user("noura", None, role="officer", full_name="Noura")  # after: they wait for one to take them
    make_user("khalid", None, role="officer", full_name="Khalid")
    with db.connection_context():
        for made, status in ((rejected, REJECTED), (accepted, ACCEPTED), (held, None)):
            current = ServiceRequest.get_by_id(made.id).change_status(UNDER_REVIEW, actor=officer)
            if status:
                current.change_status(status, actor=officer, message="سبب القرار")
        Rating.give(ServiceRequest.get_by_id(accepted.id), 4)
    found = {}
    page = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 740}).new_page()
    sign_in(page, live)
    for made in (rejected, accepted):
        page.goto(f"{live}/requests/{made.number}")
        found[made.status] = violations(page)
    page.goto(f"{live}/requests/{rejected.number}")
    page.fill("#comment", "x" * 1001)
    page.evaluate("document.querySelector('#comment').removeAttribute('maxlength')")
    page.fill("#comment", "x" * 1001)
    page.click("#rating button")
    page.wait_for_selector("#stars-error")
    found["rating errors"] = violations(page)
    page.goto(f"{live}/requests/{rejected.number}")
    page.click("#after-decision form button")
    page.wait_for_url("**/requests/new?draft=*")
    found["started again"] = violations(page)
    page = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 740}).new_page()
    sign_in(page, live, "khalid", "/staff/")
    page.goto(f"{live}/staff/requests/{held.number}")
    found["not the holder"] = violations(page)
    assert {name: v for name, v in found.items() if v} == {}


@pytest.mark.parametrize("locale", ["ar-SA", "en-US"])
def test_objection_pages_have_no_accessibility_violations(browser, live, e2e_resident, locale):
    """The objection form (and with its errors), a request whose objection waits, the
    supervisors' objections page and the objection on the staff request page."""
    from models import REJECTED, UNDER_REVIEW, ServiceRequest, db
    officer = make_user("noura", None, role="officer", full_name="Noura")
    make_user("fahad", None, role="supervisor", full_name="Fahad")
    plain, objected = (submit_request(e2e_resident, person_name="أمل سعد") for _ in range(2))
    with db.connection_context():
        for made in (plain, objected):
            ServiceRequest.update(assignee=officer).where(ServiceRequest.id == made.id).execute()
            ServiceRequest.get_by_id(made.id).change_status(UNDER_REVIEW, actor=officer).change_status(
                REJECTED, actor=officer, message="سبب القرار")
    found = {}
    page = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 740}).new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/{objected.number}/objection")
    page.fill("#text", "قصير")
    page.click("main form button")
    page.wait_for_selector("#text-error")
    found["objection errors"] = violations(page)
    page.fill("#text", "اعتراض مفصل على القرار يذكر ما أخطأ فيه بوضوح.")
    page.click("main form button")
    page.wait_for_url(f"**/requests/{objected.number}#status-panel")
    found["objection waiting"] = violations(page)
    page.goto(f"{live}/requests/{plain.number}/objection")
    found["objection form"] = violations(page)
    page = browser.new_context(locale=locale, bypass_csp=True, viewport={"width": 360, "height": 740}).new_page()
    sign_in(page, live, "fahad", "/staff/")
    for path in ("/staff/objections", f"/staff/requests/{objected.number}"):
        page.goto(live + path)
        found[path] = violations(page)
    assert {name: v for name, v in found.items() if v} == {}
