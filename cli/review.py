"""flask requests set-status and flask staff create | disable: the review, by hand."""
import click
from flask.cli import AppGroup

from models import STATUSES, ActionRefused, InvalidNumber, ServiceRequest, User, parse_request_number

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
@click.password_option(help="Asked for when not given; also read from standard input.")
def create_staff(username, role, full_name, password):
    """Create a staff account."""
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")
    if User.get_or_none(User.username == username):
        raise click.ClickException(f"The username {username} is taken.")
    User.create_staff(username, role, full_name, password)
    click.echo(f"Created {role} {username}.")


@staff.command("disable")
@click.argument("username")
def disable_staff(username):
    """Disable a staff account: no sign-in, and its open sessions stop working."""
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    user.disable()
    released = ServiceRequest.release_held_by(user)
    click.echo(f"Disabled {username}; {released} request(s) back in the queue.")
