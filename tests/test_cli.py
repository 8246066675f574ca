import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pyotp

from models import (
    ACCEPTED,
    REJECTED,
    UNDER_REVIEW,
    Event,
    Person,
    RecoveryCode,
    ServiceRequest,
    User,
    WebSession,
    luhn_valid,
    parse_mobile,
    riyadh_today,
    utcnow,
)
from tests.factories import make_id_number

SPONSOR = make_id_number(1, 12345678)
WORKER = make_id_number(2, 33333333)


def write(tmp_path, text):
    path = tmp_path / "persons.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_persons_from_csv(runner, tmp_path):
    csv_file = write(tmp_path, "sponsor_id,person_id,name,nationality\n"
                               f"{SPONSOR},{WORKER},Karim Worker,EG\n"
                               f"{SPONSOR},3000000001,سامي زائر,sy\n")
    result = runner.invoke(args=["persons", "import", csv_file])
    assert result.exit_code == 0, result.output
    assert "Imported 2" in result.output
    rows = {(p.id_number, p.name, p.nationality) for p in Person.select().where(Person.sponsor_id_number == SPONSOR)}
    assert rows == {(WORKER, "Karim Worker", "EG"), ("3000000001", "سامي زائر", "SY")}
    # importing again updates instead of duplicating
    write(tmp_path, f"{SPONSOR},{WORKER},Karim Renamed,EG\n")
    assert runner.invoke(args=["persons", "import", csv_file]).exit_code == 0
    assert Person.get(Person.id_number == WORKER).name == "Karim Renamed"
    assert Person.select().count() == 2


def test_a_bad_row_is_reported_by_line_and_nothing_is_saved(runner, tmp_path):
    csv_file = write(tmp_path, "sponsor_id,person_id,name,nationality\n"
                               f"{SPONSOR},{WORKER},Good Row,EG\n"
                               f"{SPONSOR},1000000009,Bad Checksum,SA\n"
                               f"{SPONSOR},{WORKER},,EG\n"
                               f"{SPONSOR},{make_id_number(2, 4)},Unknown Country,XX\n"
                               f"{SPONSOR},{WORKER}\n")
    result = runner.invoke(args=["persons", "import", csv_file])
    assert result.exit_code == 1
    assert "line 3: This identity number is not valid" in result.output
    assert "line 4: the name is empty" in result.output
    assert "line 5: unknown nationality code 'XX'" in result.output
    assert "line 6: expected 4 or 5 fields" in result.output
    assert Person.select().count() == 0


def test_import_persons_with_their_mobiles(runner, tmp_path):
    csv_file = write(tmp_path, "sponsor_id,person_id,name,nationality,mobile\n"
                               f"{SPONSOR},{SPONSOR},Karim Sponsor,SA,0512345678\n"
                               f"{SPONSOR},{WORKER},Karim Worker,EG,+966 55 123 4567\n"
                               f"{SPONSOR},3000000001,سامي زائر,SY,\n"
                               f"{SPONSOR},{make_id_number(2, 5)},Old Format,IN\n")
    result = runner.invoke(args=["persons", "import", csv_file])
    assert result.exit_code == 0, result.output
    mobiles = {p.id_number: p.mobile for p in Person.select()}
    assert mobiles == {SPONSOR: "+966512345678", WORKER: "+966551234567", "3000000001": None,
                       make_id_number(2, 5): None}
    assert Person.with_mobile(SPONSOR).name == "Karim Sponsor"
    # four fields leave a known mobile alone; an empty fifth field removes it
    write(tmp_path, f"{SPONSOR},{SPONSOR},Karim Renamed,SA\n{SPONSOR},{WORKER},Karim Worker,EG,\n")
    assert runner.invoke(args=["persons", "import", csv_file]).exit_code == 0
    assert Person.get(Person.id_number == SPONSOR).mobile == "+966512345678"
    assert Person.get(Person.id_number == SPONSOR).name == "Karim Renamed"
    assert Person.get(Person.id_number == WORKER).mobile is None


def test_a_wrong_mobile_is_reported_by_line_and_nothing_is_saved(runner, tmp_path):
    csv_file = write(tmp_path, f"{SPONSOR},{SPONSOR},Karim Sponsor,SA,0512345678\n"
                               f"{SPONSOR},{WORKER},Karim Worker,EG,0412345678\n"
                               f"{SPONSOR},3000000001,Sami,SY,05123\n"
                               f"{SPONSOR},{make_id_number(2, 5)},Too Many,IN,0512345678,extra\n")
    result = runner.invoke(args=["persons", "import", csv_file])
    assert result.exit_code == 1
    assert "line 2: the mobile '0412345678' is wrong. A Saudi mobile number looks like 05XXXXXXXX" in result.output
    assert "line 3: the mobile '05123' is wrong." in result.output
    assert "line 4: expected 4 or 5 fields (sponsor id, person id, name, nationality[, mobile]), got 6" \
        in result.output
    assert "Nothing imported: 3 line(s) to fix." in result.output
    assert Person.select().count() == 0


def test_set_status_moves_a_request_and_records_it(runner, service_request):
    result = runner.invoke(args=["requests", "set-status", service_request.number, UNDER_REVIEW])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["requests", "set-status", service_request.number, ACCEPTED,
                                 "--reason", "Renewed."])
    assert result.exit_code == 0
    changed = ServiceRequest.get_by_id(service_request.id)
    assert changed.status == ACCEPTED and changed.reason == "Renewed."
    assert Event.select().where(Event.request == changed).count() == 3


def test_set_status_refuses_what_the_rules_refuse(runner, service_request):
    result = runner.invoke(args=["requests", "set-status", service_request.number, REJECTED])
    assert result.exit_code != 0 and "needs a reason" in result.output
    result = runner.invoke(args=["requests", "set-status", service_request.number, ACCEPTED, "--reason", "ok"])
    assert result.exit_code != 0 and "cannot become" in result.output  # decide only under review
    runner.invoke(args=["requests", "set-status", service_request.number, UNDER_REVIEW])
    runner.invoke(args=["requests", "set-status", service_request.number, ACCEPTED, "--reason", "ok"])
    result = runner.invoke(args=["requests", "set-status", service_request.number, UNDER_REVIEW])
    assert result.exit_code != 0 and "a decision is final" in result.output
    result = runner.invoke(args=["requests", "set-status", "123", UNDER_REVIEW])
    assert result.exit_code != 0 and "exactly 9 digits" in result.output


def test_demo_data_has_a_request_in_each_status_and_a_real_looking_queue(runner):
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    demo = User.get(User.username == "demo")
    statuses = {r.status for r in ServiceRequest.select().where(ServiceRequest.owner == demo)}
    assert statuses == {"received", "under_review", "returned", "accepted", "rejected"}
    assert Person.select().where(Person.sponsor_id_number == demo.id_number).count() == 5
    assert {u.role for u in User.select()} == {"resident", "officer", "supervisor"}
    requests = ServiceRequest.select()
    assert requests.count() >= 300
    days = {r.submitted_on for r in requests}
    assert max(days) - min(days) >= dt.timedelta(days=28)
    overdue = requests.where(ServiceRequest.decided_at.is_null() & (ServiceRequest.due_on < riyadh_today())
                             & (ServiceRequest.status != "returned"))
    assert overdue.count() >= 5
    users = User.select().count()
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0  # safe to run twice
    assert User.select().count() == users


def test_demo_data_lets_a_newcomer_sign_up_and_staff_pass_the_second_factor(runner):
    from cli.demo import DEMO_TOTP_SECRETS, unregistered
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    newcomers = unregistered()
    assert [n[2] for n in newcomers] == ["SA", "SA", "EG"]  # two citizens, one resident
    for number, name, _nationality, mobile, linked in newcomers:
        assert luhn_valid(number) and all(luhn_valid(p[0]) for p in linked)
        assert User.get_or_none(User.id_number == number) is None
        person = Person.with_mobile(number)
        assert person.name == name and person.mobile == mobile == parse_mobile(mobile)
        assert Person.select().where(Person.sponsor_id_number == number).count() == len(linked) + 1
    for user in User.select():  # every account has its demo mobile, and so does its registry row
        assert user.mobile == parse_mobile(user.mobile)
        if user.id_number:
            assert Person.with_mobile(user.id_number).mobile == user.mobile
    for username, secret in DEMO_TOTP_SECRETS.items():
        staff = User.staff_named(username)
        assert staff.totp_secret == secret and staff.verify_totp(pyotp.TOTP(secret).now())


def test_demo_data_loaded_before_the_second_factor_gets_what_is_missing(runner):
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    User.update(mobile=None, totp_secret=None).execute()
    Person.update(mobile=None).execute()
    Person.delete().where(Person.sponsor_id_number == make_id_number(2, 50607100)).execute()
    assert runner.invoke(args=["init-db", "--demo"]).exit_code == 0
    assert User.select().where(User.mobile.is_null()).count() == 0
    assert User.staff_named("noura").totp_secret == "DEMONOURADEMONOURADEMONOURADEMON"
    assert Person.with_mobile(make_id_number(2, 50607100)).name == "أحمد محمود حسن"
    assert Person.with_mobile(User.get(User.username == "demo").id_number).mobile == "+966500000001"


def second_factor_of(output):
    """The TOTP secret in the printed otpauth:// address, and the recovery codes."""
    uri = re.search(r"otpauth://\S+", output).group(0)
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert parts.path == "/Tawasul:salem" and query["issuer"] == ["Tawasul"]
    return query["secret"][0], re.findall(r"^  ([0-9a-f]{6}-[0-9a-f]{6})$", output, re.M)


def create_salem(runner):
    result = runner.invoke(args=["staff", "create", "salem", "--role", "supervisor", "--name", "Salem"],
                           input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    return result.output


def test_staff_create_shows_the_second_factor_and_recovery_codes_once(app, runner):
    output = create_salem(runner)
    salem = User.get(User.username == "salem")
    secret, codes = second_factor_of(output)
    assert secret == salem.totp_secret
    assert "▄" in output or "█" in output  # the QR code, drawn for the terminal
    assert "shown this once only" in output
    assert len(codes) == 10 and len(set(codes)) == 10
    assert salem.verify_totp(pyotp.TOTP(secret).now())
    with app.app_context():  # the codes are hashed with the app's key
        assert RecoveryCode.use(salem, codes[0]) and not RecoveryCode.use(salem, codes[0])
        assert RecoveryCode.use(salem, codes[1].upper())


def test_staff_second_factor_replaces_the_secret_and_the_recovery_codes(app, runner, resident):
    old_secret, old_codes = second_factor_of(create_salem(runner))
    salem = User.get(User.username == "salem")
    WebSession.create(token_hash="a" * 64, user=salem, data="{}", created_at=utcnow(), seen_at=utcnow())
    result = runner.invoke(args=["staff", "second-factor", "salem"])
    assert result.exit_code == 0, result.output
    secret, codes = second_factor_of(result.output)
    salem = User.get_by_id(salem.id)
    assert secret == salem.totp_secret != old_secret
    assert len(codes) == 10 and not set(codes) & set(old_codes)
    with app.app_context():
        assert not RecoveryCode.use(salem, old_codes[0]) and RecoveryCode.use(salem, codes[0])
    assert not salem.verify_totp(pyotp.TOTP(old_secret).now())
    assert salem.verify_totp(pyotp.TOTP(secret).now())
    assert WebSession.select().where(WebSession.user == salem.id).count() == 0
    for name in ("nobody", "amal"):  # no account; a resident's account
        result = runner.invoke(args=["staff", "second-factor", name])
        assert result.exit_code != 0 and f"No staff account {name}" in result.output


def test_staff_disable_ends_every_session_of_the_account(runner, resident):
    create_salem(runner)
    salem = User.get(User.username == "salem")
    for index, user in enumerate([salem, salem, resident]):
        WebSession.create(token_hash=str(index) * 64, user=user, data="{}", created_at=utcnow(), seen_at=utcnow())
    result = runner.invoke(args=["staff", "disable", "salem"])
    assert result.exit_code == 0 and "2 session(s) ended" in result.output
    assert WebSession.select().where(WebSession.user == salem.id).count() == 0
    assert WebSession.select().where(WebSession.user == resident.id).count() == 1
    assert User.get_by_id(salem.id).disabled


def test_bad_command_arguments_are_refused_with_a_message(runner):
    result = runner.invoke(args=["holidays", "add", "2026-12-01", "x" * 121])
    assert result.exit_code != 0 and "1 to 120 characters" in result.output
    for days in ("0", "-1", "100000000"):
        result = runner.invoke(args=["drafts", "purge", "--days", days])
        assert result.exit_code != 0 and "Invalid value" in result.output
