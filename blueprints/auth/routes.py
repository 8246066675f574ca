"""Sign-up and password reset proven by a one-time code to the registry's mobile,
sign-in (with a second factor for staff), sign-out, the account page and the
language switch. Nothing here tells a stranger whether an account exists: the same
message and the same work for every case."""
import datetime as dt
import secrets
from collections import namedtuple

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
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
    SENDS_PER_HOUR,
    SENDS_PER_PHONE_PER_DAY,
    CodeNotSent,
    OneTimeCode,
    Person,
    RecoveryCode,
    SignInFailure,
    User,
    UsernameTaken,
    mask_mobile,
    utcnow,
)
from web.extensions import limiter
from web.metrics import count_pause, count_sign_in_refused
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

def home_of(user):
    """Where an account lands: staff on the queue, residents on their requests."""
    return url_for("staff.queue") if user.is_staff else url_for("requests.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303)
def login():
    if current_user.is_authenticated:
        return redirect(home_of(current_user))
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
    count_sign_in_refused("password" if allowed else "paused")
    if allowed and not right and SignInFailure.pause_if_spent(username, address):
        count_pause("password")
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
    count_sign_in_refused("code" if allowed else "paused")
    if allowed:
        paused = SignInFailure.pause_if_spent(key, address)
        if SignInFailure.pause_if_spent(key, ANY_ADDRESS, CODE_STEP_TRIES) or paused:
            count_pause("code")
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

CodeSteps = namedtuple("CodeSteps", "first_page first_step code_step code_page")
CODE_STEPS = {
    "signup": CodeSteps("auth/register.html", "auth.register", "auth.register_code", "auth/register_code.html"),
    "reset": CodeSteps("auth/reset.html", "auth.reset", "auth.reset_code", "auth/reset_code.html"),
}


def ask_for_code(purpose):
    """The first step of sign-up and reset: the identity number. A number the
    registry holds with a mobile gets a code there, whether or not it has an
    account (the SMS tells an owner what happened): the same page either way."""
    template, next_step = CODE_STEPS[purpose].first_page, CODE_STEPS[purpose].code_step
    form = IdentityForm()
    if not form.validate_on_submit():
        return render_template(template, form=form), 422 if form.is_submitted() else 200
    person = Person.with_mobile(form.id_number.data)
    if person is None:
        form.id_number.errors.append(no_mobile())
        return render_template(template, form=form), 422
    session[purpose] = person.id_number
    try:
        send_code(purpose, person)
    except CodeNotSent as refused:
        if refused.limit != "spacing":  # else a code went a moment ago, and it works: go on to it
            count_sign_in_refused("sms_limit")
            form.id_number.errors.append(refusal_text(refused))
            return render_template(template, form=form), 429, {"Retry-After": str(refused.wait_seconds)}
    return redirect(url_for(next_step), 303)


def no_mobile():
    return _("The registry holds no mobile number for this identity number, so no code can be sent. "
             "Record your mobile number at a passports office or in Absher, then come back.")


def send_code(purpose, person):
    """A new code to the person's registry mobile, for this browser only; raises CodeNotSent."""
    account = User.holding(person.id_number)
    locale = (account.locale if account and account.locale else None) or str(get_locale())

    def message(code):
        with force_locale(locale):
            return code_message(purpose, account, code)

    OneTimeCode.send(purpose, person, code_holder(), client_network(), message)


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


def refusal_text(refused):
    """Which limit kept a code from being sent, and how long until the next one."""
    wait = refused.wait_seconds
    if refused.limit == "spacing":
        return ngettext("A code was sent a moment ago. You can ask for another in %(num)d second.",
                        "A code was sent a moment ago. You can ask for another in %(num)d seconds.", wait)
    if refused.limit == "browser":
        return ngettext("This browser asked for %(most)s codes in the last hour. You can ask for another in "
                        "%(num)d minute.", "This browser asked for %(most)s codes in the last hour. You can ask "
                        "for another in %(num)d minutes.", -(-wait // 60), most=SENDS_PER_HOUR)
    hours = -(-wait // 3600)
    if refused.limit == "network":
        return ngettext("Too many codes for this identity number were asked for from your network today. You "
                        "can ask for another in %(num)d hour, or from another connection.",
                        "Too many codes for this identity number were asked for from your network today. You "
                        "can ask for another in %(num)d hours, or from another connection.", hours)
    return ngettext("This mobile number has received the most codes allowed in one day (%(most)s), to protect "
                    "it from floods of SMS. You can ask for another in %(num)d hour.",
                    "This mobile number has received the most codes allowed in one day (%(most)s), to protect "
                    "it from floods of SMS. You can ask for another in %(num)d hours.", hours,
                    most=SENDS_PER_PHONE_PER_DAY)


def registry_person(purpose):
    """The registry entry (with a mobile) of the number this browser's code step is
    for, or None when the registry dropped its mobile meanwhile."""
    return Person.with_mobile(session[purpose])


def code_page(purpose, person, form, status=200, notice=None):
    """The code step; when the registry no longer holds a mobile for the number, the
    first step again, saying so (409)."""
    if person is None:
        template = CODE_STEPS[purpose].first_page
        form = IdentityForm(formdata=None)
        form.id_number.errors = [no_mobile()]
        return render_template(template, form=form), 409
    mobile = Markup('<bdi dir="ltr">{}</bdi>').format(mask_mobile(person.mobile))  # digits left to right in Arabic
    return render_template(CODE_STEPS[purpose].code_page, form=form, mobile=mobile, notice=notice), status


def wrong_code():
    return _("This code is wrong or has expired. Check the SMS, or ask for a new code.")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_of(current_user))
    return ask_for_code("signup")


@bp.route("/register/code", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def register_code():
    if "signup" not in session:
        return redirect(url_for("auth.register"))
    person, form = registry_person("signup"), NewAccountForm()
    if person is None or not form.validate_on_submit():
        return code_page("signup", person, form, 422 if form.is_submitted() else 200)
    id_number = person.id_number
    redeemed = OneTimeCode.redeem("signup", id_number, form.code.data, code_holder())
    if not redeemed or User.holding(id_number):
        count_sign_in_refused("sms_code")
        form.code.errors.append(wrong_code())
        return code_page("signup", person, form, 422)
    try:
        user = User.register(form.username.data, person, form.password.data, locale=session.get("lang"))
    except UsernameTaken:  # taken a moment ago, between the check and the save
        form.username.errors.append(_("This username is taken; choose another."))
        return code_page("signup", person, form, 422)
    start_session(user)
    return redirect(url_for("requests.index"), 303)


@bp.route("/register/resend", methods=["POST"])
@limiter.limit(codes_limit)
def register_resend():
    return resend("signup", NewAccountForm)


def resend(purpose, form_class):
    """A new code for this browser on the code step; the page says which limit
    stood in the way when none could be sent."""
    if purpose not in session:
        return redirect(url_for(CODE_STEPS[purpose].first_step), 303)
    person = registry_person(purpose)
    if person is None:
        return code_page(purpose, None, None)
    g.page_url = url_for(CODE_STEPS[purpose].code_step)  # the language switch comes back to the code step
    try:
        send_code(purpose, person)
    except CodeNotSent as refused:
        page, status = code_page(purpose, person, form_class(formdata=None), 429, notice=refusal_text(refused))
        if refused.limit == "spacing":  # the code sent a moment ago works: nothing is wrong
            return page, 200
        count_sign_in_refused("sms_limit")
        return page, status, {"Retry-After": str(refused.wait_seconds)}
    return code_page(purpose, person, form_class(formdata=None),
                     notice=_("A new code is on its way. The earlier code no longer works."))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def reset():
    return ask_for_code("reset")


@bp.route("/reset/code", methods=["GET", "POST"])
@limiter.limit(codes_limit, methods=["POST"])
def reset_code():
    if "reset" not in session:
        return redirect(url_for("auth.reset"))
    person, form = registry_person("reset"), NewPasswordForm()
    if person is None or not form.validate_on_submit():
        return code_page("reset", person, form, 422 if form.is_submitted() else 200)
    user = User.holding(person.id_number)
    if not OneTimeCode.redeem("reset", person.id_number, form.code.data, code_holder()) or user is None:
        count_sign_in_refused("sms_code")
        form.code.errors.append(wrong_code())
        return code_page("reset", person, form, 422)
    set_password(user, form.password.data)
    end_sessions_of(user)
    SignInFailure.forgive_everywhere(user.username)  # the sign-in page promised this
    session.pop("reset")
    return redirect(url_for("auth.reset_done"), 303)


@bp.route("/reset/done")
def reset_done():
    return render_template("auth/reset_done.html")


@bp.route("/reset/resend", methods=["POST"])
@limiter.limit(codes_limit)
def reset_resend():
    return resend("reset", NewPasswordForm)


def set_password(user, password):
    """The new password and the SMS that says so (in the account's language), together."""
    with force_locale(user.locale or "ar"):
        text = _("Tawasul: the password of your account was changed. If this was not you, choose a "
                 "new one at %(url)s", url=url_for("auth.reset", _external=True))
    user.change_password(password, notice_text=text)


# ------------------------------------------------------------------ the account page

@bp.route("/account")
@login_required
def account():
    notice = _("Your password was changed. Every other session of this account ended.") \
        if session.pop("password_changed", None) else None
    return render_template("auth/account.html", form=ChangePasswordForm(formdata=None), notice=notice)


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit(login_limit)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if check_password_hash(current_user.password_hash, form.current.data):
            set_password(current_user, form.password.data)
            end_sessions_of(current_user, keep_current=True)
            session["password_changed"] = True
            return redirect(url_for("auth.account"), 303)
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
            current_user.set_locale(lang)
    return redirect(safe_next(url_for("home.index")), 303)
