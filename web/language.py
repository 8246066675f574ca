"""Which language a page is in: the one chosen in this session, else the account's,
else the browser's (Accept-Language), else Arabic. One rule for the pages (app.py's
locale selector) and for the unchanged-poll fast path (web/fastpoll.py)."""
LANGUAGES = ("ar", "en")


def choose(session_language, account_language, accept_languages):
    if session_language in LANGUAGES:
        return session_language
    if account_language in LANGUAGES:
        return account_language
    return accept_languages.best_match(LANGUAGES) or "ar"
