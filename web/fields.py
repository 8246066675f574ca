"""Form fields that take digits. Every one of them reads Arabic-Indic and Persian
digits as ASCII before anything else looks at the value: the one normalising step
for identity and request numbers, codes, recovery codes, searches and dates."""
from wtforms import DateField, StringField

from models import latin_digits


class LatinDigits:
    """Mixed into a field: what was typed, with ٠-٩ and ۰-۹ read as 0-9 and the
    surrounding spaces gone, before the field parses or validates it."""

    def process_formdata(self, valuelist):
        super().process_formdata([latin_digits(value).strip() if isinstance(value, str) else value
                                  for value in valuelist])


class DigitsField(LatinDigits, StringField):
    """A number or a code typed as text."""


class DigitsDateField(LatinDigits, DateField):
    """A date typed (or picked) as YYYY-MM-DD."""
