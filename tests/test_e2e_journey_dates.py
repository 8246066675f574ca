"""Issue 9, dates and phones, in Debian's headless Chromium, in Arabic and English:
both calendars on every date, Arabic punctuation and one English date style, the
figures chart readable on a phone, the queue and the header fitting a 360 px screen,
and the same pages without JavaScript. Screenshots go to screenshots/ (not committed)."""
import re

import pytest

from models import ACCEPTED, UNDER_REVIEW, ServiceRequest, db
from tests.conftest import need_playwright, screenshot, sign_in
from tests.factories import make_user, submit_request

need_playwright()

PHONE = {"width": 360, "height": 740}
LOCALES = {"ar": "ar-SA", "en": "en-US"}
HIJRI = {"ar": "هـ)", "en": " AH)"}
# '26 نوفمبر 2026، 01:38 (…)' and '26 Nov 2026, 01:38 (…)'; a date alone: '2 Dec 2026 (…)'.
MOMENT = {"ar": re.compile(r"^\d{1,2} \S+ \d{4}، \d\d:\d\d \(\d{1,2} .+ \d{4} هـ\)$"),
          "en": re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d \(\d{1,2} .+ \d{4} AH\)$")}
DAY = {"ar": re.compile(r"^\d{1,2} \S+ \d{4} \(\d{1,2} .+ \d{4} هـ\)$"),
       "en": re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4} \(\d{1,2} .+ \d{4} AH\)$")}

MEASURE_HEADER = """() => [...document.querySelectorAll('header a, header button')]
    .map(e => ({text: e.textContent.trim(), height: e.getBoundingClientRect().height}))"""
MEASURE_CHART = """() => {
    const svg = document.querySelector('.chart svg').getBoundingClientRect();
    const labels = [...document.querySelectorAll('.chart-top, .chart-axis > span')].map(e => {
        const box = e.getBoundingClientRect();
        return {text: e.textContent.trim(), left: box.left, right: box.right, top: box.top, bottom: box.bottom,
                size: parseFloat(getComputedStyle(e).fontSize),
                direction: getComputedStyle(e).direction};
    });
    return {svg: {left: svg.left, right: svg.right, top: svg.top, bottom: svg.bottom,
                  width: svg.width, height: svg.height}, labels};
}"""


def decided(resident, name="أمل سعد"):
    made = submit_request(resident, person_name=name)
    with db.connection_context():
        ServiceRequest.get_by_id(made.id).change_status(UNDER_REVIEW)
        ServiceRequest.get_by_id(made.id).change_status(ACCEPTED, message="تم.")
    return made


def times(page, selector="main"):
    return page.eval_on_selector_all(f"{selector} time", "els => els.map(e => e.textContent.trim())")


def check_times(found, lang):
    assert found
    for text in found:
        assert HIJRI[lang] in text, text
        assert MOMENT[lang].match(text) or DAY[lang].match(text), text


def fits_the_phone(page):
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    for link in page.evaluate(MEASURE_HEADER):
        assert link["height"] >= 44, link


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_resident_sees_every_date_in_both_calendars(browser, live, e2e_resident, lang):
    made = decided(e2e_resident)
    pending = submit_request(e2e_resident, person_name="يوسف اليمني")
    page = browser.new_context(locale=LOCALES[lang], viewport=PHONE).new_page()
    sign_in(page, live)
    fits_the_phone(page)
    check_times(times(page, "#req-" + made.number), lang)  # My requests: sent on
    screenshot(page, f"j9-dates-my-requests-{lang}")
    page.goto(f"{live}/requests/{made.number}")
    found = times(page)
    check_times(found, lang)
    assert len(found) >= 5  # sent on, decided on, the timeline's three events
    assert all(MOMENT[lang].match(text) for text in found)
    fits_the_phone(page)
    screenshot(page, f"j9-dates-request-decided-{lang}")
    page.goto(f"{live}/requests/{pending.number}")
    check_times(times(page, "#status-panel"), lang)  # a decision is due by
    page.goto(f"{live}/requests/{pending.number}/confirmation")
    check_times(times(page), lang)
    page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_queue_fits_a_phone_and_shows_due_dates(browser, live, e2e_resident, lang):
    made = submit_request(e2e_resident, person_name="أمل سعد")
    submit_request(e2e_resident, person_name="يوسف اليمني", service="visit_extension")
    make_user("noura", None, role="officer", full_name="Noura")
    page = browser.new_context(locale=LOCALES[lang], viewport=PHONE).new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/?view=all")  # sent before she was an officer: nobody's yet
    fits_the_phone(page)
    select = page.locator("select[name=service]").bounding_box()
    assert select["x"] >= 0 and select["x"] + select["width"] <= 360
    check_times(times(page, "#queue"), lang)
    assert page.locator(f"#req-{made.number}").bounding_box()["width"] <= 360  # a card, not a wide row
    days = page.inner_text(f"#req-{made.number}")
    assert ("0 يوم" not in days) if lang == "ar" else ("0 days" in days)
    screenshot(page, f"j9-dates-queue-{lang}")
    page.click(f"#req-{made.number} a")
    with page.expect_navigation():
        page.click("form[action$='/claim'] button")  # an entry in the audit trail
    check_times(times(page), lang)
    page.context.close()
    make_user("fahad", None, role="supervisor", full_name="Fahad")  # supervisors see the audit trail
    page = browser.new_context(locale=LOCALES[lang], viewport=PHONE).new_page()
    sign_in(page, live, "fahad", "/staff/")
    page.goto(f"{live}/staff/requests/{made.number}")
    check_times(times(page, "table.audit"), lang)  # the audit trail
    assert page.locator("table.audit").bounding_box()["width"] <= 360  # cards on a phone, too
    check_times(times(page), lang)
    fits_the_phone(page)
    screenshot(page, f"j9-dates-staff-request-{lang}")
    page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_figures_chart_labels_are_readable_and_inside_the_chart(browser, live, e2e_resident, lang):
    for _ in range(2):
        decided(e2e_resident)
    submit_request(e2e_resident, person_name="يوسف اليمني")
    make_user("noura", None, role="officer", full_name="Noura")
    page = browser.new_context(locale=LOCALES[lang], viewport=PHONE).new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/figures")
    fits_the_phone(page)
    check_times(times(page), lang)  # the period and both ends of the axis
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        chart = page.evaluate(MEASURE_CHART)
        svg, (top, first, last) = chart["svg"], chart["labels"]
        assert svg["width"] > width / 2 and svg["height"] >= 100
        assert top["text"] == "3" and first["text"] and last["text"]
        for label in chart["labels"]:
            assert label["size"] >= 12, label  # rendered at the page's size, not scaled down with the SVG
            assert svg["left"] - 1 <= label["left"] and label["right"] <= svg["right"] + 1, label
        assert abs(first["left"] - svg["left"]) <= 1 and abs(last["right"] - svg["right"]) <= 1  # ends of the axis
        assert first["right"] <= last["left"] or first["bottom"] <= last["top"]  # never on top of each other
        assert top["bottom"] <= svg["top"] + 1 and first["top"] >= svg["bottom"] - 1
        assert first["direction"] == ("rtl" if lang == "ar" else "ltr")  # Arabic text reads right to left
    bars = page.locator(".chart rect")
    assert bars.count() == 2  # today: received (3) and decided (2)
    screenshot(page, f"j9-dates-figures-{lang}")
    page.context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_without_javascript_the_dated_pages_and_the_queue_filter_work(browser, live, e2e_resident, lang):
    made = decided(e2e_resident)
    visit = submit_request(e2e_resident, person_name="يوسف اليمني", service="visit_extension")
    make_user("noura", None, role="officer", full_name="Noura")
    page = browser.new_context(locale=LOCALES[lang], viewport=PHONE, java_script_enabled=False).new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/?view=all")  # sent before she was an officer: nobody's yet
    page.select_option("select[name=service]", "visit_extension")
    page.click("form.filters button")
    page.wait_for_url("**service=visit_extension**")
    assert visit.number in page.inner_text("#queue") and made.number not in page.inner_text("#queue")
    check_times(times(page, "#queue"), lang)
    fits_the_phone(page)
    page.goto(f"{live}/staff/requests/{made.number}")
    check_times(times(page), lang)
    page.goto(f"{live}/staff/figures")
    check_times(times(page), lang)
    assert page.locator(".chart rect").count() >= 2
    page.context.close()
