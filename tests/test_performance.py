"""The record published (/performance and /performance.csv): open to everyone in both
languages and both calendars, figures right for a known small dataset (working days
across a weekend and Eid al-Fitr), nothing under 10 shown, computed at most once per
ten minutes, small, and linked from the home page and the footer."""
import csv
import datetime as dt
import gzip
import io
import re
from html import unescape

import pytest
import time_machine

from cli.demo import load_demo
from models import ACCEPTED, Person, Rating, Service, ServiceRequest, db, due_date, new_request_number, performance
from models.deadlines import public_holidays
from models.objections import Objection

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}
PASSPORT_EN, PASSPORT_AR = "Passport: issue, extend or renew", "جواز السفر: إصدار أو تمديد أو تجديد"
NOW = dt.datetime(2026, 4, 15, 9, 0)  # a Wednesday in Riyadh; March 2026 is among the last twelve months


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add_request(owner, service_code, submitted_on, decided_on=None, stars=None):
    """A request received on `submitted_on` (and decided on `decided_on`), with the
    deadline the portal gives it; rated `stars` when given."""
    with db.connection_context():
        person = Person.linked_by_number(owner, owner.id_number)
        submitted_at = dt.datetime.combine(submitted_on, dt.time(7))
        decided_at = dt.datetime.combine(decided_on, dt.time(8)) if decided_on else None
        created = ServiceRequest.create(
            number=ServiceRequest.unused_number(), owner=owner, person=person,
            service=Service.get(Service.code == service_code),
            description="A request of the published figures' tests.", submitted_at=submitted_at,
            submitted_on=submitted_on, due_on=due_date(submitted_on), draft_token=new_request_number() + "-t",
            status=ACCEPTED if decided_on else "received", decided_at=decided_at, decided_on=decided_on,
            hours_to_decision=(decided_at - submitted_at).total_seconds() / 3600 if decided_on else None)
        if stars:
            Rating.create(request=created, stars=stars)
        return created


@pytest.fixture
def march(app, resident, frozen):
    """Eleven passport requests of March 2026, ten rated (average 4.2):
    five sent Thursday 5 March and decided Sunday 8 March (1 working day: the weekend skipped),
    five sent Sunday 1 March and decided Thursday 12 March (9 working days: late),
    one sent Wednesday 18 March and decided Sunday 29 March (3 working days: Eid al-Fitr
    skipped, 19 and 22-24 March; 7 by the weekends alone)."""
    assert {dt.date(2026, 3, 19), dt.date(2026, 3, 22), dt.date(2026, 3, 24)} <= set(public_holidays(2026))
    stars = iter([5, 5, 4, 4, 4, 4, 4, 4, 4, 4, None])
    for _ in range(5):
        add_request(resident, "passport", dt.date(2026, 3, 5), dt.date(2026, 3, 8), next(stars))
    for _ in range(5):
        add_request(resident, "passport", dt.date(2026, 3, 1), dt.date(2026, 3, 12), next(stars))
    add_request(resident, "passport", dt.date(2026, 3, 18), dt.date(2026, 3, 29), next(stars))
    return resident


def csv_rows(client, calendar="gregorian"):
    response = client.get(f"/performance.csv?calendar={calendar}")
    assert response.status_code == 200
    return {(row["month"], row["service"]): row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


def table_row(page, caption, month):
    """The cells' texts of `month`'s row in the table captioned `caption`."""
    table = re.search(rf"<caption[^>]*>{re.escape(caption)}</caption>(.*?)</table>", page, re.S).group(1)
    row = re.search(rf'<th scope="row">{re.escape(month)}[^<]*</th>(.*?)</tr>', table, re.S).group(1)
    return [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# ------------------------------------------------------------------ open to everyone

@pytest.mark.parametrize("headers, heading, direction", [
    (EN, "Our performance: is the seven-day promise kept?", "ltr"),
    (AR, "أداؤنا: هل يُوفى بوعد الأيام السبعة؟", "rtl"),
])
def test_open_to_everyone_in_both_languages(client, headers, heading, direction):
    response = client.get("/performance", headers=headers)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert heading in page and f'dir="{direction}"' in page
    assert page.count("<caption") == Service.select().count() + 1  # every service, then all services
    assert '<th scope="col">' in page and '<th scope="row">' in page
    assert "<script" not in page


def test_linked_from_the_home_page_and_the_footer(client):
    home = client.get("/", headers=EN).get_data(as_text=True)
    main, footer = home.split("<footer>")
    assert 'href="/performance"' in main and 'href="/performance"' in footer
    services = client.get("/services/", headers=AR).get_data(as_text=True)
    assert 'href="/performance"' in services.split("<footer>")[1]


# ------------------------------------------------------------------ the figures

def test_figures_of_a_known_month(client, march):
    row = csv_rows(client)[("2026-03", "passport")]
    assert (row["received"], row["decided"]) == ("11", "11")
    assert row["share_on_time"] == f"{6 / 11:.3f}"  # the five late ones are the 9-working-day ones
    assert row["median_working_days"] == "3.0"  # 1,1,1,1,1,3,9,9,9,9,9: Eid is no working day
    assert row["average_rating"] == "4.20"
    assert row["objections"] == "0" and row["share_overturned"] == ""  # no share of nothing
    assert csv_rows(client)[("2026-03", "all")]["median_working_days"] == "3.0"
    assert csv_rows(client)[("2026-02", "passport")]["received"] == "0"
    page = client.get("/performance", headers=EN).get_data(as_text=True)
    assert table_row(page, PASSPORT_EN, "March 2026") == ["11", "11", "55%", "3", "0", "–", "4.2"]
    assert table_row(page, "All services", "March 2026") == ["11", "11", "55%", "3", "0", "–", "4.2"]


def test_hijri_months(client, march):
    """Ramadan 1447 is 18 February to 19 March 2026: the decision of 29 March falls in Shawwal."""
    rows = csv_rows(client, "hijri")
    ramadan, shawwal = rows[("1447-09", "passport")], rows[("1447-10", "passport")]
    assert (ramadan["received"], ramadan["decided"], ramadan["first_day"]) == ("11", "10", "2026-02-18")
    assert (ramadan["share_on_time"], ramadan["median_working_days"]) == ("0.500", "5.0")
    assert (shawwal["received"], shawwal["decided"], shawwal["median_working_days"]) == ("0", "<10", "")
    arabic = client.get("/performance", headers=AR).get_data(as_text=True)  # Arabic readers: Hijri months first
    assert table_row(arabic, PASSPORT_AR, "رمضان 1447 هـ")[:4] == ["11", "10", "50%", "5"]
    assert 'href="/performance?calendar=hijri" aria-current="page"' in arabic
    english = client.get("/performance?calendar=hijri", headers=EN).get_data(as_text=True)
    assert table_row(english, PASSPORT_EN, "Ramadan 1447 AH")[:2] == ["11", "10"]
    assert 'href="/performance?calendar=gregorian" aria-current="page"' in client.get(
        "/performance", headers=EN).get_data(as_text=True)


def test_an_unknown_calendar_is_not_found(client):
    assert client.get("/performance?calendar=julian").status_code == 404
    assert client.get("/performance.csv?calendar=julian").status_code == 404


def test_fewer_than_ten_is_never_shown(client, march):
    """Three profession requests: "fewer than 10" and no share or median of them; the
    passport's count is hidden too, or the total minus it would give the three away."""
    for _ in range(3):
        add_request(march, "profession", dt.date(2026, 3, 3), dt.date(2026, 3, 4), stars=1)
    rows = csv_rows(client)
    profession, passport, total = (rows[("2026-03", code)] for code in ("profession", "passport", "all"))
    assert (profession["received"], profession["decided"]) == ("<10", "<10")
    assert profession["share_on_time"] == profession["median_working_days"] == profession["average_rating"] == ""
    assert (passport["received"], passport["decided"]) == ("", "")  # hidden
    assert (total["received"], total["decided"]) == ("14", "14")
    page = client.get("/performance", headers=EN).get_data(as_text=True)
    assert table_row(page, "Change of profession", "March 2026")[:4] == ["fewer than 10", "fewer than 10", "–", "–"]
    assert table_row(page, PASSPORT_EN, "March 2026")[:2] == ["hidden", "hidden"]
    arabic = client.get("/performance?calendar=gregorian", headers=AR).get_data(as_text=True)
    assert table_row(arabic, "تغيير المهنة", "مارس 2026")[:2] == ["أقل من 10", "أقل من 10"]


def test_objection_columns_when_objections_exist(client, march, monkeypatch):
    """The objections' figures (models.performance.objection_counts) in their columns,
    the share overturned only from 10 decided objections."""
    rows = [("passport", dt.date(2026, 3, 10), 12, 10, 3), ("profession", dt.date(2026, 3, 11), 2, 2, 1)]
    ids = {code: Service.get(Service.code == code).id for code, *_ in rows}
    monkeypatch.setattr(performance, "objection_counts",
                        lambda start, end: [(ids[code], *rest) for code, *rest in rows])
    found = csv_rows(client)
    assert (found[("2026-03", "passport")]["objections"], found[("2026-03", "passport")]["share_overturned"]) \
        == ("", "0.300")  # 12, hidden: profession's 2 are "fewer than 10"
    assert found[("2026-03", "all")]["objections"] == "14"
    assert (found[("2026-03", "profession")]["objections"], found[("2026-03", "profession")]["share_overturned"]) \
        == ("<10", "")
    page = client.get("/performance", headers=EN).get_data(as_text=True)
    assert table_row(page, PASSPORT_EN, "March 2026")[4:6] == ["hidden", "30%"]  # 12 hidden: profession's 2 are FEW


def test_the_page_has_the_objection_columns_in_both_languages(client):
    for headers, names in ((EN, ("Objections", "Overturned")), (AR, ("الاعتراضات", "أُلغي القرار"))):
        page = client.get("/performance", headers=headers).get_data(as_text=True)
        heads = [cell for cell in page.split("<th") if 'scope="col"' in cell]
        assert all(any(name in cell for cell in heads) for name in names), names


# ------------------------------------------------------------------ kept ten minutes, cached by nobody else

def test_computed_at_most_once_in_ten_minutes(client, march, frozen, monkeypatch):
    computed = []
    compute = performance.compute
    monkeypatch.setattr(performance, "compute", lambda today=None: computed.append(today) or compute(today))
    assert csv_rows(client)[("2026-03", "passport")]["received"] == "11"
    client.get("/performance", headers=EN)
    client.get("/performance", headers=AR)
    add_request(march, "passport", dt.date(2026, 3, 20))
    frozen.shift(dt.timedelta(minutes=9, seconds=59))
    assert csv_rows(client)[("2026-03", "passport")]["received"] == "11"  # the kept figures
    assert len(computed) == 1
    frozen.shift(dt.timedelta(seconds=2))
    assert csv_rows(client)[("2026-03", "passport")]["received"] == "12"
    assert len(computed) == 2


def test_whole_days_only(client, resident, frozen):
    """Today's requests count from tomorrow: figures that moved every ten minutes would
    tell what one person did in those minutes."""
    for _ in range(12):
        add_request(resident, "passport", NOW.date())
    assert csv_rows(client)[("2026-04", "passport")]["received"] == "0"
    page = client.get("/performance", headers=EN).get_data(as_text=True)
    assert "up to and including <time datetime=\"2026-04-14\">" in page and "April 2026 (so far)" in page
    frozen.shift(dt.timedelta(days=1))
    assert csv_rows(client)[("2026-04", "passport")]["received"] == "12"


def test_the_page_is_kept_by_nobody_the_csv_by_anyone_for_five_minutes(client):
    page = client.get("/performance")
    assert page.headers["Cache-Control"] == "private, no-store"  # its CSRF token, language and menu are the reader's
    data = client.get("/performance.csv")
    assert data.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in data.headers and data.mimetype == "text/csv"


# ------------------------------------------------------------------ small

def test_under_20_kb_compressed_with_the_demo(app, client):
    """Twelve months of every service with the demo's volume: most cells counted."""
    with app.app_context(), db.connection_context():
        load_demo()
    for headers in (EN, AR):
        for calendar in performance.CALENDARS:
            response = client.get(f"/performance?calendar={calendar}", headers={**headers, "Accept-Encoding": "gzip"})
            assert response.headers["Content-Encoding"] == "gzip"
            assert len(response.data) < 20 * 1024
            page = gzip.decompress(response.data).decode()
            cells = re.findall(r"<td[^>]*>", page)
            hidden = page.count("fewer than 10") + page.count("أقل من 10")
            assert len(cells) > 500 and hidden < len(cells) / 10


def test_objection_counts_from_the_objections(app, march):
    """The real query, once objections exist (models/objections.py, built beside this):
    received by their day, decided and overturned by their decision's day, per service."""
    with db.connection_context():
        decided = list(ServiceRequest.select().where(ServiceRequest.service == Service.get(Service.code == "passport")))
        for index, request in enumerate(decided[:4]):
            Objection.create(request=request, text="The reason given does not match my documents at all.",
                             submitted_on=dt.date(2026, 3, 30), due_on=dt.date(2026, 4, 8),
                                        decided_on=dt.date(2026, 4, 2) if index < 3 else None,
                                        outcome=("overturned" if index == 0 else "upheld") if index < 3 else None)
        found = performance.objection_counts(dt.date(2026, 3, 1), dt.date(2026, 4, 15))
    passport = Service.get(Service.code == "passport").id
    assert sorted(found) == [(passport, dt.date(2026, 3, 30), 4, 0, 0), (passport, dt.date(2026, 4, 2), 0, 3, 1)]
