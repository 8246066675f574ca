"""Every request has an officer, in Debian's headless Chromium, in Arabic and English,
without JavaScript of its own: a supervisor marks an officer away on the Team page
(the request she held moves to the other officer), then takes a request to decide
it himself with a reason. Screenshots go to screenshots/ (not committed)."""
import datetime as dt

import pytest
from playwright.sync_api import expect

from models import ServiceRequest, db, riyadh_today
from tests.conftest import need_playwright, screenshot, sign_in
from tests.factories import make_user, submit_request

need_playwright()

LOCALES = {"ar": "ar-SA", "en": "en-US"}
TEXT = {"ar": dict(away="في إجازة", set_away="سجّل الإجازة", assigned="الطلب مسند إلى خالد.",
                   reassign="أعد الإسناد", moved="أُعيد إسناده إلى فهد"),
        "en": dict(away="Away", set_away="Set away", assigned="Assigned to Khalid.",
                   reassign="Reassign", moved="Reassigned to Fahad")}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_supervisor_sets_an_officer_away_and_takes_a_request(browser, live, e2e_resident, lang):
    make_user("noura", None, role="officer", full_name="نورة" if lang == "ar" else "Noura")
    make_user("khalid", None, role="officer", full_name="خالد" if lang == "ar" else "Khalid")
    fahad = make_user("fahad", None, role="supervisor", full_name="فهد" if lang == "ar" else "Fahad")
    created = submit_request(e2e_resident, person_name="أمل سعد")  # to noura: the older account
    text = TEXT[lang]
    page = browser.new_context(locale=LOCALES[lang], viewport={"width": 1280, "height": 800}).new_page()
    sign_in(page, live, "fahad", "/staff/")
    page.goto(f"{live}/staff/team")
    until = riyadh_today() + dt.timedelta(days=5)
    page.fill("#until-noura", until.isoformat())
    page.locator("#officer-noura").get_by_role("button", name=text["set_away"]).click()
    page.wait_for_url(f"{live}/staff/team#officer-noura")
    expect(page.locator("#officer-noura")).to_contain_text(text["away"])
    screenshot(page, f"assignment-team-{lang}")
    with db.connection_context():
        assert ServiceRequest.get_by_id(created.id).assignee.username == "khalid"

    page.goto(f"{live}/staff/requests/{created.number}")
    expect(page.locator("#assignment")).to_contain_text(text["assigned"])
    page.select_option("#officer", value=str(fahad.id))  # "myself, to decide it": noura is away
    page.fill("#reason", "حالة حساسة" if lang == "ar" else "A delicate case.")
    page.get_by_role("button", name=text["reassign"]).click()
    page.wait_for_load_state()
    expect(page.locator("#timeline")).to_contain_text(text["moved"])
    screenshot(page, f"assignment-reassigned-{lang}")
    with db.connection_context():
        assert ServiceRequest.get_by_id(created.id).assignee.username == "fahad"
