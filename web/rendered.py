"""HTML rendered once per worker and served again while nothing it shows changed.

The key names everything the HTML shows (a request's version, the language ...),
so a hit can never be stale: a change makes a new key, and the old entry ages out
of the LRU. Each worker keeps its own; with several app servers each renders a
page once. Forms in the HTML get the session's CSRF token as each response is
sent: the cached HTML holds a placeholder no visitor can type or guess."""
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager

from flask import after_this_request, current_app, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from web.first_screen import stylesheet_kept
from web.metrics import count_kept_page

TOKEN_FIELD = "csrf_token"  # Flask-WTF keeps the request's signed token in g under this name


class RenderedCache:
    """At most `size` kept pages, the least recently used dropped first; size 0
    keeps none (every call renders)."""

    def __init__(self, size):
        self.size = size
        self.kept = OrderedDict()
        self.lock = threading.Lock()  # sync workers (the Procfile) need none; threaded servers (tests, dev) do
        self.placeholder = f"csrf-{secrets.token_hex(16)}"

    def get(self, key):
        with self.lock:
            html = self.kept.get(key)
            if html is not None:
                self.kept.move_to_end(key)
            return html

    def put(self, key, html):
        if not self.size:
            return
        with self.lock:
            self.kept[key] = html
            self.kept.move_to_end(key)
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)

    @contextmanager
    def token_placeholder(self):
        """Forms built and rendered inside carry the placeholder for a token."""
        saved = g.pop(TOKEN_FIELD, None)
        setattr(g, TOKEN_FIELD, self.placeholder)
        try:
            yield
        finally:
            g.pop(TOKEN_FIELD, None)
            if saved is not None:
                setattr(g, TOKEN_FIELD, saved)


def init_app(app):
    app.extensions["rendered"] = RenderedCache(app.config["RENDERED_CACHE_SIZE"])


def rendered_once(key, render):
    """`render()`'s HTML for `key`, rendered on the first call in this worker, with
    this session's CSRF token in its forms. A page drawn for a browser without
    app.css (web/first_screen.py) is another page."""
    cache = current_app.extensions["rendered"]
    key = (key, stylesheet_kept())
    html = cache.get(key)
    count_kept_page(html is not None)
    if current_app.config["SERVER_TIMING"]:
        tell_timing("rendered" if html is None else "kept")
    if html is None:
        with cache.token_placeholder():
            html = render()
        cache.put(key, html)
    if cache.placeholder in html:
        html = html.replace(cache.placeholder, generate_csrf())
    return Markup(html)


def tell_timing(how):
    """This response says whether its page was kept or rendered (SERVER_TIMING)."""
    @after_this_request
    def add_header(response):
        response.headers.add("Server-Timing", f'page;desc="{how}"')
        return response
