"""flask staff watch | supervisor | mobile: the watcher that tells staff by SMS of
requests at risk and overdue (models/watcher.py), and who hears what."""
import logging

import click
from flask import current_app

from cli.review import named_supervisor, staff, staff_mobile
from cli.worker import run_until_stopped
from models import User, watch_pass
from models.assignment import assign_waiting


def one_pass(for_log=False):
    """Give out the requests that wait for an officer (an away ended by date, say),
    then tell who must be told: the lines that say what was done."""
    given = assign_waiting()
    return ([f"{given} waiting requests given to officers."] if given else []) + report(*watch_pass(), for_log)


def report(told, unreachable, tomorrow, for_log=False):
    """What a pass did, a line each: for the person at the console, names and the SMS's
    text; for the log (web/logs.py), account ids and the text's length only."""
    def who(user):
        return f"account {user.id}" if for_log else user.username

    def what(text):
        return f"{len(text)} characters" if for_log else text
    lines = [f"SMS to {who(t.user)} ({t.at_risk} at risk, {t.overdue} overdue): {what(t.text)}" for t in told]
    lines += [f"{who(user)} has requests to hear of but no mobile (flask staff mobile)." for user in unreachable]
    lines += [f"{who(user)} had today's SMS already: the rest goes in tomorrow's." for user in tomorrow]
    return lines


@staff.command("watch")
@click.option("--once", is_flag=True, help="One pass: queue what is due now, say what, then stop.")
def watch(once):
    """Give waiting requests to the officers available, and tell staff by SMS of
    requests at risk (their officer) and overdue (the officer's supervisor), once
    each, at most one SMS per person a day; a pass every WATCH_SECONDS. Several
    watchers may run at once (models/watcher.py, models/assignment.py)."""
    if once:
        lines = one_pass()
        click.echo("\n".join(lines) if lines else "Nobody to tell.")
        return
    logger = current_app.logger
    logger.setLevel(logging.INFO)

    def logged_pass(stopping):  # a stop finishes the pass under way
        for line in one_pass(for_log=True):
            logger.info("%s", line)

    run_until_stopped(logged_pass, float(current_app.config["WATCH_SECONDS"]), logger)


@staff.command("supervisor")
@click.argument("username")
@click.argument("supervisor", required=False)
@click.option("--none", "clear", is_flag=True, help="No supervisor of its own: every supervisor is told.")
def set_supervisor(username, supervisor, clear):
    """Name the supervisor told of USERNAME's overdue requests (or --none)."""
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    if clear == bool(supervisor):
        raise click.ClickException("Name a supervisor, or give --none.")
    chief = None if clear else named_supervisor(supervisor)
    if chief is not None and chief.id == user.id:
        raise click.ClickException("Nobody is their own supervisor.")
    user.set_supervisor(chief)
    click.echo(f"{username}'s overdue requests are told to "
               f"{chief.username if chief else 'every supervisor'}.")


@staff.command("mobile")
@click.argument("username")
@click.argument("mobile")
def set_mobile(username, mobile):
    """Set the mobile a staff account gets the watcher's SMS on."""
    user = User.staff_named(username)
    if user is None:
        raise click.ClickException(f"No staff account {username}.")
    user.set_mobile(staff_mobile(mobile))
    click.echo(f"{username}'s mobile is {user.mobile}.")
