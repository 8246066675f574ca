"""Pure domain rules, no database: digits, Luhn check digits, identity and request
numbers, working days, and what an uploaded file really is."""
import datetime as dt
import functools
import os
import re
import secrets

from flask_babel import lazy_gettext as _l

WEEKEND = {4, 5}  # Friday and Saturday (Monday is 0)


def is_working_day(day, closed_days=()):
    return day.weekday() not in WEEKEND and day not in closed_days


def add_working_days(start, days, closed_days=()):
    """The date `days` working days (Sunday to Thursday, not closed days) after `start`."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current, closed_days):
            days -= 1
    return current


def working_days_between(start, end, closed_days=()):
    """Working days after `start` up to and including `end`."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, closed_days):
            count += 1
    return count


# ---------------------------------------------------------------- numbers

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def latin_digits(raw):
    """Arabic-Indic (٠-٩) and Persian (۰-۹) digits as ASCII digits, as an Arabic
    phone keyboard types them; nothing else changed."""
    return (raw or "").translate(_DIGITS)


def normalize_digits(raw):
    """Arabic-Indic and Persian digits to ASCII, spaces and dashes removed."""
    return re.sub(r"[\s\-]", "", latin_digits(raw))


def luhn_sum(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total


def luhn_valid(digits):
    return luhn_sum(digits) % 10 == 0


def luhn_digit(payload):
    """The check digit that makes payload + digit pass the Luhn test."""
    return str((10 - luhn_sum(payload + "0") % 10) % 10)


ID_TYPES = {
    "1": "national_id",
    "2": "iqama",
    "3": "border",
    "4": "border",
}
ID_TYPE_LABELS = {
    "national_id": _l("National ID"),
    "iqama": _l("Iqama (resident ID)"),
    "border": _l("Border number"),
}


class InvalidNumber(ValueError):
    """A number a person typed that cannot be right; str() is the reason, translated."""


def parse_id_number(raw):
    """Return the normalised identity number or raise InvalidNumber saying what is wrong."""
    number = normalize_digits(raw)
    if not number:
        raise InvalidNumber(_l("Enter the identity number."))
    if not re.fullmatch(r"[0-9]+", number):
        raise InvalidNumber(_l("An identity number has digits only."))
    if len(number) != 10:
        raise InvalidNumber(_l("An identity number has exactly 10 digits; this one has %(count)d.",
                               count=len(number)))
    if number[0] not in ID_TYPES:
        raise InvalidNumber(_l("An identity number starts with 1 (national ID), 2 (iqama) "
                               "or 3 or 4 (border number)."))
    if number[0] in "12" and not luhn_valid(number):
        raise InvalidNumber(_l("This identity number is not valid: check each digit again."))
    return number


def parse_mobile(raw):
    """A Saudi mobile number (05XXXXXXXX, 5XXXXXXXX, +9665XXXXXXXX or 009665XXXXXXXX)
    in E.164 (+9665XXXXXXXX), or raise InvalidNumber saying what is wrong."""
    number = normalize_digits(raw).replace("(", "").replace(")", "")
    if not number:
        raise InvalidNumber(_l("Enter the mobile number."))
    national = re.sub(r"^(\+966|00966|966|0)", "", number)
    if not re.fullmatch(r"5[0-9]{8}", national):
        raise InvalidNumber(_l("A Saudi mobile number looks like 05XXXXXXXX (10 digits starting with 05)."))
    return "+966" + national


@functools.cache
def common_passwords():
    """The 30,000 most common passwords (zxcvbn's list, from leaked password sets)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common_password(password):
    """True for a password on the common list (ignoring case and trailing digits
    or punctuation) or one character repeated: the first guesses of any attacker."""
    lowered = password.lower()
    stem = lowered.rstrip("0123456789!@#$%^&*.?")
    return len(set(lowered)) <= 2 or len(stem) < 3 or lowered in common_passwords() or stem in common_passwords()


def mask_mobile(mobile):
    """+966512345634 shown as +966 5• ••• ••34: enough to recognise, too little to use."""
    return f"{mobile[:4]} {mobile[4]}• ••• ••{mobile[-2:]}"


REQUEST_NUMBER_LENGTH = 9


def new_request_number():
    payload = str(secrets.randbelow(9 * 10 ** 7) + 10 ** 7)  # 8 digits, no leading zero
    return payload + luhn_digit(payload)


def parse_request_number(raw):
    """Return the normalised request number or raise InvalidNumber before any lookup."""
    number = normalize_digits(raw)
    if not number:
        raise InvalidNumber(_l("Enter the request number."))
    if not re.fullmatch(r"[0-9]+", number):
        raise InvalidNumber(_l("A request number has digits only."))
    if len(number) != REQUEST_NUMBER_LENGTH:
        raise InvalidNumber(_l("A request number has exactly %(length)d digits; this one has %(count)d.",
                               length=REQUEST_NUMBER_LENGTH, count=len(number)))
    if not luhn_valid(number):
        raise InvalidNumber(_l("This request number has a typo: check each digit again."))
    return number


# ---------------------------------------------------------------- uploaded files

SIGNATURES = (  # what a file starts with -> (content type, usual extensions)
    (b"%PDF-", ("application/pdf", (".pdf",))),
    (b"\xff\xd8\xff", ("image/jpeg", (".jpg", ".jpeg"))),
    (b"\x89PNG\r\n\x1a\n", ("image/png", (".png",))),
)


def sniff(data):
    """(content type, extensions) recognised from the bytes, or None."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def clean_filename(name, extensions):
    """A display-safe base name that ends with an extension of the real content."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip(" .")[:100] or "document"
    if os.path.splitext(base)[1].lower() not in extensions:
        base += extensions[0]
    return base
