"""How dates, durations, sizes and nationalities read, in the user's language
(the Jinja filters registered by app.py)."""
from babel import Locale
from babel.lists import format_list
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from hijridate import Gregorian

from models import ID_TYPE_LABELS


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


def eligibility_rule(service):
    """Who may apply for `service`, as one sentence in the user's language, or None
    when anyone linked to the account may."""
    locale = get_locale()
    if service.nationality_rule:
        return _("Only for nationals of %(countries)s.",
                 countries=format_list([nationality_name(c) for c in service.nationality_rule], style="or",
                                       locale=locale))
    if service.id_type_rule:
        return _("Only for holders of: %(types)s.",
                 types=format_list([str(ID_TYPE_LABELS[t]) for t in service.id_type_rule], style="or",
                                   locale=locale))
    return None
