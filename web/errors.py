"""Error pages in the user's language, and the sign-in redirect that htmx understands."""
from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from web.views import is_htmx_fragment_request, is_local_path

MESSAGES = {
    400: (_l("Something in this request was not right"),
          _l("Go back, check the form and send it again.")),
    403: (_l("This page is not for your account"),
          _l("You are signed in, but this page is for the directorate's staff only.")),
    404: (_l("Not found"),
          _l("There is nothing at this address in your account. Check the number or go back to your requests.")),
    405: (_l("This action is not possible here"), _l("Go back and use the buttons on the page.")),
    413: (_l("What you sent is too large"),
          _l("Each document may be at most 5 MB, and at most 5 documents in all. Nothing was sent: "
             "go back, choose smaller files (a photo at lower quality, or a PDF of fewer pages) and try again.")),
    422: (_l("Please check what you entered"), _l("Go back and correct the form.")),
    429: (_l("Too many attempts"),
          _l("Please wait a minute before trying again.")),
    500: (_l("Something went wrong on our side"),
          _l("Nothing you saved is lost. Please try again in a few minutes.")),
}
CSRF_MESSAGE = (_l("This form has expired"),
                _l("For your security the form could not be accepted. Go back, reload the page and send it again."))


def error_page(code, title, message):
    if is_htmx_fragment_request():
        return render_template("errors/_error.html", title=title, message=message), code
    return render_template("errors/error.html", title=title, message=message, code=code), code


def handle(error):
    code = getattr(error, "code", 500) or 500
    title, message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    return error_page(code, title, message)


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
    for code in (400, 403, 404, 405, 413, 422, 429, 500):
        app.register_error_handler(code, handle)
