"""Form fields that take digits. Every one of them reads Arabic-Indic and Persian
digits as ASCII before anything else looks at the value: the one normalising step
for identity and request numbers, codes, recovery codes, searches and dates."""
import wtforms
from markupsafe import Markup, escape
from wtforms import DateField, StringField
from wtforms.widgets import Select

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


class QuickSelect(Select):
    """WTForms' <select>, each plain option written at once: the same HTML, without
    the general attribute writer (html_params) and the signature check WTForms makes
    on every call; a tenth of the queue page's time went to its filters' options."""

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')


class SelectField(wtforms.SelectField):
    widget = QuickSelect()
