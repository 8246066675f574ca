"""A first visit paints in one round trip: the rules its first screen needs come inline.

A resident following an SMS link on a slow phone would otherwise wait for
static/css/app.css, a second round trip, before the page shows anything. So a
page sent to a browser that has not got app.css yet carries app.css's "first
screen" rules (between its `/* first screen */` and `/* end of first screen */`
markers) in a <style> in its <head>, and links the whole app.css at the end of
its body, where it blocks nothing above it (templates/base.html); the response
sets the cookie `css` to app.css's version. Later pages, and staff pages, link
app.css in the head as before: the browser keeps it a year, and the inline
rules would cost every page about 1.5 KB compressed.

The <style> is allowed by its sha256 in the Content-Security-Policy (app.CSP),
never by 'unsafe-inline'. Both are computed once, here, from the file."""
import base64
import hashlib
import os
import re

from flask import current_app, has_request_context, request
from flask_login import current_user
from markupsafe import Markup

from web.views import is_htmx_fragment_request

APP_CSS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static", "css", "app.css")
COOKIE = "css"
COOKIE_SECONDS = 365 * 24 * 3600  # as long as a browser keeps app.css (web/static_files.py)


def first_screen_rules(css):
    """The marked rules, without comments and the spaces around braces and semicolons."""
    rules = "".join(re.findall(r"/\* first screen \*/(.*?)/\* end of first screen \*/", css, re.S))
    rules = re.sub(r"/\*.*?\*/", "", rules, flags=re.S)
    rules = re.sub(r"\s+", " ", rules)
    return re.sub(r"\s*([{};])\s*", r"\1", rules).replace(";}", "}").strip()


with open(APP_CSS, encoding="utf-8") as file:
    STYLE = first_screen_rules(file.read())
HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def app_css_version():
    return current_app.extensions["static_files"]["css/app.css"].version


def stylesheet_kept():
    """True when this browser was sent a page since app.css last changed, so it has
    app.css (unless it emptied its cache, when the page waits for it as before)."""
    return request.cookies.get(COOKIE) == app_css_version()


def first_screen_style():
    """For templates/base.html: the inline rules, or None when the browser has app.css.
    Staff pages (the queue's tables and filters) are not in the first-screen rules:
    they wait for app.css, as before, rather than show unstyled tables first."""
    if not has_request_context() or stylesheet_kept() or (current_user.is_authenticated and current_user.is_staff):
        return None
    return Markup(STYLE)


def remember_stylesheet(response):
    """A whole page makes the browser fetch app.css: the next page need not inline it.
    A server error's page sets no cookie (it may come from a portal without its database)."""
    code = response.status_code
    page = response.mimetype == "text/html" and (200 <= code < 300 and code != 204 or 400 <= code < 500)
    if page and not is_htmx_fragment_request() and not stylesheet_kept():
        response.set_cookie(COOKIE, app_css_version(), max_age=COOKIE_SECONDS, secure=request.is_secure,
                            httponly=True, samesite="Lax")
    return response


def init_app(app):
    app.after_request(remember_stylesheet)
    app.jinja_env.globals["first_screen_style"] = first_screen_style
