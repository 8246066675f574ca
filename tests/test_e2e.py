"""End to end in Debian's headless Chromium, driven by the playwright package.

They wait for conditions, never for a fixed time. Where a test must show that
something does NOT happen (no poll), the page runs on Playwright's fake clock:
htmx's `every` timer fires only when the test moves the clock on."""
from datetime import UTC, datetime, timedelta

from models import ACCEPTED, UNDER_REVIEW, ServiceRequest, db
from tests.conftest import POLL, need_playwright, sign_in
from tests.factories import make_user, minimal_pdf, submit_request

playwright_api = need_playwright()


# The status polls htmx really sends and those it is done with. app.js cancels a poll in
# htmx:config:request while the tab is hidden; htmx:before:request comes after that, just
# before fetch(), and htmx:finally:request after the swap (if any).
POLL_COUNTER = """
window.polls = {sent: 0, done: 0};
const isPoll = event => String(event.detail.ctx.request.action).includes("/status");
document.addEventListener("htmx:before:request", e => { if (isPoll(e)) window.polls.sent++; });
document.addEventListener("htmx:finally:request", e => { if (isPoll(e)) window.polls.done++; });
"""


def stop_the_clock(page):
    """From the next page load on: fake timers, paused, and the poll counter."""
    start = datetime.now(UTC)
    page.clock.install(time=start)
    # A minute ahead, so never behind the fake time already flowing on the current page.
    page.clock.pause_at(start + timedelta(minutes=1))
    page.add_init_script(POLL_COUNTER)


def polls_sent(page):
    return page.evaluate("window.polls.sent")


def next_poll(page):
    """One poll interval on the fake clock; the poll's response, once htmx is done with it.
    (htmx would first wait for a settle timer if the new panel kept an id of an element inside
    the old one: none does today; if one ever does, this wait times out every time, not by chance.)"""
    done = page.evaluate("window.polls.done")
    with page.expect_response(lambda r: "/status" in r.url) as response:
        page.clock.run_for(POLL * 1000)
    page.wait_for_function("done => window.polls.done > done", arg=done)
    return response.value


def let_intervals_pass(page, count):
    """`count` poll intervals on the fake clock. run_for returns once the timers have fired
    and their microtasks have run, so a poll they sent is already counted."""
    for _ in range(count):
        page.clock.run_for(POLL * 1000)


def set_hidden(page, hidden):
    """What the browser does when the tab is hidden or shown again."""
    page.evaluate("""hidden => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def test_resident_sends_a_request_and_watches_it_change_in_place(browser, live, e2e_resident, tmp_path):
    context = browser.new_context(locale="ar-SA")
    page = context.new_page()
    sign_in(page, live)
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"

    page.goto(f"{live}/requests/new")
    page.check("input[name=service][value=visit_extension]")
    page.get_by_label("يوسف اليمني").check()
    page.fill("#description", "تنتهي تأشيرة زيارة قريبي بعد أيام وهو ما زال في العلاج بالمستشفى، أرجو تمديدها.")
    document = tmp_path / "report.pdf"
    document.write_bytes(minimal_pdf("Medical report"))
    page.set_input_files("#documents", str(document))
    page.click("main form button")
    page.wait_for_url("**/requests/new/check?draft=*")
    assert "report.pdf" in page.inner_text("main")
    page.click("form[action$='/requests/new/confirm'] button")
    page.wait_for_url("**/confirmation")
    number = page.inner_text(".big-number").strip()
    assert len(number) == 9 and number.isdigit()

    stop_the_clock(page)
    page.goto(f"{live}/requests/{number}")
    page.evaluate("window.sameDocument = true")
    badge = page.locator("#status-panel .badge")
    assert badge.inner_text() == "تم الاستلام"
    page.evaluate("""() => { window.mutations = 0;
        new MutationObserver(list => { window.mutations += list.length; })
            .observe(document.querySelector('main'), {subtree: true, childList: true, characterData: true}); }""")
    assert next_poll(page).status == 204 and next_poll(page).status == 204
    assert page.evaluate("window.mutations") == 0  # unchanged polls: no swap
    with db.connection_context():
        ServiceRequest.get(ServiceRequest.number == number).change_status(UNDER_REVIEW)
    assert next_poll(page).status == 200
    playwright_api.expect(badge).to_have_text("قيد الدراسة")
    playwright_api.expect(page.locator("#timeline li")).to_have_count(2)
    with db.connection_context():
        ServiceRequest.get(ServiceRequest.number == number).change_status(ACCEPTED, message="تم التمديد 30 يوما.")
    assert next_poll(page).status == 200
    playwright_api.expect(badge).to_have_text("مقبول")
    assert "تم التمديد 30 يوما." in page.inner_text("#status-panel")
    assert page.evaluate("window.sameDocument") is True  # no navigation, no reload
    sent = polls_sent(page)  # each interval above sent a poll; from here on none does
    let_intervals_pass(page, 3)
    assert polls_sent(page) == sent  # the final panel has no polling attributes
    context.close()


def test_polling_pauses_while_the_tab_is_hidden(browser, live, e2e_resident):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    page = browser.new_context(locale="en-US").new_page()
    sign_in(page, live)
    stop_the_clock(page)
    page.goto(f"{live}/requests/{created.number}")
    assert page.get_attribute("html", "dir") == "ltr"
    for _ in range(3):
        assert next_poll(page).status == 204  # visible: every interval sends a poll
    assert polls_sent(page) == 3
    set_hidden(page, True)
    let_intervals_pass(page, 3)
    assert polls_sent(page) == 3  # the same three intervals hidden: none
    # Shown again: a poll at once, with the clock still stopped, so from the trigger.
    with page.expect_response(lambda r: "/status" in r.url and r.status == 204):
        set_hidden(page, False)
    assert polls_sent(page) == 4


def test_without_javascript_the_page_refreshes_itself(browser, live, e2e_resident):
    created = submit_request(e2e_resident, person_name="أمل سعد")
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    sign_in(page, live)
    page.goto(f"{live}/requests/{created.number}")
    assert page.locator("#status-panel a", has_text="Refresh").count() == 1
    with db.connection_context():
        ServiceRequest.get_by_id(created.id).change_status(UNDER_REVIEW)
    playwright_api.expect(page.locator("#status-panel .badge")).to_have_text("Under review", timeout=6000)
    context.close()


def test_officer_returns_resident_answers_officer_accepts(browser, live, e2e_resident, tmp_path):
    """Each officer step shows on the resident's open page in place."""
    created = submit_request(e2e_resident, person_name="يوسف اليمني", service="huroob")
    make_user("noura", None, role="officer", full_name="Noura")
    resident = browser.new_context(locale="ar-SA").new_page()
    sign_in(resident, live)
    resident.goto(f"{live}/requests/{created.number}")
    resident.evaluate("window.sameDocument = true")
    officer = browser.new_context(locale="en-US").new_page()
    sign_in(officer, live, "noura", "/staff/")
    officer.goto(f"{live}/staff/requests/{created.number}")
    badge = resident.locator("#status-panel .badge")
    wait = dict(timeout=POLL * 4000)

    officer.click("text=Start the review")
    officer.wait_for_load_state()
    playwright_api.expect(badge).to_have_text("قيد الدراسة", **wait)
    officer.fill("#message", "Attach the approved leave letter.")
    officer.click("text=Return to the applicant")
    officer.wait_for_load_state()
    playwright_api.expect(badge).to_contain_text("لاستكمال المعلومات", **wait)
    assert "Attach the approved leave letter." in resident.inner_text("#status-panel")
    assert resident.evaluate("window.sameDocument") is True

    letter = tmp_path / "leave-letter.pdf"
    letter.write_bytes(minimal_pdf("Leave letter"))
    resident.fill("#status-panel textarea", "الخطاب مرفق.")
    resident.set_input_files("#status-panel input[type=file]", str(letter))
    resident.click("#status-panel button")
    resident.wait_for_load_state()
    playwright_api.expect(badge).to_have_text("قيد الدراسة", **wait)
    assert "leave-letter.pdf" in resident.inner_text("main")
    resident.evaluate("window.sameDocument = true")

    officer.reload()
    assert "leave-letter.pdf" in officer.inner_text("main") and "الخطاب مرفق." in officer.inner_text("main")
    officer.check("input[name=decision][value=accepted]")
    officer.select_option("#reason_choice", label="The absence report has been cancelled.")
    officer.click("text=Record the decision")
    officer.wait_for_load_state()
    playwright_api.expect(badge).to_have_text("مقبول", **wait)
    assert "تم إلغاء بلاغ التغيب." in resident.inner_text("#status-panel")
    assert resident.evaluate("window.sameDocument") is True


def test_queue_filters_update_the_list_in_place(browser, live, e2e_resident):
    passport = submit_request(e2e_resident, person_name="أمل سعد")
    visit = submit_request(e2e_resident, person_name="يوسف اليمني", service="visit_extension")
    make_user("noura", None, role="officer", full_name="Noura")
    page = browser.new_context(locale="en-US").new_page()
    sign_in(page, live, "noura", "/staff/")
    page.goto(f"{live}/staff/?view=all")  # sent before she was an officer: nobody's yet
    page.evaluate("window.sameDocument = true")
    assert passport.number in page.inner_text("#queue") and visit.number in page.inner_text("#queue")
    page.select_option("select[name=service]", "visit_extension")
    playwright_api.expect(page.locator("#queue")).not_to_contain_text(passport.number, timeout=4000)
    assert visit.number in page.inner_text("#queue")
    assert "service=visit_extension" in page.url  # bookmarkable
    assert page.evaluate("window.sameDocument") is True
    page.go_back()
    playwright_api.expect(page.locator("#queue")).to_contain_text(passport.number, timeout=4000)
