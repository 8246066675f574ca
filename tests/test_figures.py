import csv
import datetime as dt
import io

import pytest

from models import ACCEPTED, REJECTED, RETURNED, RIYADH, Service, ServiceRequest
from tests.factories import make_user, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
TODAY = dt.date(2026, 11, 25)


def place(request, submitted_on, due_on, decided_on=None, hours=None, status=None):
    values = dict(submitted_on=submitted_on, due_on=due_on,
                  submitted_at=dt.datetime.combine(submitted_on, dt.time(9)))
    if decided_on:
        values.update(decided_on=decided_on, hours_to_decision=hours, status=status or ACCEPTED,
                      decided_at=dt.datetime.combine(decided_on, dt.time(10)))
    elif status:
        values.update(status=status)
    ServiceRequest.update(**values).where(ServiceRequest.id == request.id).execute()


@pytest.fixture
def known(resident, time_machine):
    """Passport: 4 decided (3 on time; hours 10, 20, 30, 100), 1 overdue, 1 returned past
    its date (paused: not overdue). Visit extension: 1 decided late (hours 200).
    One passport request outside the period. The clock stands late on TODAY in Riyadh
    (already TODAY there, still the day before in UTC)."""
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(0, 30), tzinfo=RIYADH))
    make_user("noura", None, role="officer")
    made = [submit_request(resident) for _ in range(7)]
    visit = submit_request(resident, person_name="Yusuf Yemeni", service="visit_extension")
    d = dt.date
    place(made[0], d(2026, 11, 2), d(2026, 11, 11), d(2026, 11, 3), 10)
    place(made[1], d(2026, 11, 2), d(2026, 11, 11), d(2026, 11, 4), 20, REJECTED)
    place(made[2], d(2026, 11, 3), d(2026, 11, 12), d(2026, 11, 12), 30)
    place(made[3], d(2026, 11, 3), d(2026, 11, 12), d(2026, 11, 20), 100)
    place(made[4], d(2026, 11, 10), d(2026, 11, 19))                       # overdue
    place(made[5], d(2026, 11, 10), d(2026, 11, 19), status=RETURNED)      # paused
    place(made[6], d(2026, 10, 1), d(2026, 10, 12), d(2026, 10, 5), 5)     # outside
    place(visit, d(2026, 11, 5), d(2026, 11, 16), d(2026, 11, 18), 200)
    return made


def figures_client(app):
    client = app.test_client()
    sign_in_client(client, "noura")
    return client


def test_figures_are_computed_per_service_and_overall(app, known):
    from models.figures import per_service as figures
    rows, total = figures(START, END, TODAY)
    passport = next(r for r in rows if r["service"].code == "passport")
    visit = next(r for r in rows if r["service"].code == "visit_extension")
    assert (passport["received"], passport["decided"], passport["within"], passport["overdue"]) == (6, 4, 3, 1)
    assert passport["share"] == 0.75 and passport["median"] == 20 and passport["p90"] == 100
    assert (visit["received"], visit["decided"], visit["within"], visit["share"]) == (1, 1, 0, 0.0)
    assert (total["received"], total["decided"], total["within"], total["overdue"]) == (7, 5, 3, 1)
    assert total["median"] == 30 and total["p90"] == 200
    empty = next(r for r in rows if r["service"].code == "transfer")
    assert empty["share"] is None and empty["median"] is None


def test_figures_page_with_chart(app, known):
    html = figures_client(app).get("/staff/figures?start=2026-11-01&end=2026-11-30", headers=EN).get_data(as_text=True)
    assert "<svg" in html and html.count("<rect") >= 8 and "75%" in html
    assert "All services" in html and "<script" not in html.split("<main")[1].split("</main>")[0]


def test_figures_csv(app, known):
    response = figures_client(app).get("/staff/figures.csv?start=2026-11-01&end=2026-11-30")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(Service.ordered()) + 1
    passport = next(r for r in rows if r["service"] == "passport")
    assert passport["received"] == "6" and passport["share_within_deadline"] == "0.750"
    assert rows[-1]["service"] == "all" and rows[-1]["p90_hours_to_decision"] == "200.0"


@pytest.mark.parametrize("query, message", [
    ("start=2026-11-30&end=2026-11-01", "must end after it starts"),
    ("start=2024-01-01&end=2026-11-01", "at most one year"),
    ("start=yesterday", "Not a valid date value"),
])
def test_a_bad_period_is_refused(app, known, query, message):
    response = figures_client(app).get("/staff/figures?" + query, headers=EN)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert figures_client(app).get("/staff/figures.csv?" + query).status_code == 422


def test_default_period_is_the_last_four_weeks(app, known):
    html = figures_client(app).get("/staff/figures", headers=EN).get_data(as_text=True)
    assert "29 Oct 2026" in html and "25 Nov 2026" in html  # one date style: d MMM y


@pytest.mark.parametrize("query", ["end=0001-01-27", "start=0001-01-01&end=0001-01-02", "start=1999-12-31"])
def test_ancient_dates_are_refused(app, known, query):
    for path in ("/staff/figures?", "/staff/figures.csv?"):
        response = figures_client(app).get(path + query, headers=EN)
        assert response.status_code == 422 and "from the year 2000 on" in response.get_data(as_text=True)


def test_the_old_figures_address_redirects_with_its_query(app, known):
    client = figures_client(app)
    response = client.get("/staff/stats?start=2026-11-01&end=2026-11-30&_method=POST&endpoint=x")
    assert response.status_code == 301
    assert response.headers["Location"] == "/staff/figures?start=2026-11-01&end=2026-11-30&_method=POST&endpoint=x"
    assert client.get("/staff/stats.csv?start=2026-11-01").headers["Location"] == "/staff/figures.csv?start=2026-11-01"
