"""Register, sign in and out, and the language switch."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth.forms import LoginForm, RegisterForm
from models import User, UsernameTaken
from web.extensions import limiter
from web.views import safe_next

bp = Blueprint("auth", __name__, template_folder="../../templates")


def start_session(user):
    """Sign in. Flask-Login's session-protection hash (`_id`, 128 characters) is
    dropped: protection is off, and every poll would carry it in the cookie."""
    login_user(user)
    session.pop("_id", None)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = User.register(form.username.data, form.full_name.data, form.id_number.data,
                                 form.nationality.data, form.password.data, locale=session.get("lang"))
        except UsernameTaken:  # taken a moment ago, between the check and the save
            form.username.errors.append(_("This username is taken; choose another."))
            return render_template("auth/register.html", form=form), 422
        start_session(user)
        return redirect(url_for("requests.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("requests.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    user = User.get_or_none(User.username == form.username.data.strip())
    error = sign_in_error(user, form.password.data)
    if error:
        form.password.errors.append(error)
        return render_template("auth/login.html", form=form), 422
    User.record_login(user.id)
    start_session(user)
    if user.locale and "lang" not in session:
        session["lang"] = user.locale
    return redirect(safe_next(url_for("home.index")), 303)


def sign_in_error(user, password):
    """The message to show, or None when the password is right and the account open."""
    wrong = _("The username or the password is wrong.")
    if user is None:
        return wrong
    minutes = user.locked_minutes_left()
    if minutes:
        return ngettext("Too many wrong passwords: this account is locked. Try again in %(num)d minute.",
                        "Too many wrong passwords: this account is locked. Try again in %(num)d minutes.",
                        minutes)
    if not user.is_active:
        return _("This account has been disabled. Contact the directorate.")
    if not user.check_password(password):
        User.record_failed_login(user.id)
        if User.get_by_id(user.id).locked_minutes_left():
            return _("Too many wrong passwords: this account is locked for 15 minutes.")
        return wrong
    return None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"), 303)


@bp.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang")
    if lang in ("ar", "en"):
        session["lang"] = lang
        if current_user.is_authenticated:
            User.update(locale=lang).where(User.id == current_user.id).execute()
    return redirect(safe_next(url_for("home.index")), 303)
