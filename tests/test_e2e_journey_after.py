"""After a decision, end to end in Debian's headless Chromium, Arabic and English,
with screenshots at phone and desktop width: what happens next, starting again from a
rejected request (with and without JavaScript), rating once, the supervisors' averages,
the officer's page that refreshes itself without touching a form being filled in, the
decision form only for the holder, and the Arabic demo account."""
import re
from pathlib import Path

import pytest
from babel.support import Translations

from app import create_app
from models import ACCEPTED, REJECTED, UNDER_REVIEW, Rating, ServiceRequest, User, db
from tests.conftest import POLL, need_playwright, screenshot, sign_in
from tests.factories import TEST_SECRET_KEY, make_user, submit_request

playwright_api = need_playwright()
expect = playwright_api.expect
WAIT = dict(timeout=POLL * 6000)
LOCALES = {"ar": "ar-SA", "en": "en-US"}
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"


def said(lang, msgid, **values):
    """The text as the pages show it in `lang` (the catalogue's Arabic once it has
    this message, the English until then)."""
    text = Translations.load(str(CATALOGUES), [lang]).gettext(msgid)
    return text % values if values else text


REASON = {"ar": "صورة الجواز غير واضحة؛ أرفق صورة واضحة.", "en": "The passport copy is unreadable; attach a clear one."}


def decided(created, status, message=None, officer=None):
    with db.connection_context():
        current = ServiceRequest.get_by_id(created.id).change_status(UNDER_REVIEW, actor=officer)
        return current.change_status(status, actor=officer, message=message)


def resident_page(browser, live, lang, javascript=True, width=1280):
    context = browser.new_context(locale=LOCALES[lang], java_script_enabled=javascript,
                                  viewport={"width": width, "height": 800})
    page = context.new_page()
    sign_in(page, live)
    return page


@pytest.mark.parametrize("lang", ["ar", "en"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_rejected_then_start_again_then_rate_once(browser, live, e2e_resident, lang, javascript):
    created = decided(submit_request(e2e_resident, person_name="يوسف اليمني", service="visit_extension"),
                      REJECTED, REASON[lang])
    page = resident_page(browser, live, lang, javascript)
    page.goto(f"{live}/requests/{created.number}")
    main = page.inner_text("main")
    assert REASON[lang] in main
    assert main.index(REASON[lang]) < main.index(said(lang, "Start a new request from this one"))
    if javascript:
        screenshot(page, f"after-rejected-{lang}")

    # A second tab keeps the rating form open while the first one rates.
    other = page.context.new_page()
    other.goto(f"{live}/requests/{created.number}")
    page.check("input[name=stars][value='4']")
    page.fill("#comment", "خدمة واضحة" if lang == "ar" else "Clear and quick.")
    page.click("#rating button")
    page.wait_for_url(f"**/requests/{created.number}*")
    expect(page.locator("#rating")).to_contain_text(said(lang, "You rated this service %(stars)d of 5. Thank you.",
                                                         stars=4))
    if javascript:
        screenshot(page, f"after-rated-{lang}")
    other.check("input[name=stars][value='1']")
    with other.expect_response(lambda r: r.url.endswith("/rating")) as refused:
        other.click("#rating button")
    assert refused.value.status == 409
    expect(other.locator(".error-box")).to_contain_text(
        said(lang, "You have already rated this request: a request is rated once."))
    with db.connection_context():
        assert [r.stars for r in Rating.select()] == [4]

    page.click("#after-decision form button")
    page.wait_for_url("**/requests/new?draft=*")
    assert page.is_checked("input[name=service][value=visit_extension]")
    assert page.get_by_label("يوسف اليمني").is_checked()
    assert page.input_value("#description") == created.description
    expect(page.locator(".notice")).to_contain_text(created.number)
    if javascript:
        screenshot(page, f"after-start-again-{lang}")
    page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_accepted_says_what_happens_next(browser, live, e2e_resident, lang):
    created = decided(submit_request(e2e_resident, person_name="أمل سعد"), ACCEPTED)
    page = resident_page(browser, live, lang, width=360)
    page.goto(f"{live}/requests/{created.number}")
    expect(page.locator("#after-decision h2").first).to_have_text(said(lang, "What happens next"))
    assert said(lang, "Collect the passport at the passports office, with the originals of the documents "
                      "you attached.") in page.inner_text("#after-decision")
    assert page.locator("#after-decision form[action$='/again']").count() == 0
    assert page.locator("fieldset#stars input[type=radio]").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"after-accepted-{lang}")
    page.context.close()


def test_the_decision_arrives_in_place_with_the_rating_form(browser, live, e2e_resident):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    page = resident_page(browser, live, "ar")
    page.goto(f"{live}/requests/{created.number}")
    page.evaluate("window.sameDocument = true")
    decided(created, ACCEPTED)
    expect(page.locator("#after-decision fieldset#stars")).to_be_visible(**WAIT)
    page.check("input[name=stars][value='5']")
    page.click("#rating button")
    expect(page.locator("#rating")).to_contain_text("5", **WAIT)
    with db.connection_context():
        assert Rating.get().stars == 5
    page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_supervisors_see_satisfaction_officers_do_not(browser, live, e2e_resident, lang):
    make_user("fahad", None, role="supervisor", full_name="Fahad")
    make_user("noura", None, role="officer", full_name="Noura")
    for stars in (5, 3):
        created = decided(submit_request(e2e_resident, person_name="أمل سعد"), ACCEPTED)
        with db.connection_context():
            Rating.give(ServiceRequest.get_by_id(created.id), stars, "سر")
    title = said(lang, "Residents' satisfaction")
    for username, sees in (("fahad", True), ("noura", False)):
        page = browser.new_context(locale=LOCALES[lang], viewport={"width": 1280, "height": 800}).new_page()
        sign_in(page, live, username, "/staff/")
        page.goto(f"{live}/staff/figures")
        assert (title in page.inner_text("main")) is sees
        if sees:
            row = page.locator("table.ratings tr", has=page.locator("th", has_text=re.compile("جواز|Passport")))
            assert "2" in row.inner_text() and ("4.0" in row.inner_text() or "٤٫٠" in row.inner_text())
            page.locator("#satisfaction").scroll_into_view_if_needed()
            screenshot(page, f"after-figures-satisfaction-{lang}")
        assert "سر" not in page.inner_text("main")
        page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_officers_page_refreshes_itself_and_keeps_what_is_typed(browser, live, e2e_resident, lang):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    noura = make_user("noura", None, role="officer", full_name="نورة" if lang == "ar" else "Noura")
    khalid = make_user("khalid", None, role="officer", full_name="خالد" if lang == "ar" else "Khalid")
    page = browser.new_context(locale=LOCALES[lang], viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/requests/{created.number}")
    page.evaluate("window.sameDocument = true")
    for _ in range(2):  # nothing changed: poll after poll gets an empty answer, so no swap
        with page.expect_response(lambda r: "/state" in r.url, **WAIT) as poll:
            pass
        assert poll.value.status == 204

    with db.connection_context():  # someone else takes it
        ServiceRequest.get_by_id(created.id).claim(khalid)
    expect(page.locator("#request-state")).to_contain_text(khalid.full_name, **WAIT)
    expect(page.locator("#request-state .changed")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(khalid.full_name)
    screenshot(page, f"after-officer-changed-{lang}")
    page.click("#request-state .changed a")
    page.wait_for_load_state()
    assert page.locator("#decide").count() == 0  # not the holder: no decision form
    expect(page.locator("#actions")).to_contain_text(khalid.full_name)
    screenshot(page, f"after-officer-not-holder-{lang}")

    with db.connection_context():  # back to the queue, then Noura holds it and reviews
        current = ServiceRequest.get_by_id(created.id).release(khalid)
        current.change_status(UNDER_REVIEW, actor=noura)
    page.reload()
    page.evaluate("window.sameDocument = true")
    page.check("input[name=decision][value=rejected]")
    typed = "سبب يكتب الآن" if lang == "ar" else "A reason being typed"
    page.fill("#reason", typed)
    page.focus("#reason")
    with db.connection_context():
        ServiceRequest.get_by_id(created.id).add_note(khalid, "ملاحظة داخلية" if lang == "ar" else "An internal note")
    expect(page.locator("#timeline")).to_contain_text("ملاحظة داخلية" if lang == "ar" else "An internal note", **WAIT)
    assert page.input_value("#reason") == typed and page.is_checked("input[name=decision][value=rejected]")
    assert page.evaluate("document.activeElement.id") == "reason"
    assert page.evaluate("window.sameDocument") is True
    screenshot(page, f"after-officer-holder-{lang}")
    page.click("#decide button")
    page.wait_for_load_state()
    expect(page.locator("#request-state")).to_contain_text(typed)
    assert page.locator("#request-state[hx-get]").count() == 0  # decided: no more polling
    page.context.close()


def test_the_officers_page_without_javascript(browser, live, e2e_resident):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    make_user("noura", None, role="officer", full_name="Noura")
    context = browser.new_context(locale="en-US", java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/requests/{created.number}")
    page.click("text=Start the review")
    page.wait_for_url(f"**/staff/requests/{created.number}")
    page.check("input[name=decision][value=accepted]")
    page.click("#decide button")
    page.wait_for_url(f"**/staff/requests/{created.number}")
    expect(page.locator("#request-state .badge")).to_have_text("Accepted")
    context.close()


def test_the_arabic_demo_account_reads_arabic(browser, live, tmp_path):
    from cli.demo import DEMO_PASSWORD, DEMO_TEXTS, load_demo
    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"  # the live server's database
    app = create_app(dict(TESTING=True, SECRET_KEY=TEST_SECRET_KEY, DATABASE_URL=url))
    with app.app_context(), db.connection_context():
        load_demo()
        demo = User.get(User.username == "demo")
        rejected = ServiceRequest.get((ServiceRequest.owner == demo) & (ServiceRequest.status == REJECTED)
                                      & (ServiceRequest.reason == DEMO_TEXTS["rejected_reason"]))  # not objected to
    for lang in ("ar", "en"):
        page = browser.new_context(locale=LOCALES[lang], viewport={"width": 360, "height": 800}).new_page()
        page.goto(f"{live}/auth/login")
        page.fill("#username", "demo")
        page.fill("#password", DEMO_PASSWORD)
        page.click("main button")
        page.wait_for_url(f"{live}/requests/")
        page.goto(f"{live}/requests/{rejected.number}")
        for selector in ("#status-panel", ".summary dd.text", "#timeline"):
            text = page.inner_text(selector)
            assert not re.search(r"[A-Za-z]{3,}", text.replace("passport-copy.pdf", "")) or lang == "en", text
        assert "الشهادة المرفقة غير مصدقة" in page.inner_text("#status-panel")
        if lang == "ar":
            screenshot(page, "after-demo-rejected-ar")
        page.context.close()
