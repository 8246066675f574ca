"""Which language a page is in: the one chosen in this session, else the account's,
else the browser's (Accept-Language), else Arabic. One rule for the pages (app.py's
locale selector) and for the unchanged-poll fast path (web/fastpoll.py)."""
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
