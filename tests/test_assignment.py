"""Every request has an officer (models/assignment.py): the rule at submission, under
load on both engines, ties, services narrowed, officers away and back, requests
that wait for someone, a supervisor's reassignment, the team page and the queue's
default views."""
import datetime as dt
import threading
from collections import Counter

import pytest
from werkzeug.security import generate_password_hash

from models import (
    Audit,
    Draft,
    Event,
    OfficerService,
    Service,
    ServiceRequest,
    StaffChange,
    User,
    db,
    riyadh_today,
)
from models.assignment import assign_waiting, set_away, set_back, set_services
from models.samples import make_id_number, make_resident
from tests.factories import (
    PASSWORD,
    make_user,
    minimal_pdf,
    nobody_available,
    person_of,
    sign_in_client,
    submit_request,
)

EN = {"Accept-Language": "en"}
AR = {"Accept-Language": "ar"}


def reload(row):
    return type(row).get_by_id(row.id)


def officers(count):
    return [make_user(f"officer{i}", None, role="officer", full_name=f"Officer {i}") for i in range(count)]


def undecided_counts(users):
    return [ServiceRequest.select().where((ServiceRequest.assignee == u) & ServiceRequest.decided_at.is_null())
            .count() for u in users]


# ------------------------------------------------------------------ under load

RESIDENTS, PER_RESIDENT, OFFICERS = 50, 10, 10


def ready_drafts(resident):
    """PER_RESIDENT drafts ready to send (the most a resident may keep at once)."""
    person = person_of(resident, resident.full_name)
    service = Service.get(Service.code == "passport")
    drafts = []
    for index in range(PER_RESIDENT):
        draft = Draft.create(owner=resident, person=person, service=service,
                             description=f"Request {index}: my passport expires next month, please renew it.")
        draft.add_file("passport.pdf", "application/pdf", minimal_pdf(f"passport {index}"))
        drafts.append(draft)
    return drafts


@pytest.mark.alone
def test_500_requests_sent_at_once_are_each_assigned_once_and_evenly(app):
    """10 officers; 50 residents send 10 requests each, all threads at once, each on
    its own connection: every request is given exactly once (one audit row, one
    timeline line), and the officers' undecided counts differ by at most one."""
    staff = officers(OFFICERS)
    password_hash = generate_password_hash(PASSWORD)
    with db.connection_context():
        drafts = [ready_drafts(make_resident(f"resident{i}", f"Resident {i}", make_id_number(1, 30000000 + i),
                                             password_hash)) for i in range(RESIDENTS)]
    db.close()
    barrier, failures = threading.Barrier(RESIDENTS), []

    def send(own_drafts):
        with app.app_context(), db.connection_context():
            barrier.wait()
            try:
                for draft in own_drafts:
                    assert ServiceRequest.submit(draft) is not None
            except Exception as error:  # reported below, with the others
                failures.append(error)
    threads = [threading.Thread(target=send, args=(own,)) for own in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.connection_context():
        requests = list(ServiceRequest.select())
        assert len(requests) == RESIDENTS * PER_RESIDENT
        assert all(r.assignee_id in {s.id for s in staff} for r in requests)
        assigned = Counter(a.request_id for a in Audit.select().where(Audit.action == "assign"))
        assert set(assigned) == {r.id for r in requests} and set(assigned.values()) == {1}
        assert Audit.select().where(Audit.assignee.is_null(False)).count() == len(requests)
        shown = Counter(e.request_id for e in Event.select().where(Event.kind == "assign"))
        assert set(shown.values()) == {1} and len(shown) == len(requests)
        counts = undecided_counts(staff)
        spread = max(counts) - min(counts)
        print(f"\nundecided per officer: {counts}, spread {spread}")
        assert spread <= 1 and sum(counts) == len(requests)


# ------------------------------------------------------------------ the rule

def test_a_sent_request_goes_to_the_officer_with_fewest_undecided(app, resident, officer, officer2, supervisor):
    first = submit_request(resident)
    assert first.assignee_id == officer.id  # a tie, neither ever given one: the older account
    second = submit_request(resident)
    assert reload(second).assignee_id == officer2.id  # fewest undecided
    with db.connection_context():
        assert reload(officer).last_assigned_at is not None
        audit = Audit.get(Audit.request == first.id)
        assert (audit.action, audit.actor_id, audit.assignee_id) == ("assign", None, officer.id)
        event = Event.get((Event.request == first.id) & (Event.kind == "assign"))
        assert event.internal and event.actor_id == officer.id
    assert submit_request(resident).assignee_id == officer.id  # 1 each: given longest ago wins


def test_ties_go_to_the_officer_given_a_request_longest_ago(app, resident, officer, officer2):
    with db.connection_context():
        now = dt.datetime(2026, 1, 1, 8, 0)
        User.update(last_assigned_at=now).where(User.id == officer.id).execute()
        User.update(last_assigned_at=now - dt.timedelta(hours=1)).where(User.id == officer2.id).execute()
    assert submit_request(resident).assignee_id == officer2.id
    assert submit_request(resident).assignee_id == officer.id


def test_decided_requests_do_not_count(app, resident, officer, officer2):
    first, second = submit_request(resident), submit_request(resident)
    assert (first.assignee_id, reload(second).assignee_id) == (officer.id, officer2.id)
    with db.connection_context():
        reload(first).change_status("under_review", officer)
        reload(first).change_status("accepted", officer, message="Done.")
    assert submit_request(resident).assignee_id == officer.id  # 0 undecided against 1


def test_supervisors_and_disabled_officers_are_never_given_requests(app, resident, officer, officer2, supervisor):
    with db.connection_context():
        reload(officer2).disable()
    assert [submit_request(resident).assignee_id for _ in range(3)] == [officer.id] * 3


def test_a_narrowed_officer_gets_only_their_services(app, resident, officer, officer2, supervisor):
    with db.connection_context():
        visit = Service.get(Service.code == "visit_extension")
        set_services(officer, [visit.id], actor=supervisor)
        assert OfficerService.select().count() == 1
        change = StaffChange.get()
        assert (change.action, change.note, change.actor_id) == ("services", "visit_extension", supervisor.id)
    assert [submit_request(resident).assignee_id for _ in range(2)] == [officer2.id] * 2  # passports
    assert submit_request(resident, "Yusuf Yemeni", "visit_extension").assignee_id == officer.id
    with db.connection_context():
        set_services(officer, [], actor=supervisor)  # none: every service again
        assert OfficerService.select().count() == 0
    assert submit_request(resident).assignee_id == officer.id


def test_with_nobody_available_a_request_waits_then_goes_to_the_first_available(app, resident, officer):
    with db.connection_context():
        set_away(officer, riyadh_today())
    waiting = submit_request(resident)
    assert waiting.assignee_id is None
    with db.connection_context():
        assert not Audit.select().where(Audit.action == "assign").exists()
        assert set_back(officer) == 1
        assert reload(waiting).assignee_id == officer.id
        assert Audit.get(Audit.action == "assign").assignee_id == officer.id


def test_an_away_that_ended_by_date_gives_the_waiting_requests(app, resident, officer, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC))
    with db.connection_context():
        set_away(officer, dt.date(2026, 11, 19))  # away through Thursday 19th
    waiting = submit_request(resident)
    time_machine.move_to(dt.datetime(2026, 11, 19, 20, 59, tzinfo=dt.UTC))  # 23:59 in Riyadh: still away
    with db.connection_context():
        assert assign_waiting() == 0 and reload(waiting).assignee_id is None
    time_machine.move_to(dt.datetime(2026, 11, 19, 21, 0, tzinfo=dt.UTC))  # the 20th in Riyadh: back
    with db.connection_context():
        assert assign_waiting() == 1 and reload(waiting).assignee_id == officer.id


def test_a_new_request_that_finds_an_officer_lets_the_waiting_go_first(app, resident, officer):
    with nobody_available():
        waiting = submit_request(resident)
    assert waiting.assignee_id is None
    submit_request(resident)
    assert reload(waiting).assignee_id == officer.id


# ------------------------------------------------------------------ away, by command

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_away_by_command_moves_the_officers_requests_and_back_gives_again(app, runner, resident, officer, officer2):
    hers, his = submit_request(resident), submit_request(resident)
    until = riyadh_today() + dt.timedelta(days=3)
    result = runner.invoke(args=["staff", "away", "noura", "--until", until.isoformat().translate(ARABIC_DIGITS)])
    assert result.exit_code == 0, result.output
    assert f"away through {until.isoformat()}" in result.output
    assert f"again from {(until + dt.timedelta(days=1)).isoformat()}" in result.output
    assert "1 request(s) moved" in result.output
    with db.connection_context():
        assert reload(officer).away_until == until
        assert reload(hers).assignee_id == reload(his).assignee_id == officer2.id
        moved = Audit.get(Audit.action == "reassign")
        assert (moved.request_id, moved.note, moved.assignee_id, moved.actor_id) == (hers.id, "away", officer2.id, None)
        assert StaffChange.get().action == "away"
    assert submit_request(resident).assignee_id == officer2.id  # nobody is given work while away
    result = runner.invoke(args=["staff", "away", "noura", "--back"])
    assert result.exit_code == 0 and "is back" in result.output
    assert submit_request(resident).assignee_id == officer.id  # 0 undecided against 3
    with db.connection_context():
        assert [c.action for c in StaffChange.select().order_by(StaffChange.id)] == ["away", "back"]


def test_going_away_with_nobody_else_leaves_the_requests_waiting_until_back(app, runner, resident, officer):
    hers = submit_request(resident)
    result = runner.invoke(args=["staff", "away", "noura", "--until", riyadh_today().isoformat()])
    assert result.exit_code == 0 and "0 request(s) moved to other officers, 1 waiting" in result.output
    with db.connection_context():
        assert reload(hers).assignee_id is None
        assert Audit.get(Audit.action == "release").note == "away"
    assert runner.invoke(args=["staff", "away", "noura", "--back"]).output.strip().endswith(
        "1 waiting request(s) given out.")
    with db.connection_context():
        assert reload(hers).assignee_id == officer.id


@pytest.mark.parametrize("args, message", [
    (["nobody", "--until", "2099-01-01"], "No staff account nobody."),
    (["fahad", "--until", "2099-01-01"], "fahad is a supervisor: only officers are given requests."),
    (["amal", "--back"], "No staff account amal."),
    (["noura", "--until", "2020-01-01"], "is in the past"),
    (["noura", "--until", "next week"], "is not a date written YYYY-MM-DD"),
    (["noura"], "Give either --until YYYY-MM-DD or --back."),
    (["noura", "--until", "2099-01-01", "--back"], "Give either --until YYYY-MM-DD or --back."),
])
def test_away_by_command_refuses_clearly(app, runner, resident, officer, supervisor, args, message):
    result = runner.invoke(args=["staff", "away", *args])
    assert result.exit_code != 0 and message in result.output
    with db.connection_context():
        assert reload(officer).away_until is None and not StaffChange.select().exists()


def test_assign_waiting_by_command(app, runner, resident, officer):
    with nobody_available():
        waiting = submit_request(resident)
    result = runner.invoke(args=["staff", "assign-waiting"])
    assert result.exit_code == 0 and "1 waiting request(s) given out." in result.output
    with db.connection_context():
        assert reload(waiting).assignee_id == officer.id


# ------------------------------------------------------------------ the team page

def as_user(app, username):
    client = app.test_client()
    assert sign_in_client(client, username).status_code == 303
    return client


def test_the_team_page_is_for_supervisors_only(app, resident, officer, officer2, supervisor):
    submit_request(resident)
    assert as_user(app, "noura").get("/staff/team").status_code == 403
    assert as_user(app, "noura").post("/staff/team/khalid/away", data={"until": "2099-01-01"}).status_code == 403
    assert "/staff/team" not in as_user(app, "noura").get("/staff/", headers=EN).text
    fahad = as_user(app, "fahad")
    page = fahad.get("/staff/team", headers=EN)
    assert page.status_code == 200 and 'href="/staff/team"' in page.text
    noura_row = page.text.split('id="officer-noura"')[1].split("</section>")[0]
    assert "Noura Officer" in noura_row and "Present" in noura_row and "Every service" in noura_row
    assert "<dt>Undecided requests</dt><dd>1</dd>" in noura_row
    assert fahad.post("/staff/team/fahad/away", data={"until": "2099-01-01"}).status_code == 404  # no officer


def test_a_supervisor_sets_an_officer_away_and_back_from_the_page(app, resident, officer, officer2, supervisor):
    hers = submit_request(resident)
    fahad = as_user(app, "fahad")
    until = riyadh_today() + dt.timedelta(days=10)
    response = fahad.post("/staff/team/noura/away", data={"until": until.isoformat().translate(ARABIC_DIGITS)})
    assert response.status_code == 303 and response.headers["Location"].endswith("#officer-noura")
    with db.connection_context():
        assert reload(officer).away_until == until and reload(hers).assignee_id == officer2.id
        change = StaffChange.get()
        assert (change.actor_id, change.officer_id, change.action, change.note) == (
            supervisor.id, officer.id, "away", until.isoformat())
    noura_row = fahad.get("/staff/team", headers=EN).text.split('id="officer-noura"')[1].split("</section>")[0]
    assert "Away" in noura_row and "given requests again from" in noura_row and "Back now" in noura_row
    assert fahad.post("/staff/team/noura/back").status_code == 303
    with db.connection_context():
        assert reload(officer).away_until is None
        assert [c.action for c in StaffChange.select().order_by(StaffChange.id)] == ["away", "back"]


@pytest.mark.parametrize("until, message", [
    ("2020-01-01", "Choose today or a later day."), ("", "Give the last day away as a date"),
])
def test_the_page_refuses_a_bad_away_date_and_keeps_it(app, officer, supervisor, until, message):
    response = as_user(app, "fahad").post("/staff/team/noura/away", data={"until": until}, headers=EN)
    assert response.status_code == 422 and message in response.text
    with db.connection_context():
        assert reload(officer).away_until is None and not StaffChange.select().exists()


def test_a_supervisor_narrows_and_widens_an_officers_services(app, resident, officer, officer2, supervisor):
    with db.connection_context():
        visit = Service.get(Service.code == "visit_extension")
    fahad = as_user(app, "fahad")
    assert fahad.post("/staff/team/noura/services", data={"services": [str(visit.id)]}).status_code == 303
    assert [submit_request(resident).assignee_id for _ in range(2)] == [officer2.id] * 2
    page = fahad.get("/staff/team", headers=EN).text
    assert "Handles: Visit visa extension (Yemeni and Syrian nationals only)" in page
    noura_row = page.split('id="officer-noura"')[1].split("</section>")[0]
    assert f'value="{visit.id}" id="services-noura-{visit.id}" checked' in noura_row
    assert fahad.post("/staff/team/noura/services", data={"services": ["999999"]}, headers=EN).status_code == 422
    assert fahad.post("/staff/team/noura/services", data={}).status_code == 303  # none: every service
    assert submit_request(resident).assignee_id == officer.id
    with db.connection_context():
        assert [c.note for c in StaffChange.select().order_by(StaffChange.id)] == ["visit_extension", "all"]


def test_widening_gives_out_the_requests_that_waited(app, resident, officer, supervisor):
    with db.connection_context():
        set_services(officer, [Service.get(Service.code == "visit_extension").id])
    waiting = submit_request(resident)  # a passport: nobody handles it
    assert waiting.assignee_id is None
    page = as_user(app, "fahad").get("/staff/team", headers=EN).text
    assert "1 request waits for an officer." in page
    assert as_user(app, "fahad").post("/staff/team/noura/services", data={}).status_code == 303
    with db.connection_context():
        assert reload(waiting).assignee_id == officer.id


# ------------------------------------------------------------------ reassignment

def test_a_supervisor_reassigns_with_a_reason(app, resident, officer, officer2, supervisor):
    hers = submit_request(resident)
    fahad = as_user(app, "fahad")
    page = fahad.get(f"/staff/requests/{hers.number}", headers=EN).text
    assert "Assigned to Noura Officer." in page and 'id="reassign"' in page
    assert "Khalid Officer (0 undecided)" in page and "Noura Officer (1 undecided)" not in page
    url = f"/staff/requests/{hers.number}/reassign"
    refused = fahad.post(url, data={"officer": officer2.id, "reason": "  "}, headers=EN)
    assert refused.status_code == 422 and "Say why it moves: the reason is kept in the audit trail." in refused.text
    reason = "Khalid knows this family's file."
    assert fahad.post(url, data={"officer": officer2.id, "reason": reason}).status_code == 303
    with db.connection_context():
        assert reload(hers).assignee_id == officer2.id
        moved = Audit.get(Audit.action == "reassign")
        assert (moved.actor_id, moved.assignee_id, moved.note) == (supervisor.id, officer2.id,
                                                                   "Khalid knows this family's file.")
    page = fahad.get(f"/staff/requests/{hers.number}", headers=EN).text
    assert "Assigned to Khalid Officer." in page and "Reassigned to Khalid Officer" in page
    assert "Khalid knows this family&#39;s file." in page
    khalid = as_user(app, "khalid")
    assert "Khalid knows" in khalid.get(f"/staff/requests/{hers.number}", headers=EN).text  # staff timeline
    assert 'id="reassign"' not in khalid.get(f"/staff/requests/{hers.number}").text
    assert khalid.post(url, data={"officer": officer.id, "reason": "mine"}).status_code == 403
    assert "Khalid knows" not in as_user(app, "amal").get(f"/requests/{hers.number}").text


def test_reassigning_refuses_an_away_officer_a_non_officer_and_a_decided_request(
        app, resident, officer, officer2, supervisor):
    hers = submit_request(resident)
    with db.connection_context():
        set_away(officer2, riyadh_today() + dt.timedelta(days=2))
    fahad, url = as_user(app, "fahad"), f"/staff/requests/{hers.number}/reassign"
    away = fahad.post(url, data={"officer": officer2.id, "reason": "cover"}, headers=EN)
    assert away.status_code == 409 and "Khalid Officer is away until" in away.text
    to_resident = fahad.post(url, data={"officer": resident.id, "reason": "cover"}, headers=EN)
    assert to_resident.status_code == 409 and "Choose one of the officers." in to_resident.text
    with db.connection_context():
        reload(hers).change_status("under_review", officer)
        reload(hers).change_status("accepted", officer, message="Done.")
        set_back(officer2)
    decided = fahad.post(url, data={"officer": officer2.id, "reason": "cover"}, headers=EN)
    assert decided.status_code == 409 and "already decided" in decided.text
    with db.connection_context():
        assert not Audit.select().where(Audit.action == "reassign").exists()


# ------------------------------------------------------------------ the queue's views

def numbers_in(html, made):
    return [r.number for r in sorted(made, key=lambda r: html.find(r.number)) if r.number in html]


def test_an_officers_queue_opens_on_assigned_to_me_by_due_date(app, resident, officer, officer2):
    first, other, second = submit_request(resident), submit_request(resident), submit_request(resident)
    assert (first.assignee_id, other.assignee_id, second.assignee_id) == (officer.id, officer2.id, officer.id)
    with db.connection_context():
        ServiceRequest.update(due_on=second.due_on - dt.timedelta(days=1)).where(
            ServiceRequest.id == second.id).execute()
    noura = as_user(app, "noura")
    html = noura.get("/staff/", headers=EN).text
    assert numbers_in(html, [first, other, second]) == [second.number, first.number]
    assert '<option selected value="mine">Assigned to me</option>' in html
    assert numbers_in(noura.get("/staff/?view=all").text, [first, other, second]) == [
        second.number, first.number, other.number]
    arabic = noura.get("/staff/", headers=AR).text
    assert "المسندة إليّ" in arabic and "مسند إلى" in arabic


def test_a_supervisors_queue_shows_the_unassigned_first_page_by_page(app, resident, officer, supervisor,
                                                                       monkeypatch):
    import blueprints.staff.routes as routes
    with db.connection_context():
        set_services(officer, [Service.get(Service.code == "visit_extension").id])
    waiting = submit_request(resident)  # a passport: nobody handles it
    held = submit_request(resident, "Yusuf Yemeni", "visit_extension")
    waiting_too = submit_request(resident)
    with db.connection_context():
        ServiceRequest.update(due_on=held.due_on - dt.timedelta(days=3)).where(ServiceRequest.id == held.id).execute()
    assert (waiting.assignee_id, held.assignee_id, waiting_too.assignee_id) == (None, officer.id, None)
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    fahad = as_user(app, "fahad")
    first = fahad.get("/staff/", headers=EN).text
    assert numbers_in(first, [waiting, held, waiting_too]) == [waiting.number, waiting_too.number]
    link = first.split('<a href="/staff/?')[-1].split('"')[0].replace("&amp;", "&")
    assert link.startswith("view=all&after=0_")
    second = fahad.get("/staff/?" + link, headers=EN).text
    assert numbers_in(second, [waiting, held, waiting_too]) == [held.number] and "Next page" not in second
    poll = first.split('id="queue" data-poll hx-get="')[1].split('"')[0]
    assert poll == "/staff/?view=all"


# ------------------------------------------------------------------ the demo

def test_the_demo_gives_every_undecided_request_an_officer_and_has_one_away(app, runner):
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    with db.connection_context():
        noura, khalid = User.get(User.username == "noura"), User.get(User.username == "khalid")
        assert khalid.away_until == riyadh_today() + dt.timedelta(days=10) and noura.away_until is None
        undecided = ServiceRequest.select().where(ServiceRequest.decided_at.is_null())
        assert undecided.count() > 10
        assert {r.assignee_id for r in undecided} == {noura.id}  # khalid's moved when he went away
        assert Audit.select().where((Audit.action == "reassign") & (Audit.note == "away")).count() > 0
        assert StaffChange.get().action == "away"


def test_a_supervisor_reassigns_to_themself_to_decide(app, resident, officer, supervisor):
    hers = submit_request(resident)
    fahad = as_user(app, "fahad")
    page = fahad.get(f"/staff/requests/{hers.number}", headers=EN).text
    assert "Myself, to decide it" in page and "reassign it to yourself below" in page
    url = f"/staff/requests/{hers.number}/reassign"
    assert fahad.post(url, data={"officer": supervisor.id, "reason": "A delicate case."}).status_code == 303
    assert fahad.post(f"/staff/requests/{hers.number}/start").status_code == 303
    with db.connection_context():
        assert reload(hers).assignee_id == supervisor.id and reload(hers).status == "under_review"
    noura = as_user(app, "noura")  # an officer cannot move it to herself
    assert noura.post(url, data={"officer": officer.id, "reason": "mine"}).status_code == 403


def test_the_team_page_and_reassignment_speak_arabic(app, resident, officer, officer2, supervisor):
    hers = submit_request(resident)
    with db.connection_context():
        set_away(officer2, riyadh_today() + dt.timedelta(days=2))
    fahad = as_user(app, "fahad")
    page = fahad.get("/staff/team", headers=AR).text
    assert "<h1>الفريق</h1>" in page and "حاضر" in page and "في إجازة" in page and "تُسند إليه الطلبات مجددًا من" in page
    refused = fahad.post("/staff/team/noura/away", data={"until": "٢٠٢٠-٠١-٠١"}, headers=AR)
    assert refused.status_code == 422 and "اختر اليوم أو يومًا لاحقًا." in refused.text
    request_page = fahad.get(f"/staff/requests/{hers.number}", headers=AR).text
    assert "الطلب مسند إلى Noura Officer." in request_page and "أعد الإسناد" in request_page
    url = f"/staff/requests/{hers.number}/reassign"
    no_reason = fahad.post(url, data={"officer": supervisor.id, "reason": ""}, headers=AR)
    assert no_reason.status_code == 422 and "اذكر سبب النقل: يُحفظ السبب في سجل التدقيق." in no_reason.text
    away = fahad.post(url, data={"officer": officer2.id, "reason": "تغطية"}, headers=AR)
    assert away.status_code == 409 and "Khalid Officer في إجازة حتى" in away.text


def test_the_watchers_pass_gives_out_what_waited_once_an_away_ends(app, runner, resident, officer, time_machine):
    """Nobody acts when an away ends by date: the watcher's next pass gives the request."""
    time_machine.move_to(dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC))
    with db.connection_context():
        set_away(officer, dt.date(2026, 11, 19))
    waiting = submit_request(resident)
    result = runner.invoke(args=["staff", "watch", "--once"])
    assert "waiting requests given" not in result.output and reload(waiting).assignee_id is None
    time_machine.move_to(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC))  # Friday 20th in Riyadh: back
    result = runner.invoke(args=["staff", "watch", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 waiting requests given to officers.")
    assert reload(waiting).assignee_id == officer.id
