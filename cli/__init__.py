"""Command-line tools (`flask --app app ...`), one module per area; app.py calls
init_app to register them."""
from cli import database, drafts, holidays, notices, registry, review, sessions, translate, watch  # noqa: F401 (watch: commands of `staff`)


def init_app(app):
    for command in (database.db, database.init_db, registry.persons, review.requests_cli, review.staff,
                    holidays.holidays, drafts.drafts, notices.notices, sessions.sessions, translate.translate):
        app.cli.add_command(command)
