import csv
import datetime as dt
import io

import pytest

from models import ACCEPTED, REJECTED, RETURNED, RIYADH, Audit, Service, ServiceRequest, User
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


# ------------------------------------------------------------------ supervisors: officers, risks, reassignments

@pytest.fixture
def held(app, resident, known):
    """`known`, with holders: Noura decided 3 Nov (on time) and 20 Nov (late) and holds
    the overdue one; Khalid decided 4 and 12 Nov (both on time) and holds a request due
    Thursday 26 Nov, at risk on Wednesday 25 (Thu 26 and Sun 29 are the two working days
    left). Two reassignments: one in November, one in October."""
    noura = User.get(User.username == "noura")
    khalid = make_user("khalid", None, role="officer", full_name="Khalid Officer")
    fahad = make_user("fahad", None, role="supervisor", full_name="Fahad Supervisor")
    extra = submit_request(resident)
    place(extra, dt.date(2026, 11, 17), dt.date(2026, 11, 26))
    ServiceRequest.update(assignee=None).execute()  # sent with noura there, the rule gave her all: start from nobody
    for request, holder in ((known[0], noura), (known[3], noura), (known[4], noura), (known[1], khalid),
                            (known[2], khalid), (extra, khalid)):
        ServiceRequest.update(assignee=holder).where(ServiceRequest.id == request.id).execute()
    for moment in (dt.datetime(2026, 11, 20, 8), dt.datetime(2026, 10, 20, 8)):
        Audit.create(request=known[4], actor=fahad, action="reassign", from_status="received",
                     to_status="received", at=moment)
    return noura, khalid, extra


def test_each_officers_risks_and_share_on_time(app, held):
    from models.figures import per_officer, per_service, reassignments
    rows = {(r["user"].username if r["user"] else None): r for r in per_officer(START, END, TODAY)}
    assert (rows["noura"]["at_risk"], rows["noura"]["overdue"], rows["noura"]["decided"],
            rows["noura"]["within"], rows["noura"]["share"]) == (0, 1, 2, 1, 0.5)
    assert (rows["khalid"]["at_risk"], rows["khalid"]["overdue"], rows["khalid"]["share"]) == (1, 0, 1.0)
    assert (rows[None]["decided"], rows[None]["share"]) == (1, 0.0)  # the visit extension nobody held
    assert "fahad" not in rows  # a supervisor who holds nothing
    services, total = per_service(START, END, TODAY)
    assert next(r for r in services if r["service"].code == "passport")["at_risk"] == 1 and total["at_risk"] == 1
    assert reassignments(START, END) == 1 and reassignments(dt.date(2026, 10, 1), END) == 2


def test_supervisors_see_the_officers_figures_officers_do_not(app, held):
    supervisor = app.test_client()
    sign_in_client(supervisor, "fahad")
    html = supervisor.get("/staff/figures?start=2026-11-01&end=2026-11-30", headers=EN).text
    officers = html[html.index('id="officers"'):html.index('id="reassignments"')]
    assert "Khalid Officer" in officers and "100%" in officers and "50%" in officers
    assert "1 request was reassigned to another officer in this period." in html
    late_november = supervisor.get("/staff/figures?start=2026-11-21&end=2026-11-30", headers=EN).text
    assert "No request was reassigned to another officer in this period." in late_november
    assert "At risk now" in html
    arabic = supervisor.get("/staff/figures?start=2026-11-01&end=2026-11-30").text
    assert "أُسند طلب واحد إلى موظف آخر في هذه الفترة." in arabic and "الموظفون" in arabic
    officer_html = figures_client(app).get("/staff/figures?start=2026-11-01&end=2026-11-30", headers=EN).text
    assert 'id="officers"' not in officer_html and "reassigned" not in officer_html
    rows = list(csv.DictReader(io.StringIO(supervisor.get("/staff/figures.csv?start=2026-11-01&end=2026-11-30").text)))
    assert next(r for r in rows if r["service"] == "passport")["at_risk_now"] == "1" and rows[-1]["at_risk_now"] == "1"
