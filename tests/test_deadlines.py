"""Deadlines across the calendar: Saudi public holidays from the pinned `holidays`
package (Eid al-Fitr, Eid al-Adha, Founding Day, National Day and observed days),
the directorate's days off (`flask holidays`), late-evening submissions in
Riyadh, the turn of the year, the leap day, the staff queue's overdue filter and
how few statements rescheduling takes.

Every expected date below is worked out by hand in a comment, never with the code
under test. Each database test fixes the clock with time-machine, so the suite
gives the same answer on any day and at any hour (and under TAWASUL_TEST_CLOCK)."""
import contextlib
import datetime as dt
import logging
import re
from pathlib import Path

import pytest

from models import (
    ACCEPTED,
    RETURNED,
    RIYADH,
    UNDER_REVIEW,
    DayOff,
    ServiceRequest,
    add_working_days,
    closed_days,
    due_date,
    public_holidays,
    riyadh_date,
    working_days_between,
)
from models.deadlines import closed_days_in
from tests.factories import make_user, sign_in_client, submit_request

EN = {"Accept-Language": "en"}
D = dt.date


def days(start, end):
    """Every date from start to end, both included."""
    return {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}


def riyadh(year, month, day, hour=10, minute=0):
    """A moment in Riyadh (UTC+3, no daylight saving)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=RIYADH)


def public(*years):
    """The Saudi public holidays of these years, as a set of dates."""
    return {day for year in years for day in public_holidays(year)}


def submit_at(time_machine, user, moment):
    """A request filed through the draft -> submit path at `moment` (clock frozen)."""
    time_machine.move_to(moment, tick=False)
    return submit_request(user)


def reload(service_request):
    return ServiceRequest.get_by_id(service_request.id)


def flask(runner, *args):
    return runner.invoke(args=list(args))


# ------------------------------------------------------------------ what the package says

EID_AL_FITR_2026 = days(D(2026, 3, 19), D(2026, 3, 24))  # Thu 19 to Sun 22, observed Mon 23 and Tue 24
EID_AL_ADHA_2026 = days(D(2026, 5, 27), D(2026, 5, 29))  # Wed 27 to Fri 29


def test_public_holidays_2026_are_the_saudi_ones():
    holidays = public_holidays(2026)
    assert "Founding Day" in holidays[D(2026, 2, 22)]
    assert "National Day" in holidays[D(2026, 9, 23)]
    assert holidays.keys() >= EID_AL_FITR_2026
    assert all("Eid al-Fitr" in holidays[day] for day in EID_AL_FITR_2026)
    assert "observed" in holidays[D(2026, 3, 23)] and "observed" in holidays[D(2026, 3, 24)]
    assert holidays.keys() >= EID_AL_ADHA_2026
    assert all("Eid al-Adha" in holidays[day] for day in EID_AL_ADHA_2026)
    assert "Arafah" in holidays[D(2026, 5, 26)]
    # the working days around each holiday are not holidays
    for ordinary in (D(2026, 3, 18), D(2026, 3, 25), D(2026, 5, 25), D(2026, 9, 22), D(2026, 9, 24)):
        assert ordinary not in holidays
    assert all(day.year == 2026 for day in holidays)


# ------------------------------------------------------------------ due dates, pure

def test_a_request_received_the_day_before_eid_al_fitr_skips_the_whole_eid():
    # Received Wed 18 Mar 2026. Thu 19 to Tue 24 are Eid al-Fitr (with the observed
    # days), so the count starts after it: Wed 25 (1), Thu 26 (2), Fri 27 and Sat 28
    # are the weekend, Sun 29 (3), Mon 30 (4), Tue 31 (5), Wed 1 Apr (6), Thu 2 Apr (7).
    assert due_date(D(2026, 3, 18), closed=public(2026)) == D(2026, 4, 2)
    # Without the holidays it would be Sun 29 Mar: Eid moves it by four working days.
    assert due_date(D(2026, 3, 18), closed=()) == D(2026, 3, 29)


def test_a_request_received_before_eid_al_adha_skips_arafah_eid_and_the_observed_sunday():
    # Received Mon 25 May 2026. Tue 26 is Arafah, Wed 27 to Fri 29 Eid al-Adha, Sat 30
    # the weekend and Sun 31 the observed day: Mon 1 Jun (1), Tue 2 (2), Wed 3 (3),
    # Thu 4 (4), [Fri 5, Sat 6], Sun 7 (5), Mon 8 (6), Tue 9 (7).
    assert due_date(D(2026, 5, 25), closed=public(2026)) == D(2026, 6, 9)


def test_national_day_on_a_wednesday_moves_a_thursday_request_by_one_day():
    # Received Thu 17 Sep 2026: [Fri 18, Sat 19], Sun 20 (1), Mon 21 (2), Tue 22 (3),
    # Wed 23 National Day, Thu 24 (4), [Fri, Sat], Sun 27 (5), Mon 28 (6), Tue 29 (7).
    assert due_date(D(2026, 9, 17), closed=public(2026)) == D(2026, 9, 29)


def test_a_request_received_on_31_december_counts_into_the_next_year():
    # Thu 31 Dec 2026, seven working days: Sun 3 Jan 2027 (1) to Thu 7 (5), Sun 10 (6),
    # Mon 11 (7); early January has no Saudi public holiday.
    assert due_date(D(2026, 12, 31), closed=public(2026, 2027)) == D(2027, 1, 11)
    # With 30 working days waited (37 in all), five a week from Sun 3 Jan: day 35 is
    # Thu 18 Feb, day 36 Sun 21 Feb, day 37 would be Mon 22 Feb 2027, which is
    # Founding Day 2027, so the deadline is Tue 23 Feb: next year's holidays count.
    assert due_date(D(2026, 12, 31), 30, closed=public(2026)) == D(2027, 2, 22)
    assert due_date(D(2026, 12, 31), 30, closed=public(2026, 2027)) == D(2027, 2, 23)


def test_29_february_2028_is_an_eid_day_and_counts_from_the_next_working_day():
    # 2028 is a leap year and Eid al-Fitr 2028 is Sat 26 Feb to Tue 29 Feb, observed
    # Wed 1 Mar. Received on Tue 29 Feb: Wed 1 Mar is still off, Thu 2 (1), [Fri 3,
    # Sat 4], Sun 5 (2), Mon 6 (3), Tue 7 (4), Wed 8 (5), Thu 9 (6), Sun 12 Mar (7).
    holidays = public(2028)
    assert {D(2028, 2, 22), D(2028, 2, 29), D(2028, 3, 1)} <= holidays
    assert due_date(D(2028, 2, 29), closed=holidays) == D(2028, 3, 12)
    # Without holidays: Wed 1 Mar (1), Thu 2 (2), Sun 5 (3) ... Thu 9 (7).
    assert due_date(D(2028, 2, 29), closed=()) == D(2028, 3, 9)
    # The leap day is a day like any other in the count: from Thu 24 Feb 2028 without
    # holidays, Sun 27 (1), Mon 28 (2), Tue 29 (3), Wed 1 Mar (4), Thu 2 (5), Sun 5 (6),
    # Mon 6 Mar (7); with them, Sun 27 Feb to Wed 1 Mar are Eid: Thu 2 (1) .. Sun 12 (7).
    assert due_date(D(2028, 2, 24), closed=()) == D(2028, 3, 6)
    assert due_date(D(2028, 2, 24), closed=holidays) == D(2028, 3, 12)


def test_a_thursday_evening_in_riyadh_is_received_on_thursday():
    # Riyadh is UTC+3: Thu 17 Sep 2026 23:30 there is 20:30 UTC, and Thu 00:30 there
    # is still Wed 16 Sep 21:30 UTC. Both are received on Thursday, due Tue 29 Sep
    # (see the National Day test above), never Mon 28 Sep (from Wednesday).
    assert riyadh_date(dt.datetime(2026, 9, 17, 20, 30)) == D(2026, 9, 17)
    assert riyadh_date(dt.datetime(2026, 9, 16, 21, 30)) == D(2026, 9, 17)
    assert riyadh_date(dt.datetime(2026, 9, 16, 20, 59)) == D(2026, 9, 16)
    assert due_date(D(2026, 9, 16), closed=public(2026)) == D(2026, 9, 28)


def test_waiting_days_over_eid_count_only_working_days():
    # Returned on Wed 18 Mar 2026 and answered on Sun 29 Mar: Thu 19 to Tue 24 are
    # Eid, Fri 27 and Sat 28 the weekend, so only Wed 25, Thu 26 and Sun 29 are waited.
    assert working_days_between(D(2026, 3, 18), D(2026, 3, 29), public(2026)) == 3
    assert add_working_days(D(2026, 3, 18), 3, public(2026)) == D(2026, 3, 29)


# ------------------------------------------------------------------ days off from the database

def test_closed_days_cover_both_years_and_the_days_off(app):
    DayOff.add(D(2027, 1, 5), "Directorate retreat")
    off = closed_days(D(2026, 12, 31))
    assert public(2026, 2027) <= off and D(2027, 1, 5) in off
    # Thu 31 Dec 2026 with Tue 5 Jan off: Sun 3 (1), Mon 4 (2), Wed 6 (3), Thu 7 (4),
    # Sun 10 (5), Mon 11 (6), Tue 12 (7).
    assert due_date(D(2026, 12, 31)) == D(2027, 1, 12)


# ------------------------------------------------------------------ submitting with the clock moved

def test_a_request_submitted_before_eid_is_due_after_it(resident, time_machine):
    created = submit_at(time_machine, resident, riyadh(2026, 3, 18, 10))
    assert created.submitted_on == D(2026, 3, 18)
    assert reload(created).due_on == D(2026, 4, 2)  # worked out in the pure test above


@pytest.mark.parametrize("moment, received, due", [
    # Thu 17 Sep 2026 23:30 in Riyadh (20:30 UTC): received Thursday, due Tue 29 Sep
    # (National Day on Wed 23 is skipped, see the pure test above).
    (riyadh(2026, 9, 17, 23, 30), D(2026, 9, 17), D(2026, 9, 29)),
    # Thu 17 Sep 00:30 in Riyadh is still Wed 16 Sep 21:30 UTC: the Riyadh date
    # counts, so it is due on Tue 29 Sep too, not Mon 28 Sep.
    (riyadh(2026, 9, 17, 0, 30), D(2026, 9, 17), D(2026, 9, 29)),
    # Fri 1 Jan 2027 00:30 in Riyadh is Thu 31 Dec 21:30 UTC: received on a Friday of
    # the next year, the count starts on Sun 3 Jan: due Mon 11 Jan 2027.
    (riyadh(2027, 1, 1, 0, 30), D(2027, 1, 1), D(2027, 1, 11)),
    # Thu 31 Dec 2026 23:59 in Riyadh: still 2026, also due Mon 11 Jan 2027.
    (riyadh(2026, 12, 31, 23, 59), D(2026, 12, 31), D(2027, 1, 11)),
    # Tue 29 Feb 2028 (Eid al-Fitr): due Sun 12 Mar 2028, see the pure test above.
    (riyadh(2028, 2, 29, 9), D(2028, 2, 29), D(2028, 3, 12)),
])
def test_late_evening_year_end_and_leap_day_submissions(resident, time_machine, moment, received, due):
    created = submit_at(time_machine, resident, moment)
    assert (created.submitted_on, reload(created).due_on) == (received, due)


def test_the_wait_on_the_resident_over_eid_adds_only_working_days(resident, time_machine):
    # Received Sun 15 Mar 2026: Mon 16 (1), Tue 17 (2), Wed 18 (3), Eid 19-24, Wed 25
    # (4), Thu 26 (5), Sun 29 (6), Mon 30 Mar (7).
    created = submit_at(time_machine, resident, riyadh(2026, 3, 15))
    assert created.due_on == D(2026, 3, 30)
    created.change_status(UNDER_REVIEW)
    time_machine.move_to(riyadh(2026, 3, 18, 11), tick=False)
    reload(created).change_status(RETURNED, message="Attach the letter.")
    time_machine.move_to(riyadh(2026, 3, 29, 9), tick=False)
    reload(created).answer(resident, "Here it is.", [])
    # Waited Wed 25, Thu 26, Sun 29 (three working days, see the pure test above):
    # ten working days from Sun 15 Mar: ... Mon 30 (7), Tue 31 (8), Wed 1 (9), Thu 2 Apr (10).
    answered = reload(created)
    assert (answered.status, answered.waiting_days, answered.due_on) == (UNDER_REVIEW, 3, D(2026, 4, 2))


# ------------------------------------------------------------------ the staff queue

@pytest.fixture
def officer(app):
    return make_user("noura", None, role="officer", full_name="Noura Officer")


def queue_row(html, number):
    """The queue's table row of one request, or None when it is not listed."""
    match = re.search(rf'<tr id="req-{number}".*?</tr>', html, re.DOTALL)
    return match.group(0) if match else None


def queue_page(app, query=""):
    client = app.test_client()
    assert sign_in_client(client, "noura").status_code == 303
    response = client.get("/staff/" + query, headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_queue_does_not_call_a_request_overdue_while_eid_pushes_its_deadline(
        app, officer, resident, time_machine):
    created = submit_at(time_machine, resident, riyadh(2026, 3, 18))
    # Mon 30 Mar: without Eid it would have been due Sun 29 Mar, one day overdue;
    # with Eid it is due Thu 2 Apr, three days left.
    time_machine.move_to(riyadh(2026, 3, 30, 9), tick=False)
    assert queue_row(queue_page(app, "?overdue=y"), created.number) is None
    row = queue_row(queue_page(app), created.number)
    assert "3 days left" in row and "late" not in row and "overdue" not in row
    # Thu 2 Apr, the last day: still not overdue.
    time_machine.move_to(riyadh(2026, 4, 2, 23, 30), tick=False)
    assert queue_row(queue_page(app, "?overdue=y"), created.number) is None
    assert "Due today" in queue_row(queue_page(app), created.number)
    # Fri 3 Apr 00:30 in Riyadh (still Thu 2 Apr in UTC): one day overdue now.
    time_machine.move_to(riyadh(2026, 4, 3, 0, 30), tick=False)
    assert "1 day overdue" in queue_row(queue_page(app, "?overdue=y"), created.number)


# ------------------------------------------------------------------ flask holidays

EXTRA = D(2026, 12, 2)  # a Wednesday


@pytest.fixture
def around_extra(resident, time_machine):
    """Four requests seen from a directorate day off on Wed 2 Dec 2026:
    - spans: received Sun 29 Nov, due Tue 8 Dec: Mon 30 (1), Tue 1 (2), Wed 2 (3),
      Thu 3 (4), Sun 6 (5), Mon 7 (6), Tue 8 (7);
    - decided: received the same day, then accepted;
    - before: received Sun 15 Nov, due Tue 24 Nov: Mon 16 (1) .. Thu 19 (4), Sun 22
      (5), Mon 23 (6), Tue 24 (7);
    - on_the_day: received Wed 2 Dec itself, due Sun 13 Dec: the count starts on
      Thu 3 (1), Sun 6 (2) .. Thu 10 (6), Sun 13 (7)."""
    made = {"spans": submit_at(time_machine, resident, riyadh(2026, 11, 29)),
            "decided": submit_at(time_machine, resident, riyadh(2026, 11, 29, 11)),
            "before": submit_at(time_machine, resident, riyadh(2026, 11, 15)),
            "on_the_day": submit_at(time_machine, resident, riyadh(2026, 12, 2))}
    made["decided"].change_status(UNDER_REVIEW)
    reload(made["decided"]).change_status(ACCEPTED, message="Done.")
    assert {name: due for name, (due, _) in state(made).items()} == {
        "spans": D(2026, 12, 8), "decided": D(2026, 12, 8), "before": D(2026, 11, 24), "on_the_day": D(2026, 12, 13)}
    return made


def state(made):
    """{name: (due_on, version)} as stored now."""
    rows = {name: reload(r) for name, r in made.items()}
    return {name: (row.due_on, row.version) for name, row in rows.items()}


def unmoved(made):
    """The state of the requests a day off on EXTRA must not move."""
    return {name: value for name, value in state(made).items() if name != "spans"}


def test_adding_a_day_off_moves_only_the_open_deadlines_that_span_it(runner, around_extra):
    before = state(around_extra)
    result = flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra")
    assert result.exit_code == 0, result.output
    assert "1 deadline(s) moved" in result.output
    # spans: Mon 30 (1), Tue 1 (2), [Wed 2 off], Thu 3 (3) .. Tue 8 (6), Wed 9 Dec (7)
    assert state(around_extra)["spans"] == (D(2026, 12, 9), before["spans"][1] + 1)
    assert unmoved(around_extra) == {name: value for name, value in before.items() if name != "spans"}
    assert DayOff.get(DayOff.day == EXTRA).name == "Extra"


def test_renaming_a_day_off_moves_nothing(runner, around_extra):
    assert flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra").exit_code == 0
    moved = state(around_extra)
    result = flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra day")
    assert result.exit_code == 0 and "0 deadline(s) moved" in result.output
    assert state(around_extra) == moved
    assert [(h.day, h.name) for h in DayOff.select()] == [(EXTRA, "Extra day")]


def test_a_day_off_on_a_weekend_or_a_public_holiday_moves_nothing(runner, around_extra):
    before = state(around_extra)
    for day in ("2026-12-04", "2026-09-23"):  # a Friday; National Day
        result = flask(runner, "holidays", "add", day, "Nothing new")
        assert result.exit_code == 0 and "0 deadline(s) moved" in result.output
    assert state(around_extra) == before


def test_removing_the_day_off_moves_the_deadlines_back(runner, around_extra):
    before = state(around_extra)
    assert flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra").exit_code == 0
    result = flask(runner, "holidays", "remove", EXTRA.isoformat())
    assert result.exit_code == 0, result.output
    assert "1 deadline(s) moved" in result.output
    assert state(around_extra)["spans"] == (D(2026, 12, 8), before["spans"][1] + 2)  # moved twice
    assert unmoved(around_extra) == {name: value for name, value in before.items() if name != "spans"}
    assert DayOff.select().count() == 0


@pytest.mark.parametrize("day", ["2026-12-03", "2026-09-23"])  # never added; a public holiday
def test_removing_a_day_that_was_not_added_is_refused(runner, around_extra, day):
    assert flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra").exit_code == 0
    before = state(around_extra)
    result = flask(runner, "holidays", "remove", day)
    assert result.exit_code != 0
    assert f"{day} is not a day the directorate added" in result.output
    assert state(around_extra) == before and DayOff.select().count() == 1


def test_holidays_list_shows_public_holidays_and_marks_the_days_off(runner):
    assert flask(runner, "holidays", "add", EXTRA.isoformat(), "Extra").exit_code == 0
    assert flask(runner, "holidays", "add", "2027-01-05", "Next year").exit_code == 0
    result = flask(runner, "holidays", "list", "--year", "2026")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2026-02-22  Sun  Founding Day Holiday"
    assert "2026-03-19  Thu  Eid al-Fitr Holiday" in lines
    assert "2026-03-24  Tue  Eid al-Fitr Holiday (observed)" in lines
    assert "2026-05-27  Wed  Eid al-Adha Holiday" in lines
    assert "2026-09-23  Wed  National Day Holiday" in lines
    assert lines[-1] == "2026-12-02  Wed  Extra  (day off)"
    assert [line for line in lines if "(day off)" in line] == [lines[-1]]  # not next year's
    assert len(lines) == len(public_holidays(2026)) + 1
    assert [line[:10] for line in lines] == sorted(line[:10] for line in lines)


def test_holidays_list_defaults_to_the_year_in_riyadh(runner, time_machine):
    # Fri 1 Jan 2027 01:00 in Riyadh is still 31 Dec 2026 in UTC.
    time_machine.move_to(riyadh(2027, 1, 1, 1), tick=False)
    lines = flask(runner, "holidays", "list").output.splitlines()
    assert lines and all(line.startswith("2027-") for line in lines)
    assert "2027-02-22  Mon  Founding Day Holiday" in lines


def test_closed_days_of_a_year_are_only_that_years(app):
    DayOff.add(D(2025, 12, 31), "Old")
    DayOff.add(D(2027, 1, 1), "New")
    assert {day.year for day, _, _ in closed_days_in(2026)} == {2026}


# ------------------------------------------------------------------ few statements

@contextlib.contextmanager
def counting_updates():
    """Count the UPDATE statements peewee sends while the block runs."""
    statements = []

    class Counter(logging.Handler):
        def emit(self, record):
            sql = record.msg[0] if isinstance(record.msg, tuple) else record.getMessage()
            statements.append(sql)

    logger, handler = logging.getLogger("peewee"), Counter(logging.DEBUG)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def updates(statements):
    return [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE")]


def copies(original, count, submitted_on, first=0, **extra):
    """`count` rows like `original`, received on `submitted_on`, with a wrong
    deadline (the day received) so that rescheduling has to change them. Their
    numbers start with 0, which no real request number does."""
    fields = {name: getattr(original, name) for name in (
        "owner", "person", "service", "description", "status", "submitted_at", "updated_at")}
    return [dict(fields, number=f"0{submitted_on:%m%d}{n:04d}", draft_token=f"copy-{submitted_on}-{n}",
                 submitted_on=submitted_on, due_on=submitted_on, **extra) for n in range(first, first + count)]


def test_rescheduling_200_open_requests_takes_one_update_per_distinct_pair(resident, time_machine):
    original = submit_at(time_machine, resident, riyadh(2026, 3, 18))  # due Thu 2 Apr, right
    # 200 open requests received on three days, four (submitted_on, waiting_days) pairs,
    # and five decided ones that must stay as they are. insert_many takes its columns
    # from the first row, so each kind of row has its own INSERT.
    for rows in (copies(original, 60, D(2026, 3, 15)) + copies(original, 69, D(2026, 3, 18))
                 + copies(original, 60, D(2026, 5, 25)),
                 copies(original, 10, D(2026, 3, 15), waiting_days=2, first=100),
                 copies(original, 5, D(2026, 7, 1), status=ACCEPTED, decided_at=original.submitted_at)):
        ServiceRequest.insert_many(rows).execute()
    assert ServiceRequest.select().where(ServiceRequest.decided_at.is_null()).count() == 200
    pairs = (ServiceRequest.select(ServiceRequest.submitted_on, ServiceRequest.waiting_days)
             .where(ServiceRequest.decided_at.is_null()).distinct().count())
    assert pairs == 4

    with counting_updates() as statements:
        changed = ServiceRequest.reschedule_open()
    assert changed == 199  # every copy; the original was right already
    assert 1 <= len(updates(statements)) <= pairs, updates(statements)

    # Sun 15 Mar: Mon 16 (1), Tue 17 (2), Wed 18 (3), Eid 19-24, Wed 25 (4), Thu 26
    # (5), Sun 29 (6), Mon 30 Mar (7), and with two days waited Tue 31 (8), Wed 1 Apr
    # (9). Wed 18 Mar and Mon 25 May: see the pure tests.
    SR = ServiceRequest  # noqa: N806 (a short alias keeps the query readable)
    due = set(SR.select(SR.submitted_on, SR.waiting_days, SR.due_on).where(SR.decided_at.is_null()).tuples())
    assert due == {(D(2026, 3, 15), 0, D(2026, 3, 30)), (D(2026, 3, 15), 2, D(2026, 4, 1)),
                   (D(2026, 3, 18), 0, D(2026, 4, 2)), (D(2026, 5, 25), 0, D(2026, 6, 9))}
    versions = dict(ServiceRequest.select(ServiceRequest.id, ServiceRequest.version).tuples())
    assert versions[original.id] == original.version
    assert sorted(set(versions.values())) == [1, 2]
    decided_rows = ServiceRequest.select().where(ServiceRequest.decided_at.is_null(False))
    assert [(r.due_on, r.version) for r in decided_rows] == [(D(2026, 7, 1), 1)] * 5

    with counting_updates() as statements:  # nothing left to change: no version bumped
        assert ServiceRequest.reschedule_open() == 0
    assert len(updates(statements)) <= pairs
    assert dict(ServiceRequest.select(ServiceRequest.id, ServiceRequest.version).tuples()) == versions


# ------------------------------------------------------------------ the clocks of `make test`

def test_make_test_reruns_only_test_modules_that_exist():
    """`make test` runs the date-sensitive modules again under other clocks (31 Dec
    23:30 UTC, 29 Feb 2028); a module named there that does not exist makes pytest
    stop with "file or directory not found" before running anything."""
    root = Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text().replace("\\\n", " ")
    listed = re.search(r"^DATE_SENSITIVE\s*:=(.*)$", makefile, re.M).group(1).split()
    assert "tests/test_figures.py" in listed
    assert [name for name in listed if not (root / name).is_file()] == []
