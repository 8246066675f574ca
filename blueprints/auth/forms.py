"""The forms of sign-up, sign-in, the second factor, password reset and the account
page. Password rules follow OWASP ASVS 4.0.3 V2.1: at least 12 characters, not a common
password, no composition rules."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from models import InvalidNumber, User, is_common_password, normalize_digits, parse_id_number
from web.fields import DigitsField

PASSWORD_MIN, PASSWORD_MAX = 12, 128  # characters (ASVS 4.0.3 V2.1.1, V2.1.2); older, shorter ones still sign in


def validate_id_number(form, field):
    try:
        field.data = parse_id_number(field.data)
    except InvalidNumber as error:
        raise ValidationError(str(error)) from None
    if field.data[0] in "34":
        raise ValidationError(
            _l("An account is opened with a national ID or an iqama number, not a border number."))


def validate_code(form, field):
    field.data = normalize_digits(field.data)
    if not re.fullmatch(r"[0-9]{6}", field.data):
        raise ValidationError(_l("The code has 6 digits."))


def validate_second_factor(form, field):
    """A 6-digit code of the app, or a recovery code (12 letters a-f or digits, a dash
    in the middle or not)."""
    code = normalize_digits(field.data).lower()
    if re.fullmatch(r"[0-9a-f]{12}", code):
        code = f"{code[:6]}-{code[6:]}"
    elif not re.fullmatch(r"[0-9]{6}", code):
        raise ValidationError(_l("Enter the 6-digit code from your app, or a recovery code such as 1a2b3c-4d5e6f."))
    field.data = code


def validate_new_password(form, field):
    password = field.data or ""
    username = getattr(form, "username", None)
    if is_common_password(password) or (username and username.data and username.data.lower() in password.lower()):
        raise ValidationError(_l("This password is too easy to guess: choose a longer, less common one."))


def code_field():
    return DigitsField(_l("The code from the SMS"), validators=[DataRequired(_l("Enter the code from the SMS.")),
                                                                 validate_code])


def new_password_fields():
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Choose a password.")),
        Length(PASSWORD_MIN, PASSWORD_MAX, _l("A password has %(min)d to %(max)d characters.",
                                              min=PASSWORD_MIN, max=PASSWORD_MAX)), validate_new_password])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("password", _l("The two passwords are not the same."))])
    return password, confirm


class IdentityForm(FlaskForm):
    """The first step of sign-up and of a password reset."""
    id_number = DigitsField(_l("Your identity number (national ID or iqama)"), validators=[validate_id_number])


class NewAccountForm(FlaskForm):
    password_min = PASSWORD_MIN
    code = code_field()
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Choose a username.")),
        Length(3, 40, _l("A username has 3 to 40 characters.")),
        Regexp(r"^[A-Za-z0-9_.-]+$",
               message=_l("Use Latin letters, digits, dot, dash or underscore in the username."))])
    password, confirm = new_password_fields()

    def validate_username(self, field):
        if User.get_or_none(User.username == field.data):
            raise ValidationError(_l("This username is taken; choose another."))


class NewPasswordForm(FlaskForm):
    password_min = PASSWORD_MIN
    code = code_field()
    password, confirm = new_password_fields()


class ChangePasswordForm(FlaskForm):
    password_min = PASSWORD_MIN
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))])
    password, confirm = new_password_fields()


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class SecondFactorForm(FlaskForm):
    code = DigitsField(_l("The code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(_l("Enter the code.")), validate_second_factor])
