"""The status panel backs off: after each unchanged poll it waits twice as long
(10 s, 20 s, 40 s, then every 60 s), and a change, the tab shown again or the
resident acting bring it back to 10 s. On Playwright's paused fake clock, so the
waits are exact and the test takes no real hour."""

import pytest

from models import UNDER_REVIEW, ServiceRequest, db
from tests.conftest import make_app, need_playwright, serve, sign_in
from tests.factories import make_amal, submit_request
from tests.test_e2e import stop_the_clock

playwright_api = need_playwright()
EVERY, MOST = 10, 60


@pytest.fixture
def live_default(tmp_path):
    """The app with the shipped poll settings (10 s, backing off to 60 s)."""
    app = make_app(f"sqlite:///{tmp_path / 'backoff.sqlite'}")
    assert (app.config["STATUS_POLL_SECONDS"], app.config["STATUS_POLL_MAX_SECONDS"]) == (EVERY, MOST)
    yield from serve(app)


@pytest.fixture
def open_panel(browser, live_default):
    """A resident's request page, open on the paused fake clock."""
    resident = make_amal([("أمل سعد", None, "SA")])
    number = submit_request(resident, person_name="أمل سعد").number
    page = browser.new_context(locale="ar-SA").new_page()
    sign_in(page, live_default)
    stop_the_clock(page)
    page.goto(f"{live_default}/requests/{number}")
    return page, number


def polls_done(page):
    return page.evaluate("window.polls.done")


def wait_exactly(page, seconds):
    """Nothing is sent a millisecond before `seconds`; one poll at `seconds`."""
    done = polls_done(page)
    page.clock.run_for(seconds * 1000 - 1)
    assert page.evaluate("window.polls.sent") == done
    with page.expect_response(lambda r: "/status" in r.url) as response:
        page.clock.run_for(1)
    page.wait_for_function("done => window.polls.done > done", arg=done)
    return response.value.status


def test_an_unchanged_panel_backs_off_and_a_change_brings_it_back(open_panel):
    page, number = open_panel
    assert [wait_exactly(page, s) for s in (10, 20, 40, 60, 60)] == [204] * 5
    with db.connection_context():
        ServiceRequest.get(ServiceRequest.number == number).change_status(UNDER_REVIEW)
    assert wait_exactly(page, 60) == 200  # the change arrives at the long interval ...
    assert wait_exactly(page, 10) == 204  # ... and the panel asks often again
    assert wait_exactly(page, 20) == 204
    page.keyboard.press("Tab")  # the resident acts: back to the short interval
    assert wait_exactly(page, 10) == 204


def test_polls_in_an_hour_of_an_open_panel(open_panel):
    """Before the back-off an open panel sent 3,600 / 10 = 360 polls an hour; now
    10 + 20 + 40 s, then one a minute: 61."""
    page, _ = open_panel
    elapsed, polls, wait = 0, 0, EVERY
    while elapsed + wait <= 3600:
        assert wait_exactly(page, wait) == 204
        elapsed, polls, wait = elapsed + wait, polls + 1, min(2 * wait, MOST)
    print(f"\npolls in the first hour of an open panel: {polls} (360 without back-off)")
    assert polls == 61
