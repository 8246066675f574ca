"""An objection's whole path in Debian's headless Chromium: the resident (in Arabic)
objects to a rejection with a document, a supervisor (in English) finds it among the
objections waiting, opens the document, starts the review and upholds the rejection
with a reason; the resident's open page follows each step in place (no reload) and
ends with the reason and the rating form, its panel no longer polling."""
from pathlib import Path

from babel.support import Translations

from models import REJECTED, UNDER_REVIEW, Objection, ServiceRequest, db
from tests.conftest import POLL, need_playwright, screenshot, sign_in
from tests.factories import make_user, minimal_pdf, submit_request

playwright_api = need_playwright()
expect = playwright_api.expect
WAIT = dict(timeout=POLL * 8000)
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
WHY = "الشهادة مصدقة من الغرفة التجارية، وأرفقت صورة واضحة منها في هذا الاعتراض."
REASON = "The stamp on the copy is not the chamber stamp, so the rejection stands."


def said(lang, msgid, **values):
    text = Translations.load(str(CATALOGUES), [lang]).gettext(msgid)
    return text % values if values else text


def test_a_resident_objects_and_a_supervisor_decides_while_the_panel_follows(browser, live, e2e_resident):
    noura = make_user("noura", None, role="officer", full_name="Noura Officer")
    make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    created = submit_request(e2e_resident, person_name="أمل سعد")
    with db.connection_context():
        ServiceRequest.update(assignee=noura).where(ServiceRequest.id == created.id).execute()
        current = ServiceRequest.get_by_id(created.id).change_status(UNDER_REVIEW, actor=noura)
        current.change_status(REJECTED, actor=noura, message="الشهادة المرفقة غير مصدقة.")

    resident = browser.new_context(locale="ar-SA", viewport={"width": 360, "height": 800}).new_page()
    sign_in(resident, live)
    resident.goto(f"{live}/requests/{created.number}")
    resident.click(f"a[href='/requests/{created.number}/objection']")
    resident.wait_for_url(f"**/requests/{created.number}/objection")
    resident.fill("#text", "قصير")  # too short: the form says so and keeps it
    resident.click("main form button")
    expect(resident.locator(".error-summary")).to_be_visible()
    assert resident.input_value("#text") == "قصير"
    resident.fill("#text", WHY)
    resident.set_input_files("#documents", files=[{"name": "attested.pdf", "mimeType": "application/pdf",
                                                   "buffer": minimal_pdf("Attested")}])
    resident.click("main form button")
    resident.wait_for_url(f"**/requests/{created.number}#status-panel")
    expect(resident.locator("#objection-status")).to_contain_text(said("ar", "Objection received"))
    expect(resident.locator("#timeline")).to_contain_text(said("ar", "Objection sent"))
    assert resident.locator("a", has_text="attested.pdf").count() == 1
    resident.evaluate("window.sameDocument = true")

    staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800}).new_page()
    sign_in(staff, live, "fahad", "/staff/")
    staff.click("header nav a[href='/staff/objections']")
    staff.wait_for_url("**/staff/objections")
    expect(staff.locator(f"#objection-{created.number}")).to_contain_text("Noura Officer")
    staff.click(f"#objection-{created.number} a")
    staff.wait_for_url(f"**/staff/requests/{created.number}#objection")
    expect(staff.locator("#objection")).to_contain_text(WHY)
    with staff.expect_popup() as opened:
        staff.click("#objection a:has-text('attested.pdf')")
    assert f"/staff/requests/{created.number}/documents/" in opened.value.url
    opened.value.close()
    staff.click("text=Start reviewing the objection")
    staff.wait_for_url(f"**/staff/requests/{created.number}#objection")
    expect(staff.locator("#objection .badge")).to_have_text("Objection under review")
    expect(resident.locator("#objection-status")).to_contain_text(said("ar", "Objection under review"), **WAIT)

    staff.check("input[name=outcome][value=upheld]")
    staff.click("#objection-decide button")  # no reason: refused, nothing decided
    expect(staff.locator("#objection-decide .errors")).to_contain_text("give the reason")
    staff.check("input[name=outcome][value=upheld]")
    staff.fill("#objection-decide textarea", REASON)
    staff.click("#objection-decide button")
    staff.wait_for_url(f"**/staff/requests/{created.number}#objection")
    expect(staff.locator("#objection .badge")).to_have_text("Objection decided: the rejection stands")

    expect(resident.locator("#objection-status")).to_contain_text(REASON, **WAIT)
    expect(resident.locator("#objection-status")).to_contain_text(said("ar", "Objection decided: the rejection stands"))
    expect(resident.locator("#after-decision fieldset#stars")).to_be_visible()  # asked now, not before
    expect(resident.locator("#timeline")).to_contain_text(said("ar", "Objection decided: the rejection stands"))
    assert resident.evaluate("window.sameDocument") is True  # followed in place, no reload
    assert resident.locator("#status-panel[hx-get]").count() == 0  # decided: no more polling
    with db.connection_context():
        objection = Objection.get()
        assert (objection.outcome, objection.reason) == ("upheld", REASON)
    screenshot(resident, "objection-decided-ar")
    resident.context.close()
    staff.context.close()
