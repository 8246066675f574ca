"""The seven-day promise (issue 15) in Debian's headless Chromium: a supervisor's "At
risk and overdue" view in Arabic and English (part 2), the check page naming the
resident's undecided request for the same service and person (part 4), a reason
reworded by a supervisor and offered in its new words while old decisions keep the
old (part 5), and /performance at phone width without JavaScript, in both calendars
and both languages, with its CSV and its "fewer than 10" (part 6).

Dates are worked out from today with the working-day helpers, so the file passes on
any day and at any hour. Screenshots go to screenshots/ (not committed)."""
import datetime as dt
from pathlib import Path

import pytest
from babel.support import Translations
from hijridate import Gregorian

from models import REJECTED, UNDER_REVIEW, Reason, ServiceRequest, closed_days, db, riyadh_today, working_days_left
from models.deadlines import risk_horizon
from tests.conftest import need_playwright, screenshot, sign_in
from tests.factories import make_user, minimal_pdf, submit_request
from tests.test_performance import add_request

playwright_api = need_playwright()
expect = playwright_api.expect
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
AMAL = "أمل سعد"
ARABIC_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
                 "نوفمبر", "ديسمبر"]


def said(lang, msgid, plural=None, num=None):
    """`msgid` as the catalogue of `lang` says it (a plural with its number)."""
    catalogue = Translations.load(str(CATALOGUES), [lang])
    if plural is None:
        return catalogue.gettext(msgid)
    return catalogue.ngettext(msgid, plural, num) % {"num": num}


def days_over(lang, num):
    return said(lang, "%(num)d working day over", "%(num)d working days over", num)


def switch_language(page):
    """The page's own language button (a form: it works without JavaScript too)."""
    page.click("header form button[name=lang]")
    page.wait_for_load_state()


def held(created, due_on, holder, status=UNDER_REVIEW):
    """The request given this deadline, holder and status directly (tests/test_watcher.py's due())."""
    with db.connection_context():
        ServiceRequest.update(due_on=due_on, assignee=holder, status=status).where(
            ServiceRequest.id == created.id).execute()
        return ServiceRequest.get_by_id(created.id)


def deadline_over_by(today, num):
    """The latest deadline before `today` that `num` working days have passed since."""
    for back in range(1, 60):
        day = today - dt.timedelta(days=back)
        if working_days_left(today, day, closed_days(day, today + dt.timedelta(days=1))) == -num:
            return day
    raise AssertionError(f"no deadline {num} working days over before {today}")


# ------------------------------------------------------------------ part 2: at risk and overdue

def test_a_supervisor_sees_the_overdue_request_first_with_its_officer(browser, live, e2e_resident):
    noura = make_user("noura", None, role="officer", full_name="Noura Officer")
    khalid = make_user("khalid", None, role="officer", full_name="Khalid Officer")
    make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    today = riyadh_today()
    with db.connection_context():
        horizon = risk_horizon(today)
    longest = held(submit_request(e2e_resident, person_name=AMAL), deadline_over_by(today, 2), noura)
    soon = held(submit_request(e2e_resident, person_name=AMAL), horizon, khalid)
    page = browser.new_context(locale="ar-SA", viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, live, "fahad", "/staff/")
    # after the supervisor's queue, which gives out what waits, and last: a request sent
    # after it would give it to an officer too
    nobodys = held(submit_request(e2e_resident, person_name=AMAL), deadline_over_by(today, 1), None, "received")
    page.click("header nav a[href='/staff/risks']")
    page.wait_for_url(f"{live}/staff/risks")
    rows = page.locator("table.risks tbody tr")
    for lang in ("ar", "en"):
        assert page.get_attribute("html", "lang") == lang
        expect(page.locator("h1")).to_have_text(said(lang, "At risk and overdue"))
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_have_id(f"req-{longest.number}")
        expect(rows.nth(0)).to_contain_text("Noura Officer")
        expect(rows.nth(0)).to_contain_text(days_over(lang, 2))
        expect(rows.nth(1)).to_have_id(f"req-{nobodys.number}")
        expect(rows.nth(1)).to_contain_text(said(lang, "Nobody"))
        expect(rows.nth(1)).to_contain_text(days_over(lang, 1))
        expect(page.locator("#at-risk + div tr#req-" + soon.number)).to_contain_text("Khalid Officer")
        screenshot(page, f"promise-risks-{lang}")
        if lang == "ar":
            switch_language(page)
            page.wait_for_url(f"{live}/staff/risks")
    page.context.close()


# ------------------------------------------------------------------ part 4: duplicates caught

def test_the_check_page_links_the_undecided_request_and_still_sends(browser, live, e2e_resident, tmp_path):
    make_user("noura", None, role="officer", full_name="Noura Officer")
    earlier = submit_request(e2e_resident, person_name=AMAL)
    page = browser.new_context(locale="ar-SA", viewport={"width": 360, "height": 800}).new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/new")
    page.check("input[name=service][value=passport]")
    page.get_by_label(AMAL).check()
    page.fill("#description", "أريد تجديد جوازي لسفر علاجي قريب، وهذا طلب مختلف عن طلبي السابق.")
    document = tmp_path / "passport.pdf"
    document.write_bytes(minimal_pdf("Passport copy"))
    page.set_input_files("#documents", str(document))
    page.click("main form button")
    page.wait_for_url("**/requests/new/check?draft=*")
    check_address = page.url
    notice = page.locator("#duplicates")
    expect(notice).to_contain_text("أرسلت من قبل طلبًا واحدًا لهذه الخدمة لهذا الشخص لم يُبتّ فيه بعد")
    expect(notice).to_contain_text("وطلب ثانٍ لا يعجّل به")
    screenshot(page, "promise-duplicate-ar")

    notice.locator(f"a[href='/requests/{earlier.number}']").click()
    page.wait_for_url(f"{live}/requests/{earlier.number}")
    expect(page.locator("h1")).to_contain_text(earlier.number)
    page.goto(check_address)
    page.click("form[action$='/requests/new/confirm'] button")
    page.wait_for_url("**/confirmation")
    number = page.inner_text(".big-number").strip()
    assert len(number) == 9 and number.isdigit() and number != earlier.number
    with db.connection_context():
        assert [r.number for r in ServiceRequest.select().order_by(ServiceRequest.id)] == [earlier.number, number]
    page.context.close()


# ------------------------------------------------------------------ part 5: ready-made reasons

OLD_AR, OLD_EN = "المستندات المطلوبة ناقصة أو غير واضحة.", "The required documents are missing or cannot be read."
NEW_AR, NEW_EN = "صورة الجواز المرفقة غير واضحة؛ أرفق صورة ملونة لصفحة البيانات.", \
    "The passport copy cannot be read; attach a colour copy of the data page."


def test_a_reworded_reason_is_offered_in_its_new_words_and_old_decisions_keep_the_old(browser, live, e2e_resident):
    noura = make_user("noura", None, role="officer", full_name="Noura Officer")
    make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    decided, waiting = (submit_request(e2e_resident, person_name=AMAL) for _ in range(2))
    with db.connection_context():
        old = Reason.get(Reason.code == "docs_missing")
        assert (old.text_ar, old.text_en) == (OLD_AR, OLD_EN)
        ServiceRequest.get_by_id(decided.id).change_status(UNDER_REVIEW, actor=noura)
        ServiceRequest.get_by_id(decided.id).change_status(REJECTED, actor=noura, reason_choice=old)
        assert ServiceRequest.get_by_id(waiting.id).assignee_id == noura.id

    supervisor = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800}).new_page()
    sign_in(supervisor, live, "fahad", "/staff/")
    supervisor.click("header nav a[href='/staff/reasons']")
    supervisor.wait_for_url(f"{live}/staff/reasons")
    supervisor.click(f"#reason-{old.id} a[href='/staff/reasons/{old.id}']")
    supervisor.wait_for_url(f"{live}/staff/reasons/{old.id}")
    supervisor.fill("#text_ar", NEW_AR)
    supervisor.fill("#text_en", NEW_EN)
    supervisor.click(f"form[action='/staff/reasons/{old.id}/reword'] button")
    supervisor.wait_for_url(f"{live}/staff/reasons#reason-*")
    with db.connection_context():
        new = Reason.get(Reason.text_en == NEW_EN)
    expect(supervisor.locator(f"#reason-{new.id}")).to_contain_text(NEW_AR)
    expect(supervisor.locator(f"#reason-{new.id}")).to_contain_text(NEW_EN)
    screenshot(supervisor, "promise-reasons-en")
    supervisor.context.close()

    officer = browser.new_context(locale="ar-SA", viewport={"width": 1280, "height": 800}).new_page()
    sign_in(officer, live, "noura", "/staff/")
    officer.goto(f"{live}/staff/requests/{waiting.number}")
    officer.click(f"form[action='/staff/requests/{waiting.number}/start'] button")
    officer.wait_for_load_state()
    options = officer.locator("#reason_choice option")
    expect(options.filter(has_text=NEW_AR)).to_have_count(1)
    expect(options.filter(has_text=OLD_AR)).to_have_count(0)
    switch_language(officer)
    expect(options.filter(has_text=NEW_EN)).to_have_count(1)
    expect(options.filter(has_text=OLD_EN)).to_have_count(0)
    officer.check("input[name=decision][value=rejected]")
    officer.select_option("#reason_choice", label=NEW_EN)
    officer.click("#decide button")
    officer.wait_for_load_state()
    officer.context.close()

    resident = browser.new_context(locale="ar-SA", viewport={"width": 360, "height": 800}).new_page()
    sign_in(resident, live)
    resident.goto(f"{live}/requests/{decided.number}")
    expect(resident.locator("main")).to_contain_text(OLD_AR)
    expect(resident.locator("main")).not_to_contain_text(NEW_AR)
    resident.goto(f"{live}/requests/{waiting.number}")
    expect(resident.locator("main")).to_contain_text(NEW_AR)
    expect(resident.locator("main")).not_to_contain_text(OLD_AR)
    resident.context.close()


# ------------------------------------------------------------------ part 6: the record published

@pytest.fixture
def last_month(live, e2e_resident):
    """Three change-of-profession requests sent and decided in the month before this one."""
    today = riyadh_today()
    sent = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    for _ in range(3):
        add_request(e2e_resident, "profession", sent, sent + dt.timedelta(days=1), stars=4)
    return sent


def row_of(page, caption, month):
    table = page.locator("table.performance", has=page.locator("caption", has_text=caption))
    return table.locator("tbody tr", has=page.locator("th", has_text=month))


def test_the_published_record_on_a_phone_without_javascript(browser, live, last_month):
    hijri = Gregorian(last_month.year, last_month.month, last_month.day).to_hijri()
    hijri_ar, hijri_en = f"{hijri.month_name('ar')} {hijri.year}", f"{hijri.month_name('en')} {hijri.year}"
    gregorian_ar, gregorian_en = f"{ARABIC_MONTHS[last_month.month - 1]} {last_month.year}", \
        f"{last_month:%B %Y}"
    context = browser.new_context(java_script_enabled=False, locale="ar-SA", viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{live}/performance")
    assert page.get_attribute("html", "lang") == "ar" and "<script" not in page.content()
    expect(page.locator("h1")).to_have_text(said("ar", "Our performance: is the seven-day promise kept?"))
    few = said("ar", "fewer than 10")
    expect(row_of(page, "تغيير المهنة", hijri_ar)).to_contain_text(few)  # Arabic readers: Hijri months first
    expect(page.locator("table.performance th[scope=row]", has_text=gregorian_ar)).to_have_count(0)
    box = page.locator("main").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # fits the phone: no sideways scrolling
    screenshot(page, "promise-performance-ar", widths=(360,))

    page.click("a[href='/performance?calendar=gregorian']")
    page.wait_for_url(f"{live}/performance?calendar=gregorian")
    expect(row_of(page, "تغيير المهنة", gregorian_ar)).to_contain_text(few)
    expect(page.locator("table.performance th[scope=row]", has_text=hijri_ar)).to_have_count(0)
    page.click("a[href='/performance?calendar=hijri']")
    page.wait_for_url(f"{live}/performance?calendar=hijri")
    expect(row_of(page, "تغيير المهنة", hijri_ar)).to_contain_text(few)

    switch_language(page)
    page.wait_for_url(f"{live}/performance?calendar=hijri")
    assert page.get_attribute("html", "lang") == "en" and page.get_attribute("html", "dir") == "ltr"
    assert "<script" not in page.content()
    expect(page.locator("h1")).to_have_text("Our performance: is the seven-day promise kept?")
    expect(row_of(page, "Change of profession", hijri_en)).to_contain_text("fewer than 10")
    page.click("a[href='/performance?calendar=gregorian']")
    page.wait_for_url(f"{live}/performance?calendar=gregorian")
    expect(row_of(page, "Change of profession", gregorian_en)).to_contain_text("fewer than 10")
    screenshot(page, "promise-performance-en", widths=(360,))

    with page.expect_download() as downloading:
        page.click("a[href='/performance.csv?calendar=gregorian']")
    text = Path(downloading.value.path()).read_text()
    month = f"{last_month:%Y-%m}"
    assert text.startswith("calendar,month,") and f"gregorian,{month},{month}-01,profession,<10,<10," in text
    fetched = page.request.get(f"{live}/performance.csv?calendar=hijri")
    assert fetched.ok and fetched.headers["content-type"].startswith("text/csv")
    assert f"hijri,{hijri.year}-{hijri.month:02d}," in fetched.text()
    context.close()
