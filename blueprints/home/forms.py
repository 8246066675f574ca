from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from models import InvalidNumber, parse_request_number
from web.fields import DigitsField


class InquiryForm(FlaskForm):
    """A read-only lookup sent with GET, so it needs no CSRF token."""
    class Meta:
        csrf = False

    number = DigitsField(_l("Request number"))

    def validate_number(self, field):
        try:
            field.data = parse_request_number(field.data)
        except InvalidNumber as error:
            raise ValidationError(str(error)) from None
