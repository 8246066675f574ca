"""Helpers every blueprint uses: page-or-fragment rendering, role checks, dates."""
from io import BytesIO
from functools import wraps

from babel import Locale
from flask import abort, make_response, render_template, request, send_file
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from hijridate import Gregorian

from models import Document


def is_htmx_fragment_request():
    """True for an htmx request that wants a fragment; boosted and history-restore
    requests need the whole page (htmx docs)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Boosted") != "true"
            and headers.get("HX-History-Restore-Request") != "true")


def render(page, fragment, status=200, **context):
    """The whole page for a normal request, only the fragment for htmx."""
    template = fragment if is_htmx_fragment_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def shown_version_is(version):
    """True when a poller says it already shows `version` (header X-Shown-Version)."""
    return request.headers.get("X-Shown-Version") == version


def unchanged():
    """The answer to a poll when nothing changed: an empty 204, no Content-Type.
    htmx 4 does not swap a 204, so the page is left as it is."""
    response = make_response("", 204)
    del response.headers["Content-Type"]
    return response


MAX_ID = 2 ** 63  # no larger id exists, and SQLite refuses to compare with one


def document_or_404(service_request, document_id):
    found = document_id < MAX_ID and Document.get_or_none(
        (Document.id == document_id) & (Document.request == service_request))
    if not found:
        abort(404)
    return found


def send_document(document, inline=False):
    """A stored document: never sniffed, never cached, inside a sandbox. Residents
    download it (attachment); staff open it in the browser (inline)."""
    response = send_file(BytesIO(document.data), mimetype=document.content_type, as_attachment=not inline,
                         download_name=document.name, etag=document.sha256, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    return response


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def hijri_date(day):
    """Umm al-Qura date, e.g. '5 رمضان 1448 هـ', in the current language."""
    lang = "ar" if get_locale().language == "ar" else "en"
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except OverflowError:
        return ""
    return f"{hijri.day} {hijri.month_name(lang)} {hijri.year} {hijri.notation(lang)}"


def format_day(day):
    """A calendar date in both calendars: '7 December 2026 (27 Jumada II 1448 AH)'."""
    return f"{format_date(day, 'long')} ({hijri_date(day)})"


def format_moment(moment):
    """A naive UTC datetime, shown in Riyadh time (BABEL_DEFAULT_TIMEZONE)."""
    return format_datetime(moment, "d MMM y, HH:mm")


def format_hours(hours):
    """A time to decision: '5 h' under two days, else '3.5 days'."""
    if hours is None:
        return "–"
    if hours < 48:
        return _("%(hours)s h", hours=format_decimal(round(hours)))
    return _("%(days)s days", days=format_decimal(round(hours / 24, 1)))


def format_filesize(size):
    """'340 KB' or '1.2 MB' in the user's language."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))
    return _("%(size)s MB", size=format_decimal(round(size / 1024 / 1024, 1)))


# Nationalities offered at registration and accepted by the registry import
# (ISO 3166-1 alpha-2; names come from CLDR in the user's language).
NATIONALITIES = ("SA", "YE", "SY", "EG", "JO", "SD", "IN", "PK", "BD", "PH", "ID", "LK", "NP",
                 "ET", "KE", "UG", "AF", "MM", "NG", "TR", "US", "GB")


def nationality_name(code, locale=None):
    return Locale.parse(str(locale or get_locale())).territories.get(code, code)


def nationality_choices():
    return [(code, nationality_name(code)) for code in NATIONALITIES]
