"""A resident's journey in Chromium, Arabic and English: guidance before a request
(service pages, the person step, only eligible persons), the receipt after it (print
button, print stylesheet, the printed PDF's text), and a confirmation page that knows
the request was decided since. With JavaScript and without."""
import pytest

from models import ACCEPTED, UNDER_REVIEW, Person, ServiceRequest, db
from tests.conftest import need_playwright, screenshot, sign_in
from tests.factories import make_id_number, make_user, minimal_pdf, person_of, submit_request
from tests.pdf_text import page_texts

playwright_api = need_playwright()
expect = playwright_api.expect

LOCALES = [("ar-SA", "ar"), ("en-US", "en")]
DESCRIPTION = "تنتهي تأشيرة زيارة قريبي بعد أيام وهو ما زال في العلاج بالمستشفى، أرجو تمديدها."
NO_WIDER_THAN_THE_PAGE = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter(e => {
        const box = e.getBoundingClientRect();
        return box.width > 0 && (box.right > width + 1 || box.left < -1);
    }).map(e => e.tagName + '.' + e.className);
    return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


def person_radio(page, user, name):
    return page.locator(f"input[name=person][value='{person_of(user, name).id}']")


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_service_pages_guide_a_visitor_before_any_request(browser, live, locale, lang):
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{live}/")
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("main a[href^='/services/']").count() == 9
    page.click("main a[href='/services/visit_extension']")
    page.wait_for_url(f"{live}/services/visit_extension")
    main = page.inner_text("main")
    if lang == "en":
        assert "Only for nationals of Yemen or Syria." in main and "The visit visa has not expired yet." in main
        assert "seven working days" in main and "What happens next" in main
    else:
        assert "للجنسيتين اليمنية والسورية فقط." in main and "صورة الجواز" in main
        assert "اليمن" in main and "سوريا" in main
    screenshot(page, f"guide-service-visit-extension-{lang}")
    page.goto(f"{live}/services/iqama_renewal")
    assert ("Valid medical insurance." if lang == "en" else "تأمين طبي ساري المفعول.") in page.inner_text("main")
    screenshot(page, f"guide-service-iqama-renewal-{lang}")
    page.click("header a[href='/services/']")
    page.wait_for_url(f"{live}/services/")
    assert page.locator("main a[href^='/services/']").count() == 9
    screenshot(page, f"guide-services-{lang}")
    response = page.goto(f"{live}/services/no-such-service")
    assert response.status == 404 and page.locator("h1").count() == 1
    screenshot(page, f"guide-service-unknown-{lang}")
    # "Start a request" asks a visitor to sign in first, then opens the form on this service.
    page.goto(f"{live}/services/visit_extension")
    page.click("main a.button")
    assert "/auth/login" in page.url
    page.context.close()


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_only_persons_eligible_for_the_chosen_service_can_be_picked(browser, live, e2e_resident, locale, lang):
    page = browser.new_context(locale=locale).new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/new")
    amal, yusuf = person_radio(page, e2e_resident, "أمل سعد"), person_radio(page, e2e_resident, "يوسف اليمني")
    assert page.locator("button[name=step]").count() == 0  # with JavaScript the list follows the choice
    source = page.inner_text("#person-source")
    assert e2e_resident.id_number in source
    page.check("input[name=service][value=visit_extension]")
    expect(amal).to_be_disabled()
    expect(yusuf).to_be_enabled()
    why = page.locator(f"#{amal.get_attribute('id')}-why")
    expect(why).to_be_visible()
    expect(why).to_contain_text("اليمن" if lang == "ar" else "Yemen")
    screenshot(page, f"guide-new-request-eligibility-{lang}")
    page.check("input[name=service][value=passport]")
    expect(amal).to_be_enabled()
    expect(why).to_be_hidden()
    # Each service links to its page; the page's button opens the form on it.
    page.click("main a.about[href='/services/iqama_renewal']")
    page.wait_for_url(f"{live}/services/iqama_renewal")
    page.click("main a.button")
    page.wait_for_url(f"{live}/requests/new?service=iqama_renewal")
    expect(page.locator("input[name=service][value=iqama_renewal]")).to_be_checked()
    expect(amal).to_be_disabled()
    expect(yusuf).to_be_enabled()
    page.context.close()


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_without_javascript_the_service_first_then_an_eligible_person_then_a_receipt(
        browser, live, e2e_resident, tmp_path, locale, lang):
    page = browser.new_context(locale=locale, java_script_enabled=False).new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/new")
    page.check("input[name=service][value=visit_extension]")
    page.fill("#description", DESCRIPTION)
    page.click("button[name=step]")
    page.wait_for_url("**/requests/new?draft=*")
    amal, yusuf = person_radio(page, e2e_resident, "أمل سعد"), person_radio(page, e2e_resident, "يوسف اليمني")
    expect(amal).to_be_disabled()
    expect(page.locator(f"#{amal.get_attribute('id')}-why")).to_contain_text("اليمن" if lang == "ar" else "Yemen")
    expect(page.locator("#description")).to_have_value(DESCRIPTION)  # kept in the draft
    screenshot(page, f"guide-new-request-nojs-{lang}")
    yusuf.check()
    document = tmp_path / "report.pdf"
    document.write_bytes(minimal_pdf("Medical report"))
    page.set_input_files("#documents", str(document))
    page.click("main form > button")
    page.wait_for_url("**/requests/new/check?draft=*")
    page.click("main form button")
    page.wait_for_url("**/confirmation")
    number = page.inner_text(".big-number").strip()
    assert len(number) == 9 and number.isdigit()
    expect(page.locator("button[data-print]")).to_be_hidden()  # printing needs JavaScript; the receipt does not
    page.click(f"a[href='/requests/{number}/receipt']")
    page.wait_for_url(f"{live}/requests/{number}/receipt")
    main = page.inner_text("main")
    assert number in main and "يوسف اليمني" in main
    screenshot(page, f"guide-receipt-nojs-{lang}")
    page.context.close()


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_a_new_account_alone_in_the_registry_sees_why(browser, live, locale, lang):
    with db.connection_context():
        user = make_user("solo", make_id_number(1, 55500001), full_name="سالم وحيد")
        Person.create(sponsor_id_number=user.id_number, id_number=user.id_number, name="سالم وحيد",
                      nationality="SA")
    page = browser.new_context(locale=locale).new_page()
    sign_in(page, live, "solo")
    page.goto(f"{live}/requests/new")
    assert page.locator("input[name=person]").count() == 1
    text = page.inner_text("#person-source")
    # (the Arabic arrives with the translations: English until then)
    assert user.id_number in text and ("The registry links nobody else" in text or "لا يربط السجل أحدًا آخر" in text)
    screenshot(page, f"guide-new-request-alone-{lang}")
    page.context.close()


def printed_text(page):
    """The printed PDF's text, runs joined, without spaces (Arabic prints glyph by glyph)."""
    return "".join("".join(page_texts(page.pdf(format="A4", print_background=True))).split())


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_the_receipt_prints_whole_in_both_directions(browser, live, e2e_resident, locale, lang):
    created = submit_request(e2e_resident, person_name="يوسف اليمني", service="visit_extension")
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.add_init_script("window.printed = 0; window.print = () => { window.printed++; };")
    page = context.new_page()
    sign_in(page, live)
    for path in ("confirmation", "receipt", ""):
        page.goto(f"{live}/requests/{created.number}/{path}".rstrip("/"))
        # The skip link is the first stop of the keyboard, and shows inside the page.
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        expect(skip).to_be_focused()
        box = skip.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280 and box["width"] > 20
        page.evaluate("document.activeElement.blur()")
        button = page.locator("button[data-print]")
        expect(button).to_be_visible()
        button.click()
        assert page.evaluate("window.printed") == 1
        if path == "receipt":
            screenshot(page, f"guide-receipt-{lang}")
        page.emulate_media(media="print")
        layout = page.evaluate(NO_WIDER_THAN_THE_PAGE)
        assert layout["scroll"] <= layout["width"] and layout["wide"] == [], layout
        for hidden in ("header nav", "button[data-print]", ".skip-link", "main .actions"):
            assert not page.locator(hidden).first.is_visible(), hidden
        assert page.locator("main bdi.num").first.inner_text() == created.number
        if path == "receipt":
            screenshot(page, f"guide-receipt-print-{lang}")
        page.emulate_media(media="screen")
        assert created.number in printed_text(page), path
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live}/requests/{created.number}/receipt")
    assert created.number in printed_text(page)
    context.close()


@pytest.mark.parametrize("locale, lang", LOCALES)
def test_a_confirmation_page_of_a_decided_request_says_so(browser, live, e2e_resident, locale, lang):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    page = browser.new_context(locale=locale).new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/{created.number}/confirmation")
    assert page.locator(".confirm-box").count() == 1
    with db.connection_context():
        ServiceRequest.get_by_id(created.id).change_status(UNDER_REVIEW)
        ServiceRequest.get_by_id(created.id).change_status(ACCEPTED, message="تمت الموافقة.")
    page.reload()
    main = page.inner_text("main")
    assert page.locator(".confirm-box").count() == 0 and created.number in page.inner_text("h1")
    assert "A decision is due by" not in main and "يصدر القرار في موعد أقصاه" not in main
    assert "has been decided" in main or "صدر القرار" in main
    assert page.locator(".receipt .badge.status-accepted").count() == 1
    screenshot(page, f"guide-confirmation-decided-{lang}")
    page.context.close()
