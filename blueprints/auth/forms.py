"""The sign-up and sign-in forms."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from models import InvalidNumber, User, parse_id_number
from web.formatting import nationality_choices


def validate_id_number(form, field):
    try:
        field.data = parse_id_number(field.data)
    except InvalidNumber as error:
        raise ValidationError(str(error)) from None


def validate_password_rules(form, field):
    password = field.data or ""
    if not (re.search(r"[^\W\d_]", password) and re.search(r"\d", password)):
        raise ValidationError(_l("Use letters and at least one digit in the password."))
    if form.username.data and form.username.data.lower() in password.lower():
        raise ValidationError(_l("The password must not contain the username."))


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Choose a username.")),
        Length(3, 40, _l("A username has 3 to 40 characters.")),
        Regexp(r"^[A-Za-z0-9_.-]+$",
               message=_l("Use Latin letters, digits, dot, dash or underscore in the username."))])
    full_name = StringField(_l("Full name"), validators=[
        DataRequired(_l("Enter your full name.")), Length(max=120, message=_l("At most 120 characters."))])
    id_number = StringField(_l("Your identity number (national ID or iqama)"),
                            validators=[validate_id_number])
    nationality = SelectField(_l("Nationality"), default="SA")
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(10, 200, _l("The password needs at least 10 characters.")), validate_password_rules])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.nationality.choices = nationality_choices()

    def validate_username(self, field):
        if User.get_or_none(User.username == field.data):
            raise ValidationError(_l("This username is taken; choose another."))

    def validate_id_number(self, field):
        if field.data and field.data[0] in "34":
            raise ValidationError(
                _l("An account is opened with a national ID or an iqama number, not a border number."))
        if field.data and User.get_or_none(User.id_number == field.data):
            raise ValidationError(_l("An account already exists for this identity number. Sign in instead."))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
