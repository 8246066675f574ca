"""How dates, durations, sizes and nationalities read, in the user's language
(the Jinja filters registered by app.py)."""
import datetime as dt
from functools import lru_cache

from babel import Locale
from babel.lists import format_list
from flask_babel import force_locale, format_date, format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from hijridate import Gregorian, Hijri
from markupsafe import Markup, escape

from models import ID_TYPE_LABELS, RETURNED, STATUS_LABELS
from models.clock import RIYADH

# One date style in both languages: '2 Dec 2026' and '2 ديسمبر 2026' (Latin digits, as
# Babel writes them), a 24-hour Riyadh time, and the Umm al-Qura date in brackets.
DATE_PATTERN = "d MMM y"


def arabic():
    return get_locale().language == "ar"


def hijri_date(day):
    """Umm al-Qura date, e.g. '5 رمضان 1448 هـ', in the current language ('' out of range)."""
    return hijri_date_in(day, "ar" if arabic() else "en")


def hijri_date_in(day, lang):
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    except OverflowError:
        return ""
    return f"{hijri.day} {hijri.month_name(lang)} {hijri.year} {hijri.notation(lang)}"


def month_label(month, calendar):
    """A (year, month) of the Hijri or Gregorian calendar, in the current language:
    'جمادى الآخرة 1448 هـ', 'Jumada al-Akhirah 1448 AH', 'ديسمبر 2026', 'December 2026'."""
    year, number = month
    if calendar == "hijri":
        lang = "ar" if arabic() else "en"
        hijri = Hijri(year, number, 1)
        return f"{hijri.month_name(lang)} {year} {hijri.notation(lang)}"
    return format_date(dt.date(year, number, 1), "MMMM y")


def both_calendars(gregorian, hijri):
    return f"{gregorian} ({hijri})" if hijri else gregorian


@lru_cache(maxsize=4096)
def day_in(day, locale):
    """(Gregorian, Umm al-Qura) texts of a day in `locale`, kept: a conversion that
    depends on nothing else, and a page shows the same few days many times (the
    queue's deadlines, a timeline's events)."""
    with force_locale(locale):
        return format_date(day, DATE_PATTERN), hijri_date_in(day, Locale.parse(locale).language)


def riyadh(moment):
    """A naive UTC datetime (how timestamps are stored) as an aware Riyadh one."""
    return moment.replace(tzinfo=dt.UTC).astimezone(RIYADH)


def day_text(day):
    """A calendar date in both calendars, as plain text:
    '7 Dec 2026 (27 Jumada al-Akhirah 1448 AH)' or '7 ديسمبر 2026 (27 جمادى الآخرة 1448 هـ)'."""
    return day_text_in(day, str(get_locale()))


def day_text_in(day, locale):
    return both_calendars(*day_in(day, locale))


def moment_text(moment):
    """A naive UTC datetime in Riyadh time and both calendars, as plain text:
    '26 نوفمبر 2026، 01:38 (16 جمادى الآخرة 1448 هـ)' (the Arabic comma in Arabic)."""
    return moment_text_in(riyadh(moment), get_locale())


def moment_text_in(local, locale):
    gregorian, hijri = day_in(local.date(), str(locale))
    comma = "، " if locale.language == "ar" else ", "
    return both_calendars(f"{gregorian}{comma}{local:%H:%M}", hijri)


@lru_cache(maxsize=4096)
def day_element(day, locale):
    return Markup(f'<time datetime="{day.isoformat()}">{escape(day_text_in(day, locale))}</time>')


def format_day(day):
    """The `day` filter: <time datetime="2026-12-07">…both calendars…</time>."""
    return day_element(day, str(get_locale()))


def format_moment(moment):
    """The `moment` filter: <time datetime="2026-11-26T01:38+03:00">…</time>, Riyadh time."""
    local = riyadh(moment)
    stamp = local.isoformat(timespec="minutes")
    return Markup(f'<time datetime="{stamp}">{escape(moment_text_in(local, get_locale()))}</time>')


def deadline(service_request, today):
    """The `deadline` filter: where a request stands against its deadline on `today`,
    as the queue and an officer's request page show it: '3 days left', 'Due today',
    '2 days overdue', paused while it waits on the resident, or its decision."""
    if service_request.is_final:
        return escape(str(STATUS_LABELS[service_request.status]))
    days = None if service_request.status == RETURNED else service_request.days_left(today)
    return deadline_words(days, str(get_locale()))


@lru_cache(maxsize=1024)
def deadline_words(days, locale):
    """deadline's words for `days` left (None: paused), kept: fifty rows of the queue
    say a handful of different things."""
    with force_locale(locale):
        if days is None:
            return Markup('<span class="paused">{}</span>').format(_("Paused: waiting on the resident"))
        if days < 0:
            return Markup('<strong class="overdue">{}</strong>').format(
                ngettext("%(num)d day overdue", "%(num)d days overdue", -days))
        if days == 0:
            return Markup('<strong class="due-today">{}</strong>').format(_("Due today"))
        return escape(ngettext("%(num)d day left", "%(num)d days left", days))


def format_days(days):
    """The `days` filter: a number of calendar days, '1 day', '12 days' (the queue's ages)."""
    return days_words(days, str(get_locale()))


@lru_cache(maxsize=1024)
def days_words(days, locale):
    with force_locale(locale):
        return ngettext("%(num)d day", "%(num)d days", days)


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
