"""Accessibility: axe-core (pinned in package.json) on the main pages, in Chromium,
in Arabic and English, at phone width."""
from pathlib import Path

import pytest

from tests.conftest import sign_in
from tests.factories import PASSWORD, id_number, make_user, registry_entry, submit_request

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
RESIDENT_PAGES = ["/auth/account", "/requests/", "/requests/new", "/requests/{number}",
                  "/requests/{number}/confirmation", "/inquiry", "/inquiry?number=12",
                  "/requests/new?service=visit_extension", "/requests/{number}/receipt", "/services/",
                  "/services/visit_extension", "/services/iqama_renewal", "/services/no-such-service"]
STAFF_PAGES = ["/staff/", "/staff/requests/{number}", "/staff/figures"]


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
    registry_entry("نورة فهد", id_number(1, 77700002), "+966551110035")
    found = {}
    page = browser.new_context(locale=locale, bypass_csp=True).new_page()
    for path in ("/", "/services/passport"):
        page.goto(live + path)
        found["anonymous " + path] = violations(page)
    for path in ("/auth/login", "/auth/register", "/auth/reset"):
        page.goto(live + path)
        found[path] = violations(page)
        if path != "/auth/login":
            page.fill("#id_number", id_number(1, 77700002))
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
