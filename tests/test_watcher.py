"""Risks raised before they are late: the definitions of "at risk" and "overdue"
across weekends and holidays, and the watcher (models/watcher.py, `flask staff
watch`) that tells the officer of requests at risk and the supervisor of overdue
ones, once each, in one SMS a person a day, in their language, even with two
watchers running at once.

Every expected date is worked out by hand in a comment. Each database test fixes the
clock with time-machine, so the suite gives the same answer on any day and at any
hour (and under TAWASUL_TEST_CLOCK)."""
import datetime as dt
import os
import signal
import threading

import pytest

from models import (
    ACCEPTED,
    RETURNED,
    RIYADH,
    UNDER_REVIEW,
    Notice,
    ServiceRequest,
    StaffAlert,
    User,
    db,
    public_holidays,
    risk_horizon,
    watch_pass,
    working_days_left,
)
from models.watcher import AT_RISK, OVERDUE, Day
from tests.factories import make_user, sign_in_client, submit_request

D = dt.date
THU, FRI, SAT, SUN, MON, TUE = D(2026, 12, 3), D(2026, 12, 4), D(2026, 12, 5), D(2026, 12, 6), D(2026, 12, 7), \
    D(2026, 12, 8)
NOURA_MOBILE, KHALID_MOBILE, FAHAD_MOBILE, SALEM_MOBILE = "+966500000901", "+966500000902", "+966500000903", \
    "+966500000904"
URL = "http://127.0.0.1:8000"


def at(day, hour=9):
    """`hour` o'clock in Riyadh on `day` (UTC+3, no daylight saving)."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=RIYADH)


# ------------------------------------------------------------------ the definitions (no database)

def test_the_horizon_spans_two_working_days_over_the_weekend():
    # Sunday 6 Dec: Mon 7 and Tue 8 are the next two working days.
    assert risk_horizon(SUN, 2, closed=set()) == TUE
    # Thursday 3 Dec: Sun 6 and Mon 7 (Friday and Saturday are the weekend); Tue 8 is the third.
    assert risk_horizon(THU, 2, closed=set()) == MON
    # Friday 4 Dec (a weekend day): the same two, Sun 6 and Mon 7.
    assert risk_horizon(FRI, 2, closed=set()) == MON
    # No working day of warning: due today, or on the weekend that follows a Thursday.
    assert risk_horizon(THU, 0, closed=set()) == SAT


def test_the_horizon_skips_a_public_holiday():
    # Founding Day, Monday 22 February 2027, is a public holiday: from Thursday 18 Feb
    # the next two working days are Sun 21 and Tue 23 (without it: Sun 21 and Mon 22).
    assert D(2027, 2, 22) in public_holidays(2027)
    thursday, closed = D(2027, 2, 18), set(public_holidays(2027))
    assert risk_horizon(thursday, 2, closed=closed) == D(2027, 2, 23)
    assert risk_horizon(thursday, 2, closed=set()) == D(2027, 2, 22)
    assert working_days_left(thursday, D(2027, 2, 23), closed) == 2


def test_working_days_left_and_over():
    assert working_days_left(THU, MON, set()) == 2  # Sun 6, Mon 7
    assert working_days_left(THU, THU, set()) == 0  # due today: still on time
    assert working_days_left(FRI, THU, set()) == 0  # overdue on the weekend: no working day lost yet
    assert working_days_left(SUN, THU, set()) == -1  # Sunday was lost
    assert working_days_left(TUE, THU, set()) == -3  # Sun, Mon, Tue


# ------------------------------------------------------------------ requests to watch

@pytest.fixture
def noura(app):
    return staff("noura", "officer", NOURA_MOBILE)


@pytest.fixture
def khalid(app):
    return staff("khalid", "officer", KHALID_MOBILE, locale="en")


@pytest.fixture
def fahad(app):
    return staff("fahad", "supervisor", FAHAD_MOBILE)


@pytest.fixture
def salem(app):
    return staff("salem", "supervisor", SALEM_MOBILE, locale="en")


def staff(username, role, mobile, locale=None):
    user = make_user(username, None, role=role, full_name=username.title())
    User.update(mobile=mobile, locale=locale).where(User.id == user.id).execute()
    return User.get_by_id(user.id)


def due(resident, due_on, holder=None, status=UNDER_REVIEW):
    """A request filed now, then given this deadline, holder and status directly."""
    filed = submit_request(resident)
    ServiceRequest.update(due_on=due_on, assignee=holder, status=status).where(
        ServiceRequest.id == filed.id).execute()
    return ServiceRequest.get_by_id(filed.id)


def run(app, day):
    """One watcher pass at 9:00 in Riyadh on `day`."""
    with app.app_context():
        return watch_pass(Day.now())


def sms_to(mobile):
    return [n.text for n in Notice.select().where(Notice.to == mobile).order_by(Notice.id)]


def told(kind):
    return sorted((a.request_id, a.user.username) for a in StaffAlert.select().where(StaffAlert.kind == kind))


def test_sql_and_python_agree_on_at_risk_and_overdue(app, resident, noura, time_machine):
    time_machine.move_to(at(D(2026, 11, 30)), tick=False)
    deadlines = [D(2026, 12, 1) + dt.timedelta(days=n) for n in range(9)]  # Tue 1 to Wed 9 Dec
    requests = [due(resident, day, noura) for day in deadlines]
    paused = due(resident, THU, noura, status=RETURNED)
    decided = due(resident, THU, noura, status=ACCEPTED)
    ServiceRequest.update(decided_at=at(THU).replace(tzinfo=None)).where(ServiceRequest.id == decided.id).execute()
    expected = {  # today: (at risk, overdue), by deadline
        THU: ({THU, FRI, SAT, SUN, MON}, {D(2026, 12, 1), D(2026, 12, 2)}),  # up to Mon 7, see the horizon
        FRI: ({FRI, SAT, SUN, MON}, {D(2026, 12, 1), D(2026, 12, 2), THU}),
        SUN: ({SUN, MON, TUE}, {D(2026, 12, 1), D(2026, 12, 2), THU, FRI, SAT}),
    }
    for today, (at_risk, overdue) in expected.items():
        time_machine.move_to(at(today), tick=False)
        with app.app_context():
            sql_risk = {r.due_on for r in ServiceRequest.select().where(ServiceRequest.at_risk_on(today))}
            sql_late = {r.due_on for r in ServiceRequest.select().where(ServiceRequest.overdue_on(today))}
            reloaded = [ServiceRequest.get_by_id(r.id) for r in requests + [paused, decided]]
            python_risk = {r.due_on for r in reloaded if r.is_at_risk(today)}
            python_late = {r.due_on for r in reloaded if r.is_overdue(today)}
        assert sql_risk == python_risk == at_risk, today
        assert sql_late == python_late == overdue, today
        assert not ServiceRequest.get_by_id(paused.id).is_at_risk(today)
        assert ServiceRequest.get_by_id(paused.id).working_days_left(today) is None


def test_the_number_of_working_days_is_configurable(app, resident, noura, time_machine):
    time_machine.move_to(at(SUN), tick=False)
    due(resident, SUN, noura)
    due(resident, TUE, noura)
    app.config["AT_RISK_WORKING_DAYS"] = 0
    with app.app_context():
        assert [r.due_on for r in ServiceRequest.select().where(ServiceRequest.at_risk_on(SUN))] == [SUN]
    app.config["AT_RISK_WORKING_DAYS"] = 2
    with app.app_context():
        assert len(ServiceRequest.select().where(ServiceRequest.at_risk_on(SUN))) == 2


# ------------------------------------------------------------------ the watcher

def test_the_officer_is_told_once_in_arabic_with_proper_plurals(app, resident, noura, time_machine):
    time_machine.move_to(at(SUN), tick=False)
    for day in (SUN, MON, TUE):
        due(resident, day, noura)
    due(resident, D(2026, 12, 10), noura)  # Thu 10: four working days left (three on Monday), not at risk
    sent, unreachable, tomorrow = run(app, SUN)
    assert [(t.user.username, t.at_risk, t.overdue) for t in sent] == [("noura", 3, 0)]
    assert sms_to(NOURA_MOBILE) == [f"تواصل: 3 طلبات لديك يحين موعدها بحلول الثلاثاء 8 ديسمبر. "
                                    f"افتح: {URL}/staff/?view=mine"]
    assert Notice.get().key == f"staff-{noura.id}-2026-12-06" and Notice.get().kind == "staff"
    assert run(app, SUN) == ([], [], [])  # the same day: nothing new
    time_machine.move_to(at(MON), tick=False)
    assert run(app, MON) == ([], [], [])  # the next day: all three were told already
    due(resident, TUE, noura)
    run(app, MON)
    assert sms_to(NOURA_MOBILE)[-1] == f"تواصل: طلب واحد لديك يحين موعده بحلول الثلاثاء 8 ديسمبر. " \
                                      f"افتح: {URL}/staff/?view=mine"
    assert len(told(AT_RISK)) == 4 and told(OVERDUE) == []


def test_the_officer_who_reads_english_is_told_in_english(app, resident, khalid, time_machine):
    time_machine.move_to(at(THU), tick=False)
    due(resident, THU, khalid)  # due today
    due(resident, MON, khalid)
    run(app, THU)
    assert sms_to(KHALID_MOBILE) == [f"Tawasul: 2 requests you hold are due by Monday 7 December. "
                                     f"Open: {URL}/staff/?view=mine"]


def test_overdue_requests_are_told_to_the_officers_supervisor_once(app, resident, noura, khalid, fahad, salem,
                                                                   time_machine):
    time_machine.move_to(at(SUN), tick=False)
    noura.set_supervisor(fahad)
    due(resident, THU, noura)  # overdue since Sunday
    due(resident, D(2026, 12, 2), noura)
    run(app, SUN)
    assert sms_to(FAHAD_MOBILE) == [f"تواصل: طلبان متأخران عن موعدهما. افتح: {URL}/staff/risks"]
    assert sms_to(SALEM_MOBILE) == [] and sms_to(NOURA_MOBILE) == []  # only her own supervisor
    khalid_late = due(resident, THU, khalid)  # Khalid has no supervisor: every supervisor hears
    nobodys = due(resident, THU, None, status="received")  # nor has a request nobody holds
    time_machine.move_to(at(MON), tick=False)
    run(app, MON)
    assert sms_to(SALEM_MOBILE) == [f"Tawasul: 2 requests are overdue. Open: {URL}/staff/risks"]
    assert sms_to(FAHAD_MOBILE)[-1] == f"تواصل: طلبان متأخران عن موعدهما. افتح: {URL}/staff/risks"
    assert {r for r, user in told(OVERDUE) if user == "salem"} == {khalid_late.id, nobodys.id}
    time_machine.move_to(at(TUE), tick=False)
    assert run(app, TUE) == ([], [], [])


def test_one_sms_a_day_sums_both_kinds_and_the_rest_waits_for_tomorrow(app, resident, noura, fahad,
                                                                      time_machine):
    time_machine.move_to(at(SUN), tick=False)
    due(resident, MON, fahad)  # a supervisor holding a request hears of it as an officer does
    due(resident, THU, noura)
    run(app, SUN)
    assert sms_to(FAHAD_MOBILE) == [f"تواصل: طلب واحد لديك يحين موعده بحلول الاثنين 7 ديسمبر. "
                                    f"طلب واحد متأخر عن موعده. افتح: {URL}/staff/risks"]
    later = due(resident, TUE, fahad)  # at risk from the same afternoon
    time_machine.move_to(at(SUN, 15), tick=False)
    sent, _, tomorrow = run(app, SUN)
    assert sent == [] and [u.username for u in tomorrow] == ["fahad"] and len(sms_to(FAHAD_MOBILE)) == 1
    time_machine.move_to(at(MON), tick=False)
    run(app, MON)
    assert sms_to(FAHAD_MOBILE)[-1].startswith("تواصل: طلب واحد لديك يحين موعده بحلول الثلاثاء 8 ديسمبر.")
    assert (later.id, "fahad") in told(AT_RISK)


def test_paused_and_decided_requests_are_told_to_nobody(app, resident, noura, fahad, time_machine):
    time_machine.move_to(at(SUN), tick=False)
    due(resident, MON, noura, status=RETURNED)
    due(resident, THU, noura, status=RETURNED)
    decided = due(resident, MON, noura, status=ACCEPTED)
    ServiceRequest.update(decided_at=at(SUN).replace(tzinfo=None)).where(ServiceRequest.id == decided.id).execute()
    assert run(app, SUN) == ([], [], []) and Notice.select().count() == 0


def test_a_request_given_to_another_officer_is_told_to_the_new_one_once(app, resident, noura, khalid,
                                                                        time_machine):
    time_machine.move_to(at(SUN), tick=False)
    moved = due(resident, TUE, noura)
    run(app, SUN)
    ServiceRequest.update(assignee=khalid).where(ServiceRequest.id == moved.id).execute()
    time_machine.move_to(at(MON), tick=False)
    run(app, MON)
    assert len(sms_to(NOURA_MOBILE)) == 1 and len(sms_to(KHALID_MOBILE)) == 1
    ServiceRequest.update(assignee=noura).where(ServiceRequest.id == moved.id).execute()  # and back
    time_machine.move_to(at(TUE), tick=False)
    assert run(app, TUE) == ([], [], [])
    assert told(AT_RISK) == sorted([(moved.id, "noura"), (moved.id, "khalid")])


def test_staff_without_a_mobile_are_named_not_lost(app, resident, time_machine):
    time_machine.move_to(at(SUN), tick=False)
    nomobile = make_user("nomobile", None, role="officer")
    held = due(resident, MON, nomobile)
    sent, unreachable, _ = run(app, SUN)
    assert sent == [] and [u.username for u in unreachable] == ["nomobile"]
    User.update(mobile="+966500000905").where(User.id == nomobile.id).execute()
    run(app, SUN)
    assert told(AT_RISK) == [(held.id, "nomobile")]


def test_two_watchers_at_once_tell_nobody_twice_and_lose_nothing(app, resident, noura, khalid, fahad, salem,
                                                                 time_machine):
    """Two watchers (threads, each on its own connection) run passes at the same
    moment, three days running, while requests fall due. (Without the per-person
    lock, PostgreSQL fails this: both watchers record the same alerts.)"""
    time_machine.move_to(at(SUN), tick=False)
    officers = [noura, khalid]
    days = [SUN, MON, TUE]
    for index, day in enumerate(days):
        for n in range(4):  # each day: requests at risk for both officers, and some overdue
            due(resident, day + dt.timedelta(days=1), officers[(index + n) % 2])
        due(resident, THU, officers[index % 2])
    db.close()
    errors, passes = [], []

    def watcher(barrier):
        try:
            with app.app_context(), db.connection_context():
                barrier.wait()
                passes.append(watch_pass(Day.now()))
        except Exception as error:  # the assertion below reports it
            errors.append(error)

    for day in days:
        time_machine.move_to(at(day), tick=False)
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=watcher, args=(barrier,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    db.connect(reuse_if_open=True)
    assert errors == []
    for user in (noura, khalid, fahad, salem):
        keys = [n.key for n in Notice.select().where(Notice.to == user.mobile)]
        assert len(keys) == len(set(keys)) <= len(days), user.username
    sums, messages = {}, {}
    for sent, _, _ in passes:
        for t in sent:
            sums[t.user.username] = sums.get(t.user.username, 0) + t.at_risk + t.overdue
            messages[t.user.username] = messages.get(t.user.username, 0) + 1
    for user in (noura, khalid, fahad, salem):  # each SMS a watcher says it queued is one in the outbox
        assert messages.get(user.username, 0) == Notice.select().where(Notice.to == user.mobile).count() > 0
    alerts = list(StaffAlert.select())
    assert len({(a.request_id, a.user_id, a.kind) for a in alerts}) == len(alerts) == sum(sums.values())
    for alert in alerts:  # each alert was told by an SMS that exists
        assert Notice.select().where(Notice.key == alert.notice_key).exists()
    # nothing lost: every request at risk on a watched day was told to its holder
    held = ServiceRequest.select().where(ServiceRequest.assignee.is_null(False))
    for service_request in held:
        if service_request.due_on > THU:
            assert (service_request.id, service_request.assignee.username) in told(AT_RISK)
    overdue = [r.id for r in held if r.due_on < days[-1]]  # due Thursday, and Monday on Tuesday
    assert {r for r, user in told(OVERDUE) if user == "salem"} == set(overdue)  # nobody has a supervisor


# ------------------------------------------------------------------ the commands

def test_watch_once_prints_what_it_queued(app, resident, noura, runner, time_machine):
    time_machine.move_to(at(SUN), tick=False)
    due(resident, MON, noura)
    result = runner.invoke(args=["staff", "watch", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("SMS to noura (1 at risk, 0 overdue): تواصل: طلب واحد")
    result = runner.invoke(args=["staff", "watch", "--once"])
    assert result.output.strip() == "Nobody to tell."


def test_create_staff_with_a_mobile_in_arabic_digits_and_a_supervisor(app, fahad, runner):
    result = runner.invoke(args=["staff", "create", "salem", "--mobile", "٠٥٠٠٠٠٠٩٠٤", "--supervisor", "fahad",
                                 "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    salem = User.get(User.username == "salem")
    assert (salem.mobile, salem.supervisor.username) == ("+966500000904", "fahad")


@pytest.mark.parametrize("args, message", [
    (["--mobile", "12345"], "A Saudi mobile number looks like 05XXXXXXXX"),
    (["--supervisor", "nobody"], "No active supervisor account nobody."),
    (["--supervisor", "noura"], "No active supervisor account noura."),
])
def test_create_staff_refuses_a_bad_mobile_or_supervisor(app, noura, runner, args, message):
    result = runner.invoke(args=["staff", "create", "salem", *args, "--password", "long-enough-1"])
    assert result.exit_code == 1 and message in result.output
    assert User.get_or_none(User.username == "salem") is None


def test_the_supervisor_command_names_and_clears_the_supervisor(app, noura, fahad, runner):
    result = runner.invoke(args=["staff", "supervisor", "noura", "fahad"])
    assert result.exit_code == 0 and "told to fahad" in result.output
    assert User.get_by_id(noura.id).supervisor_id == fahad.id
    result = runner.invoke(args=["staff", "supervisor", "noura", "--none"])
    assert result.exit_code == 0 and "told to every supervisor" in result.output
    assert User.get_by_id(noura.id).supervisor_id is None


@pytest.mark.parametrize("args, message", [
    (["nobody", "fahad"], "No staff account nobody."),
    (["noura", "khalid"], "No active supervisor account khalid."),
    (["noura"], "Name a supervisor, or give --none."),
    (["noura", "fahad", "--none"], "Name a supervisor, or give --none."),
    (["fahad", "fahad"], "Nobody is their own supervisor."),
])
def test_the_supervisor_command_says_what_is_wrong(app, noura, khalid, fahad, runner, args, message):
    result = runner.invoke(args=["staff", "supervisor", *args])
    assert result.exit_code == 1 and message in result.output
    assert User.get_by_id(noura.id).supervisor_id is None


def test_the_mobile_command(app, noura, runner):
    result = runner.invoke(args=["staff", "mobile", "noura", "٠٥٥١٢٣٤٥٦٧"])
    assert result.exit_code == 0 and User.get_by_id(noura.id).mobile == "+966551234567"
    assert runner.invoke(args=["staff", "mobile", "noura", "0123"]).exit_code == 1
    assert "No staff account amal." in runner.invoke(args=["staff", "mobile", "amal", "0551234567"]).output


# ------------------------------------------------------------------ the supervisors' view

EN = {"Accept-Language": "en"}


def test_the_view_is_for_supervisors_only(app, noura, fahad, client):
    sign_in_client(client, "noura")
    assert client.get("/staff/risks").status_code == 403
    assert "/staff/risks" not in client.get("/staff/").text  # no link for officers


def test_the_view_lists_overdue_first_then_at_risk_in_both_languages(app, resident, noura, fahad, client,
                                                                     time_machine):
    time_machine.move_to(at(TUE), tick=False)
    later = due(resident, D(2026, 12, 7), noura)  # Monday: one working day over (Tue)
    soon = due(resident, D(2026, 12, 10), noura)  # Thursday 10: Wed 9, Thu 10 left
    today = due(resident, TUE, noura)
    due(resident, THU, noura, status=RETURNED)  # paused: not listed
    due(resident, D(2026, 12, 13), noura)  # Sunday 13: three working days left, not at risk
    # last: a request sent after it would give it to noura (what waits goes out with the next one)
    oldest = due(resident, THU, None, status="received")  # Thursday: Sun, Mon, Tue over; nobody holds it
    sign_in_client(client, "fahad")
    page = client.get("/staff/risks", headers=EN)
    assert page.status_code == 200
    html = page.text
    assert 'href="/staff/risks"' in html  # the nav link
    order = [html.index(f'id="req-{r.number}"') for r in (oldest, later, today, soon)]
    assert order == sorted(order) and html.index('id="overdue"') < order[0] < html.index('id="at-risk"') < order[2]
    assert html.count('id="req-') == 4
    row = html[order[0]:order[1]]
    assert "Nobody" in row and "3 working days over" in row and f"/staff/requests/{oldest.number}" in row
    assert "1 working day over" in html[order[1]:order[2]] and "Noura" in html[order[1]:order[2]]
    assert "Due today" in html[order[2]:order[3]] and "2 working days left" in html[order[3]:]
    assert "Overdue <span class=\"count\">(2)</span>" in html
    arabic = client.get("/staff/risks").text
    assert "<h1>المعرضة للتأخر والمتأخرة</h1>" in arabic and "يوما عمل أو أقل" in arabic  # two: the dual
    assert "لا يوجد" in arabic and "تجاوز الموعد بـ3 أيام عمل" in arabic and "يوما عمل متبقيان" in arabic


# ------------------------------------------------------------------ the demo

def test_the_demo_tells_noura_of_her_request_at_risk_and_fahad_of_the_overdue(app, runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    noura, khalid = (User.get(User.username == name) for name in ("noura", "khalid"))
    assert noura.supervisor.username == khalid.supervisor.username == "fahad"
    with app.app_context():
        held = [r for r in ServiceRequest.select().where(ServiceRequest.assignee == noura)
                if r.is_at_risk(Day.now().today)]
    assert any(r.description.startswith("My passport expires soon") for r in held)
    output = runner.invoke(args=["staff", "watch", "--once"]).output
    told_to = {line.split()[2]: line for line in output.splitlines()}
    assert {"noura", "fahad"} <= set(told_to)
    assert "تواصل:" in told_to["noura"] and "/staff/?view=mine" in told_to["noura"]
    assert "متأخر" in told_to["fahad"] and "/staff/risks" in told_to["fahad"]


def test_the_watcher_runs_passes_until_stopped(app, resident, noura, runner, time_machine, monkeypatch):
    """`flask staff watch` (as the Procfile runs it) makes a pass, waits, and stops at
    SIGTERM after the pass it is in; here the wait itself sends the signal."""
    time_machine.move_to(at(SUN), tick=False)
    due(resident, MON, noura)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    waits = []

    def wait(seconds):
        waits.append(seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr("cli.worker.time.sleep", wait)
    app.config["WATCH_SECONDS"] = 5
    try:
        result = runner.invoke(args=["staff", "watch"])
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert result.exit_code == 0, result.output
    assert waits == [1.0] and len(sms_to(NOURA_MOBILE)) == 1


def test_the_watchers_log_names_accounts_by_id_and_keeps_no_sms_text():
    """The running watcher's lines go to the JSON log (web/logs.py): no username, no SMS text."""
    from types import SimpleNamespace

    from cli.watch import report
    officer = SimpleNamespace(id=7, username="huda.officer")
    told = [SimpleNamespace(user=officer, at_risk=2, overdue=1, text="Tawasul: 2 requests at risk 123456789")]
    logged = "\n".join(report(told, [officer], [officer], for_log=True))
    assert "account 7" in logged and "huda" not in logged and "123456789" not in logged
    assert "huda.officer" in "\n".join(report(told, [], []))  # the console's --once names them
