"""flask requests set-status and flask staff create | second-factor | disable | away |
assign-waiting: the review, by hand, the staff accounts with their second factor, and
who is given requests."""
import datetime as dt
import io

import click
import segno
from flask.cli import AppGroup

from models import (
    STATUSES,
    ActionRefused,
    InvalidNumber,
    RecoveryCode,
    ServiceRequest,
    User,
    latin_digits,
    parse_mobile,
    parse_request_number,
    riyadh_today,
    write_transaction,
)
from models.assignment import assign_waiting, set_away, set_back
from web.sessions import end_sessions_of

requests_cli = AppGroup("requests", help="Requests, from the command line.")


@requests_cli.command("set-status")
@click.argument("number")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", default=None, help="The reason the resident reads (required to reject).")
def set_status(number, status, reason):
    """Change a request's status, as an officer would."""
    try:
        service_request = ServiceRequest.numbered(parse_request_number(number))
        if service_request is None:
            raise click.ClickException(f"No request {number}.")
        service_request.change_status(status, message=reason)
    except (InvalidNumber, ActionRefused) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Request {service_request.number} is now {status}.")


staff = AppGroup("staff", help="Officers and supervisors.")


@staff.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["officer", "supervisor"]), default="officer")
@click.option("--name", "full_name", default=None, help="Full name shown to colleagues.")
@click.option("--mobile", default=None, help="Saudi mobile (05XXXXXXXX) for the watcher's SMS.")
@click.option("--supervisor", "supervisor_name", default=None,
              help="The supervisor told of this account's overdue requests.")
@click.password_option(help="Asked for when not given; also read from standard input.")
def create_staff(username, role, full_name, mobile, supervisor_name, password):
    """Create a staff account and show its second factor (a QR code for an
    authenticator app) and its recovery codes, once."""
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")
    mobile = staff_mobile(mobile) if mobile is not None else None
    with write_transaction():
        if User.get_or_none(User.username == username):
            raise click.ClickException(f"The username {username} is taken.")
        supervisor = named_supervisor(supervisor_name) if supervisor_name else None
        user = User.create_staff(username, role, full_name, password, mobile=mobile, supervisor=supervisor)
        codes = RecoveryCode.replace_for(user)
    click.echo(f"Created {role} {username}.")
    show_second_factor(user, codes)


def staff_mobile(raw):
    """A staff mobile in E.164, Arabic-Indic digits accepted, or the reason it is wrong."""
    try:
        return parse_mobile(raw)
    except InvalidNumber as error:
        raise click.ClickException(str(error)) from None


def named_supervisor(username):
    """The active supervisor account `username`, or the reason there is none."""
    user = User.staff_named(username)
    if user is None or user.role != "supervisor" or user.disabled:
        raise click.ClickException(f"No active supervisor account {username}.")
    return user


@staff.command("second-factor")
@click.argument("username")
def second_factor(username):
    """Give a staff account a new second factor and new recovery codes (a new phone,
    a lost one, or an account created before staff needed one). The old app's codes
    and the old recovery codes stop working, and the account's sessions end."""
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    with write_transaction():
        user.replace_totp_secret()
        codes = RecoveryCode.replace_for(user)
    end_sessions_of(user)
    click.echo(f"New second factor for {username}; the previous one no longer works.")
    show_second_factor(user, codes)


def show_second_factor(user, codes):
    """The QR code and the otpauth:// address for the authenticator app, then the
    recovery codes: the only time any of them is shown."""
    uri = user.totp_uri()
    qr = io.StringIO()
    segno.make(uri, error="m").terminal(out=qr, compact=True)
    click.echo(f"\nScan this QR code with an authenticator app on {user.username}'s phone "
               "(or type the address below into it):\n")
    click.echo(qr.getvalue())
    click.echo(uri)
    click.echo(f"\nRecovery codes: each one signs {user.username} in once when the phone is not at hand. "
               "They are shown this once only and cannot be shown again: print them or write them down now "
               "and hand them over in person.\n")
    for code in codes:
        click.echo(f"  {code}")


@staff.command("disable")
@click.argument("username")
def disable_staff(username):
    """Disable a staff account: no sign-in, and every session of it ends now."""
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    user.disable()
    ended = end_sessions_of(user)
    released = ServiceRequest.release_held_by(user)
    click.echo(f"Disabled {username}; {ended} session(s) ended, "
               f"{released} request(s) moved to other officers or back in the queue.")


@staff.command("away")
@click.argument("username")
@click.option("--until", default=None, metavar="YYYY-MM-DD",
              help="The last day away (a Riyadh date, today or later): the officer is given requests "
                   "again from the day after. Arabic-Indic digits are read too.")
@click.option("--back", is_flag=True, help="Back now: given requests again from now on.")
def away(username, until, back):
    """Mark an officer away through a date, or back. Going away gives their undecided
    requests to the other available officers by the rule (fewest undecided first);
    with nobody available they wait unassigned. Nobody is given requests while away;
    coming back gives out the requests that waited."""
    if bool(until) == back:
        raise click.UsageError("Give either --until YYYY-MM-DD or --back.")
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    if user.role != "officer":
        raise click.ClickException(f"{username} is a {user.role}: only officers are given requests.")
    if back:
        given = set_back(user)
        click.echo(f"{username} is back and is given requests again; {given} waiting request(s) given out.")
        return
    day = parse_day(until)
    try:
        moved, waiting = set_away(user, day)
    except ActionRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{username} is away through {day.isoformat()} and is given requests again from "
               f"{(day + dt.timedelta(days=1)).isoformat()}; {moved} request(s) moved to other officers, "
               f"{waiting} waiting for one.")


def parse_day(text):
    """A YYYY-MM-DD date (Arabic-Indic digits read), today or later in Riyadh."""
    try:
        day = dt.date.fromisoformat(latin_digits(text).strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date written YYYY-MM-DD.", param_hint="--until") from None
    if day < riyadh_today():
        raise click.BadParameter(f"{day.isoformat()} is in the past (today is {riyadh_today().isoformat()} "
                                 "in Riyadh).", param_hint="--until")
    return day


@staff.command("assign-waiting")
def assign_waiting_command():
    """Give the requests that wait unassigned to the officers available now (e.g.
    after an away that ended by date). Safe to run at any time, on any server."""
    click.echo(f"{assign_waiting()} waiting request(s) given out.")
