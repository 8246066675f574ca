"""Command-line tools: flask init-db, persons import, requests set-status, translate."""
import csv
import os
import subprocess
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from blueprints.common import NATIONALITIES
from models import (ROLES, STATUSES, Draft, Holiday, InvalidNumber, Person, ServiceRequest,
                    TransitionError, User, create_schema, db, parse_id_number,
                    parse_request_number)


@click.command("init-db")
@click.option("--demo", is_flag=True, help="Also load the demo accounts, persons and requests.")
@with_appcontext
def init_db(demo):
    """Create the tables and the service catalogue (safe to run again)."""
    create_schema()
    click.echo("Database ready.")
    if demo:
        from blueprints.demo import load_demo
        load_demo()
        click.echo("Demo data loaded.")


persons = AppGroup("persons", help="The registry of linked persons.")


def read_person_rows(handle):
    """Parse the CSV; return (rows, errors). Errors carry the line number."""
    rows, errors, seen = [], [], set()
    reader = csv.reader(handle)
    for line_no, fields in enumerate(reader, start=1):
        if line_no == 1 and fields and not fields[0].strip()[:1].isdigit():
            continue  # header
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != 4:
            errors.append(f"line {line_no}: expected 4 fields (sponsor id, person id, name, nationality), got {len(fields)}")
            continue
        sponsor, person, name, nationality = (f.strip() for f in fields)
        try:
            sponsor, person = parse_id_number(sponsor), parse_id_number(person)
        except InvalidNumber as error:
            errors.append(f"line {line_no}: {error}")
            continue
        nationality = nationality.upper()
        if not name:
            errors.append(f"line {line_no}: the name is empty")
        elif nationality not in NATIONALITIES:
            errors.append(f"line {line_no}: unknown nationality code {nationality!r}")
        elif (sponsor, person) in seen:
            errors.append(f"line {line_no}: this sponsor and person appear twice in the file")
        else:
            seen.add((sponsor, person))
            rows.append(dict(sponsor_id_number=sponsor, id_number=person, name=name[:120],
                             nationality=nationality))
    return rows, errors


@persons.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_persons(csv_file):
    """Import linked persons: sponsor id, person id, name, nationality (ISO code).
    Nothing of the file is saved when any row is wrong."""
    rows, errors = read_person_rows(csv_file)
    if errors:
        for error in errors:
            click.echo(error, err=True)
        click.echo(f"Nothing imported: {len(errors)} line(s) to fix.", err=True)
        sys.exit(1)
    with db.atomic():
        for row in rows:
            updated = Person.update(name=row["name"], nationality=row["nationality"]).where(
                (Person.sponsor_id_number == row["sponsor_id_number"])
                & (Person.id_number == row["id_number"])).execute()
            if not updated:
                Person.create(**row)
    click.echo(f"Imported {len(rows)} person(s).")


requests_cli = AppGroup("requests", help="Requests, from the command line.")


@requests_cli.command("set-status")
@click.argument("number")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", default=None, help="The reason the resident reads (required to reject).")
def set_status(number, status, reason):
    """Change a request's status, as an officer would."""
    try:
        service_request = ServiceRequest.get_or_none(ServiceRequest.number == parse_request_number(number))
        if service_request is None:
            raise click.ClickException(f"No request {number}.")
        service_request.change_status(status, message=reason)
    except (InvalidNumber, TransitionError) as error:
        raise click.ClickException(str(error))
    click.echo(f"Request {service_request.number} is now {status}.")


drafts = AppGroup("drafts", help="Requests being written.")


@drafts.command("purge")
@click.option("--days", default=7, show_default=True, help="Remove drafts untouched for this long.")
def purge_drafts(days):
    """Remove abandoned drafts and their files (run daily from cron)."""
    click.echo(f"Removed {Draft.purge_older_than(days)} draft(s).")


staff = AppGroup("staff", help="Officers and supervisors.")


@staff.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["officer", "supervisor"]), default="officer")
@click.option("--name", "full_name", default=None, help="Full name shown to colleagues.")
@click.password_option(help="Asked for when not given; also read from standard input.")
def create_staff(username, role, full_name, password):
    """Create a staff account."""
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")
    if User.get_or_none(User.username == username):
        raise click.ClickException(f"The username {username} is taken.")
    user = User(username=username, full_name=full_name or username, role=role)
    user.set_password(password)
    user.save()
    click.echo(f"Created {role} {username}.")


@staff.command("disable")
@click.argument("username")
def disable_staff(username):
    """Disable a staff account: no sign-in, and its open sessions stop working."""
    user = User.get_or_none((User.username == username) & (User.role.in_(ROLES[1:])))
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    User.update(disabled=True).where(User.id == user.id).execute()
    held = ServiceRequest.select().where((ServiceRequest.assignee == user) & ServiceRequest.decided_at.is_null())
    for service_request in held:
        service_request.release(user)
    click.echo(f"Disabled {username}; {len(held)} request(s) back in the queue.")


holidays = AppGroup("holidays", help="Public holidays, which do not count for the deadline.")


@holidays.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("name")
def add_holiday(day, name):
    """Add a holiday (YYYY-MM-DD NAME) and move the deadlines of open requests."""
    with db.atomic():
        if not Holiday.update(name=name).where(Holiday.day == day.date()).execute():
            Holiday.create(day=day.date(), name=name)
    moved = ServiceRequest.reschedule_open()
    click.echo(f"Holiday {day.date()} added; {moved} deadline(s) moved.")


translate = AppGroup("translate", help="Extract, update and compile the catalogues.")


def pybabel(*args):
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "pybabel"), *args], check=True,
                   cwd=current_app.root_path)


@translate.command("extract")
def translate_extract():
    """Extract messages and update the ar and en catalogues."""
    pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_ngettext:1,2",
            "--ignore-dirs", ".*",  # the default also skips templates/_macros and _partials
            "--no-location", "--sort-output", "-o", "translations/messages.pot", ".")
    pybabel("update", "-i", "translations/messages.pot", "-d", "translations", "--no-fuzzy-matching", "--ignore-obsolete")


@translate.command("compile")
def translate_compile():
    pybabel("compile", "-d", "translations")


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(persons)
    app.cli.add_command(requests_cli)
    app.cli.add_command(drafts)
    app.cli.add_command(staff)
    app.cli.add_command(holidays)
    app.cli.add_command(translate)
