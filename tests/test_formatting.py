"""The date filters (web/formatting.py) with fixed datetimes, and the pages that show
dates: Gregorian and Umm al-Qura side by side, Riyadh time, one date style."""
import datetime as dt
import re

import pytest
from flask_babel import force_locale

from models import ACCEPTED, UNDER_REVIEW, ServiceRequest, db
from tests.factories import make_user, sign_in_client
from web.formatting import day_text, format_day, format_moment, moment_text

EN = {"Accept-Language": "en"}
AR_DAY = "2 ديسمبر 2026 (22 جمادى الآخرة 1448 هـ)"
EN_DAY = "2 Dec 2026 (22 Jumada al-Akhirah 1448 AH)"


@pytest.fixture
def context(app):
    with app.test_request_context():
        yield


def in_(lang, function, value):
    with force_locale(lang):
        return str(function(value))


def test_a_day_reads_in_both_calendars_in_one_style(context):
    assert in_("ar", day_text, dt.date(2026, 12, 2)) == AR_DAY
    assert in_("en", day_text, dt.date(2026, 12, 2)) == EN_DAY


def test_a_moment_is_in_riyadh_time_with_the_arabic_comma(context):
    stored = dt.datetime(2026, 11, 25, 22, 38)  # naive UTC, as stored: 01:38 the next day in Riyadh
    assert in_("ar", moment_text, stored) == "26 نوفمبر 2026، 01:38 (16 جمادى الآخرة 1448 هـ)"
    assert in_("en", moment_text, stored) == "26 Nov 2026, 01:38 (16 Jumada al-Akhirah 1448 AH)"


@pytest.mark.parametrize("utc, riyadh", [
    (dt.datetime(2026, 12, 31, 20, 59), "31 Dec 2026, 23:59 (22 Rajab 1448 AH)"),
    (dt.datetime(2026, 12, 31, 21, 0), "1 Jan 2027, 00:00 (23 Rajab 1448 AH)"),
    (dt.datetime(2026, 12, 31, 22, 30), "1 Jan 2027, 01:30 (23 Rajab 1448 AH)"),
])
def test_around_riyadh_midnight_the_date_and_the_hijri_date_move_together(context, utc, riyadh):
    assert in_("en", moment_text, utc) == riyadh


def test_the_filters_write_a_time_element(context):
    with force_locale("ar"):
        assert str(format_moment(dt.datetime(2026, 11, 25, 22, 38))) == (
            '<time datetime="2026-11-26T01:38+03:00">26 نوفمبر 2026، 01:38 (16 جمادى الآخرة 1448 هـ)</time>')
        assert str(format_day(dt.date(2026, 12, 2))) == f'<time datetime="2026-12-02">{AR_DAY}</time>'


def test_outside_the_umm_al_qura_range_only_the_gregorian_date_shows(context):
    assert in_("en", day_text, dt.date(1900, 3, 1)) == "1 Mar 1900"


# ------------------------------------------------------------------ the pages

HIJRI = {"ar": "هـ)", "en": " AH)"}
ENGLISH_LONG_DATE = r"(January|February|March|April|June|July|August|September|October|November|December) \d"


def decide(service_request):
    with db.connection_context():
        request = ServiceRequest.get_by_id(service_request.id)
        request.change_status(UNDER_REVIEW)
        ServiceRequest.get_by_id(service_request.id).change_status(ACCEPTED, message="OK")


def dates_in(html):
    """Every <time> element's text."""
    return re.findall(r"<time datetime=\"[^\"]+\">([^<]*)</time>", html)


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_resident_pages_show_every_date_in_both_calendars(app, resident, service_request, lang):
    decide(service_request)
    client = app.test_client()
    sign_in_client(client, "amal")
    client.post("/auth/language", data={"lang": lang})
    for path in ("/requests/", f"/requests/{service_request.number}",
                 f"/requests/{service_request.number}/confirmation"):
        html = client.get(path).get_data(as_text=True)
        found = dates_in(html)
        assert found, path
        assert all(HIJRI[lang] in text for text in found), (path, found)
    detail = client.get(f"/requests/{service_request.number}").get_data(as_text=True)
    assert len(dates_in(detail)) >= 4  # sent on, decided on, and the timeline (sent, under review, accepted)
    if lang == "ar":
        assert all("، " in text for text in dates_in(detail))  # the Arabic comma between date and time


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_staff_pages_show_every_date_in_both_calendars(app, resident, service_request, lang):
    make_user("fahad", None, role="supervisor", full_name="Fahad")
    client = app.test_client()
    sign_in_client(client, "fahad")
    client.post("/auth/language", data={"lang": lang})
    client.post(f"/staff/requests/{service_request.number}/claim")  # a row in the audit trail
    queue = client.get("/staff/").get_data(as_text=True)
    assert [t for t in dates_in(queue) if HIJRI[lang] in t]  # the due date in the queue
    detail = client.get(f"/staff/requests/{service_request.number}").get_data(as_text=True)
    audit = detail.split('<table class="audit stack">')[1]
    assert dates_in(audit) and all(HIJRI[lang] in t for t in dates_in(audit))  # the audit trail
    assert all(HIJRI[lang] in t for t in dates_in(detail))
    today = service_request.submitted_on
    figures = client.get(f"/staff/figures?start={today - dt.timedelta(days=3)}&end={today}").get_data(as_text=True)
    assert len(dates_in(figures)) >= 4 and all(HIJRI[lang] in t for t in dates_in(figures))  # period + axis
    if lang == "en":
        for html in (queue, detail, figures):
            assert not re.search(ENGLISH_LONG_DATE, html)  # one style: "2 Dec 2026"
