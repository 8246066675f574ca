"""Error pages in the user's language, and the sign-in redirect that htmx understands.
A database (or session store) that does not answer is a 503 with Retry-After, not a 500."""
from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from peewee import InterfaceError, OperationalError

from web.extensions import login_manager
from web.formatting import format_filesize
from web.logs import current_request_id
from web.metrics import count_sign_in_refused, count_unavailable
from web.sessions import StoreUnavailable
from web.views import is_htmx_fragment_request, is_local_path

# peewee raises these for its drivers' errors too (sqlite3's, psycopg2's): a server
# that cannot be reached, a connection lost, a database file that cannot be opened.
UNAVAILABLE = (OperationalError, InterfaceError, StoreUnavailable)


def too_large_message():
    """The limits on documents, from the configuration."""
    config = current_app.config
    return ngettext("Each document may be at most %(size)s, and at most %(num)d document in all. Nothing was "
                    "sent: go back, choose smaller files (a photo at lower quality, or a PDF of fewer pages) "
                    "and try again.",
                    "Each document may be at most %(size)s, and at most %(num)d documents in all. Nothing was "
                    "sent: go back, choose smaller files (a photo at lower quality, or a PDF of fewer pages) "
                    "and try again.",
                    config["MAX_DOCUMENTS"], size=format_filesize(config["MAX_DOCUMENT_BYTES"]))


RETRY_AFTER_SECONDS = 5

MESSAGES = {
    400: (_l("Something in this request was not right"),
          _l("Go back, check the form and send it again.")),
    403: (_l("This page is not for your account"),
          _l("You are signed in, but this page is for the directorate's staff only.")),
    404: (_l("Not found"),
          _l("There is nothing at this address in your account. Check the number or go back to your requests.")),
    405: (_l("This action is not possible here"), _l("Go back and use the buttons on the page.")),
    413: (_l("What you sent is too large"), too_large_message),  # its limits are the configuration's
    422: (_l("Please check what you entered"), _l("Go back and correct the form.")),
    429: (_l("Too many attempts"),
          _l("Please wait a minute before trying again.")),
    500: (_l("Something went wrong on our side"),
          _l("Nothing you saved is lost. Please try again in a few minutes.")),
    503: (_l("The service is unavailable for a moment"),
          _l("We cannot reach our records right now. Nothing you saved is lost. "
             "Please try again in a few seconds.")),
}
CSRF_MESSAGE = (_l("This form has expired"),
                _l("For your security the form could not be accepted. Go back, reload the page and send it again."))


def error_page(code, title, message):
    # A server-side failure shows the request's id, which the log carries: a resident can quote it.
    reference = current_request_id() if code >= 500 else None
    if is_htmx_fragment_request():
        return render_template("errors/_error.html", title=title, message=message, reference=reference), code
    return render_template("errors/error.html", title=title, message=message, code=code, reference=reference), code


def handle(error):
    if isinstance(getattr(error, "original_exception", None), UNAVAILABLE):
        return handle_unavailable(error.original_exception)  # raised outside a view
    code = getattr(error, "code", 500) or 500
    if code == 429:  # only the rate limiter raises it (the sign-in and code steps)
        count_sign_in_refused("rate_limited")
    title, message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    return error_page(code, title, message() if callable(message) else message)


def handle_too_large(error):
    """413 only for a body over MAX_CONTENT_LENGTH: too many or too large documents,
    as its page says. Werkzeug raises the same error for a text field over
    MAX_FORM_MEMORY_SIZE (no field of ours comes near it) and for too many parts:
    a form no page of ours sends, answered as any malformed request is (400)."""
    limit, length = current_app.config["MAX_CONTENT_LENGTH"], request.content_length
    if limit is not None and length is not None and length <= limit:
        return error_page(400, *MESSAGES[400])
    return handle(error)


def handle_unavailable(error):
    """The database did not answer: 503 and when to try again. The page is drawn for
    a visitor who is not signed in, so drawing it asks the database nothing."""
    current_app.logger.error("Database unavailable: %s: %s", type(error).__name__, str(error).split("\n")[0][:200])
    count_unavailable(unavailable_service(error))
    login_manager._update_request_context_with_user()  # anonymous, without the user loader
    body, code = error_page(503, *MESSAGES[503])
    return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def unavailable_service(error):
    """Which service did not answer: Redis (sessions kept there), else the database."""
    cause = error.__cause__ if isinstance(error, StoreUnavailable) else error
    return "redis" if type(cause).__module__.split(".")[0] == "redis" else "database"


def handle_csrf(error):
    return error_page(400, *CSRF_MESSAGE)


def unauthorized():
    """Anonymous visitors go to the sign-in page; an htmx call gets a 401 with
    HX-Redirect, so the sign-in page is never swapped into a panel."""
    here = request.full_path.rstrip("?")
    login_url = url_for("auth.login", next=here if is_local_path(here) else None)
    if request.headers.get("HX-Request") == "true":
        return "", 401, {"HX-Redirect": login_url}
    return redirect(login_url)


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf)
    for exception in UNAVAILABLE:
        app.register_error_handler(exception, handle_unavailable)
    for code in (400, 403, 404, 405, 422, 429, 500):
        app.register_error_handler(code, handle)
    app.register_error_handler(413, handle_too_large)
