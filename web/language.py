"""Which language a page is in: the one chosen in this session, else the account's,
else the browser's (Accept-Language), else Arabic. One rule for the pages (app.py's
locale selector) and for the unchanged-poll fast path (web/fastpoll.py)."""
from flask import g, request, url_for
from flask_babel import get_translations
from jinja2.ext import _make_new_gettext, _make_new_ngettext

LANGUAGES = ("ar", "en")


def choose(session_language, account_language, accept_languages):
    if session_language in LANGUAGES:
        return session_language
    if account_language in LANGUAGES:
        return account_language
    return accept_languages.best_match(LANGUAGES) or "ar"


def template_translators():
    """`gettext` and `ngettext` for one page, bound to its translations once: the
    ones Flask-Babel installs look the locale and catalogue up again for every
    string (a tenth of the request page's time). Same behaviour: Jinja's i18n
    wrappers (autoescape, %-variables, `num`)."""
    translations = get_translations()
    return {"gettext": _make_new_gettext(translations.ugettext),
            "ngettext": _make_new_ngettext(translations.ungettext)}


class Translated(dict):
    """Labels (lazy strings) as one page reads them: each translated on its first
    use, then kept for the page (a lazy string looks its catalogue up again each
    time it is shown: fifty times in the queue)."""

    def __init__(self, labels):
        super().__init__()
        self.labels = labels

    def __missing__(self, key):
        value = self[key] = str(self.labels[key])
        return value


def return_address():
    """Where the language switch brings the visitor back to: this page. A page
    shown after a POST comes back by the address that shows it with GET (the view
    may name it in `g.page_url`), or the home page when there is none."""
    if request.method in ("GET", "HEAD"):
        return request.full_path
    if "page_url" in g:
        return g.page_url
    rule = request.url_rule
    if rule is not None and "GET" in rule.methods and not rule.arguments - set(request.view_args or {}):
        return url_for(request.endpoint, **(request.view_args or {}))
    return ""
