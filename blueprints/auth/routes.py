"""Sign-up and password reset proven by a one-time code to the registry's mobile,
sign-in (with a second factor for staff), sign-out, the account page and the
language switch. Nothing here tells a stranger whether an account exists: the same
message and the same work for every case."""
import contextlib
import datetime as dt
import secrets

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.auth.forms import (
    ChangePasswordForm,
    IdentityForm,
    LoginForm,
    NewAccountForm,
    NewPasswordForm,
    SecondFactorForm,
)
from models import (
    CodeNotSent,
    Notice,
    OneTimeCode,
    Person,
    RecoveryCode,
    SignInFailure,
    User,
    UsernameTaken,
    mask_mobile,
    utcnow,
    write_transaction,
)
from web.extensions import limiter
from web.sessions import end_sessions_of
from web.views import client_network, safe_next

bp = Blueprint("auth", __name__, template_folder="../../templates")

# Checked when the username is unknown, so that answer costs what a wrong password costs.
DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))
SECOND_FACTOR_WINDOW = dt.timedelta(minutes=5)
# The code step from every address together: whoever reaches it knows the password, so
# new addresses must not buy new guesses (each address has its own SIGN_IN_TRIES too).
ANY_ADDRESS, CODE_STEP_TRIES = "*", 10


def login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def codes_limit():
    return current_app.config["RATELIMIT_CODES"]


def sign_in_failed():
    return _("Sign-in failed: the username or the password is wrong, or there were too many wrong tries "
             "from this device (then wait a few minutes, or choose a new password).")


def start_session(user):
    """Sign in on a new session id. Flask-Login's session-protection hash (`_id`)
    is dropped: protection is off, and the data stays small."""
    lang = session.get("lang") or user.locale
    session.clear()
    session.regenerate()
    login_user(user)
    session.pop("_id", None)
    session["_staff"] = user.is_staff
    if lang:
        session["lang"] = lang


def end_session():
    logout_user()
    session.clear()


# ------------------------------------------------------------------ sign-in

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("requests.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    user = password_holder(form.username.data.strip(), form.password.data)
    if user is None:
        form.password.errors.append(sign_in_failed())
        return render_template("auth/login.html", form=form), 422
    next_page = safe_next(url_for("home.index"))
    if user.is_staff:  # a new session id, bound to this password: a planted cookie learns nothing
        session.regenerate()
        session["second_factor"] = [user.id, utcnow().isoformat(), user.password_hash[-16:]]
        return redirect(url_for("auth.second_factor", next=next_page), 303)
    start_session(user)
    return redirect(next_page, 303)


def password_holder(username, password):
    """The open account whose password this is, or None. The tries of one username
    from one address are counted before the password is checked, in the UPDATE that
    checks the pause; unknown users cost one hash too; a disabled account is only
    looked at after its password."""
    user = User.get_or_none(User.username == username)
    address = client_network()
    allowed = SignInFailure.take_try(username, address)
    right = check_password_hash(user.password_hash if user else DUMMY_HASH, password)
    if allowed and right and user and user.is_active:
        SignInFailure.forgive(username, address)
        return user
    if allowed and not right:
        SignInFailure.pause_if_spent(username, address)
    return None


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303)
def second_factor():
    """Staff: the second step, a TOTP code (or a recovery code) after the password."""
    user = pending_staff()
    if user is None:
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return second_factor_page(user, form, 422 if form.is_submitted() else 200)
    key, address = user.username + "\x1f2", client_network()
    allowed = SignInFailure.take_try(key, address) and SignInFailure.take_try(key, ANY_ADDRESS, CODE_STEP_TRIES)
    if allowed and (user.verify_totp(form.code.data) or RecoveryCode.use(user, form.code.data)):
        SignInFailure.forgive(key, address)
        SignInFailure.forgive(key, ANY_ADDRESS)
        start_session(user)
        return redirect(safe_next(url_for("staff.queue")), 303)
    if allowed:
        SignInFailure.pause_if_spent(key, address)
        SignInFailure.pause_if_spent(key, ANY_ADDRESS, CODE_STEP_TRIES)
    form.code.errors.append(_("This code is wrong or was used already. Try the next code of your app."))
    return second_factor_page(user, form, 422)


def second_factor_page(user, form, status):
    """The code step; it says so when an account from before second factors has no app yet."""
    return render_template("auth/second_factor.html", form=form, unset=not user.totp_secret), status


def pending_staff():
    """The staff member whose password was right a moment ago in this session."""
    pending = session.get("second_factor")
    if not pending:
        return None
    user_id, since, password_tail = pending
    if utcnow() - dt.datetime.fromisoformat(since) > SECOND_FACTOR_WINDOW:
        session.pop("second_factor")
        return None
    user = User.get_or_none(User.id == user_id)
    if user and user.is_active and user.is_staff and user.password_hash[-16:] == password_tail:
        return user
    return None  # disabled, or the password changed since


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session()
    return redirect(url_for("auth.login"), 303)


# ------------------------------------------------------------------ codes by SMS

CODE_STEPS = {"signup": ("auth/register.html", "auth.register_code"),
              "reset": ("auth/reset.html", "auth.reset_code")}


def ask_for_code(purpose):
    """The first step of sign-up and reset: the identity number. A number the
    registry holds with a mobile gets a code there, whether or not it has an
    account (the SMS tells an owner what happened): the same page either way."""
    template, next_step = CODE_STEPS[purpose]
    form = IdentityForm()
    if not form.validate_on_submit():
        return render_template(template, form=form), 422 if form.is_submitted() else 200
    person = Person.with_mobile(form.id_number.data)
    if person is None:
        form.id_number.errors.append(_(
            "The registry holds no mobile number for this identity number, so no code can be sent. "
            "Record your mobile number at a passports office or in Absher, then come back."))
        return render_template(template, form=form), 422
    session[purpose] = person.id_number
    with contextlib.suppress(CodeNotSent):  # a code went a moment ago: the next page offers another
        send_code(purpose, person)
    return redirect(url_for(next_step), 303)


def send_code(purpose, person):
    """A new code and its SMS, in one transaction (the outbox sends it)."""
    account = User.get_or_none(User.id_number == person.id_number)
    locale = (account.locale if account and account.locale else None) or str(get_locale())
    with write_transaction():
        code = OneTimeCode.issue(purpose, person.id_number, code_holder())
        with force_locale(locale):
            text = code_message(purpose, account, code)
        Notice.queue(f"{purpose}-{secrets.token_hex(12)}", person.mobile, text, kind=purpose)


def code_holder():
    """Who asked for a code: a random id kept in this browser's session."""
    return session.setdefault("code_holder", secrets.token_urlsafe(16))


def code_message(purpose, account, code):
    if purpose == "signup" and account is None:
        return _("Tawasul: %(code)s is your code to open an account. It works for 10 minutes. Never share it.",
                 code=code)
    if purpose == "signup":
        return _("Tawasul: someone tried to open a new account with your identity number. You have one "
                 "already; if you forgot its password, choose a new one at %(url)s",
                 url=url_for("auth.reset", _external=True))
    if account is not None:
        return _("Tawasul: %(code)s is your code to choose a new password. It works for 10 minutes. "
                 "Never share it.", code=code)
    return _("Tawasul: someone asked for a new password for your identity number, but it has no account. "
             "To open one: %(url)s", url=url_for("auth.register", _external=True))


def resend(purpose):
    id_number = session.get(purpose)
    person = id_number and Person.with_mobile(id_number)
    if not person:
        return None
    try:
        send_code(purpose, person)
    except CodeNotSent as refused:
        return ngettext("A code was sent a moment ago. You can ask for another in %(num)d second.",
                        "A code was sent a moment ago. You can ask for another in %(num)d seconds.",
                        refused.wait_seconds)
    return _("A new code is on its way. The earlier code no longer works.")


def code_page(purpose, form, template, status=200, notice=None):
    person = Person.with_mobile(session[purpose])
    mobile = Markup('<bdi dir="ltr">{}</bdi>').format(mask_mobile(person.mobile))  # digits left to right in Arabic
    return render_template(template, form=form, mobile=mobile, notice=notice), status


def wrong_code():
    return _("This code is wrong or has expired. Check the SMS, or ask for a new code.")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("requests.index"))
    return ask_for_code("signup")


@bp.route("/register/code", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def register_code():
    if "signup" not in session:
        return redirect(url_for("auth.register"))
    form = NewAccountForm()
    if not form.validate_on_submit():
        return code_page("signup", form, "auth/register_code.html", 422 if form.is_submitted() else 200)
    id_number = session["signup"]
    redeemed = OneTimeCode.redeem("signup", id_number, form.code.data, code_holder())
    if not redeemed or User.get_or_none(User.id_number == id_number):
        form.code.errors.append(wrong_code())
        return code_page("signup", form, "auth/register_code.html", 422)
    try:
        user = User.register(form.username.data, Person.with_mobile(id_number), form.password.data,
                             locale=session.get("lang"))
    except UsernameTaken:  # taken a moment ago, between the check and the save
        form.username.errors.append(_("This username is taken; choose another."))
        return code_page("signup", form, "auth/register_code.html", 422)
    start_session(user)
    return redirect(url_for("requests.index"), 303)


@bp.route("/register/resend", methods=["POST"])
@limiter.limit(codes_limit)
def register_resend():
    return resent("signup", "auth.register", NewAccountForm, "auth/register_code.html")


def resent(purpose, first_step, form_class, template):
    notice = resend(purpose)
    if notice is None:
        return redirect(url_for(first_step), 303)
    return code_page(purpose, form_class(formdata=None), template, notice=notice)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def reset():
    return ask_for_code("reset")


@bp.route("/reset/code", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def reset_code():
    if "reset" not in session:
        return redirect(url_for("auth.reset"))
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return code_page("reset", form, "auth/reset_code.html", 422 if form.is_submitted() else 200)
    id_number = session["reset"]
    user = User.get_or_none(User.id_number == id_number)
    if not OneTimeCode.redeem("reset", id_number, form.code.data, code_holder()) or user is None:
        form.code.errors.append(wrong_code())
        return code_page("reset", form, "auth/reset_code.html", 422)
    set_password(user, form.password.data)
    end_sessions_of(user)
    SignInFailure.forgive_everywhere(user.username)  # the sign-in page promised this
    session.pop("reset")
    return render_template("auth/reset_done.html")


@bp.route("/reset/resend", methods=["POST"])
@limiter.limit(codes_limit)
def reset_resend():
    return resent("reset", "auth.reset", NewPasswordForm, "auth/reset_code.html")


def set_password(user, password):
    """The new password and the SMS that says so, together."""
    with write_transaction():
        user.change_password(password)
        if user.mobile:
            with force_locale(user.locale or "ar"):
                text = _("Tawasul: the password of your account was changed. If this was not you, choose a "
                         "new one at %(url)s", url=url_for("auth.reset", _external=True))
            Notice.queue(f"password-{secrets.token_hex(12)}", user.mobile, text, kind="password")


# ------------------------------------------------------------------ the account page

@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", form=ChangePasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(login_limit)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if check_password_hash(current_user.password_hash, form.current.data):
            set_password(current_user, form.password.data)
            end_sessions_of(current_user, keep_current=True)
            return render_template("auth/account.html", form=ChangePasswordForm(formdata=None), notice=_(
                "Your password was changed. Every other session of this account ended."))
        form.current.errors.append(_("The current password is wrong."))
    return render_template("auth/account.html", form=form), 422


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    end_sessions_of(current_user)
    end_session()
    return redirect(url_for("auth.login"), 303)


@bp.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang")
    if lang in ("ar", "en"):
        session["lang"] = lang
        if current_user.is_authenticated:
            User.update(locale=lang).where(User.id == current_user.id).execute()
    return redirect(safe_next(url_for("home.index")), 303)
