import csv
import io

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from blueprints.home.forms import InquiryForm
from models import Service, ServiceRequest, performance
from web import readiness
from web.formatting import eligibility_rule, month_label
from web.rendered import rendered_once

bp = Blueprint("home", __name__, template_folder="../../templates")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue" if current_user.is_staff else "requests.index"))
    return render_template("home/index.html", services=list(Service.ordered()), rule=eligibility_rule)


@bp.route("/services/")
def services():
    """The catalogue: every service, who may apply, a link to its page."""
    return render_template("home/services.html", services=list(Service.ordered()), rule=eligibility_rule)


@bp.route("/services/<code>")
def service(code):
    """Guidance before a request: who may apply and on which conditions, the documents,
    how long a decision takes and what happens next. Open to everyone."""
    found = Service.by_code(code)
    if found is None:
        abort(404)
    return render_template("home/service.html", service=found, rule=eligibility_rule(found))


@bp.route("/inquiry")
@login_required
def inquiry():
    form = InquiryForm(request.args)
    if "number" not in request.args:
        return render_template("home/inquiry.html", form=form)
    if not form.validate():
        return render_template("home/inquiry.html", form=form), 422
    found = ServiceRequest.numbered(form.number.data, owner=current_user.id)
    if found is None:
        form.number.errors.append(_("There is no request with this number in your account."))
        return render_template("home/inquiry.html", form=form), 404
    return redirect(url_for("requests.detail", number=found.number), 303)


@bp.route("/healthz")
def healthz():
    """Live: the process answers (web/readiness.py). The database is not asked."""
    return {"status": "ok"}


@bp.route("/readyz")
def readyz():
    """Ready: the database and Redis (where configured) answer within a second."""
    failed = readiness.failing()
    if failed:
        return Response(f"not ready: {', '.join(failed)}\n", 503, mimetype="text/plain")
    return Response("ready\n", mimetype="text/plain")


# ------------------------------------------------------------------ the record published

CSV_KEPT_SECONDS = 300  # a proxy may keep the CSV this long: the same for everyone, nothing personal
CSV_COLUMNS = ("calendar", "month", "first_day", "service", "received", "decided", "share_on_time",
               "median_working_days", "objections", "share_overturned", "average_rating")


def chosen_calendar():
    """?calendar=hijri|gregorian; without it Hijri for Arabic readers, Gregorian for English ones."""
    calendar = request.args.get("calendar") or (performance.HIJRI if get_locale().language == "ar"
                                                else performance.GREGORIAN)
    if calendar not in performance.CALENDARS:
        abort(404)
    return calendar


def kept_figures():
    """This process's figures, at most ten minutes old (models.performance.Kept, one per app)."""
    return current_app.extensions.setdefault("performance", performance.Kept()).get()


def performance_content(figures, calendar):
    """The page's content in the reader's language and calendar, rendered once per
    kept figures (nothing in it depends on the reader but these two)."""
    key = (str(get_locale()), calendar)
    if key not in figures.rendered:
        figures.rendered[key] = Markup(render_template(
            "home/_performance.html", figures=figures, calendar=calendar, calendars=performance.CALENDARS,
            months=figures.months[calendar], rows=figures.rows[calendar], all_services=performance.ALL,
            running=performance.month_of(figures.today, calendar) == figures.months[calendar][-1],
            month_label=month_label, format_decimal=format_decimal, few=performance.FEW, hidden=performance.HIDDEN))
    return figures.rendered[key]


@bp.route("/performance")
def performance_page():
    """The record published: open to everyone, no JavaScript. The page itself is not
    kept by browsers or proxies (it carries the reader's CSRF token, language and
    menu); the figures behind it, and their rendering, are kept by the server for ten minutes."""
    calendar, figures = chosen_calendar(), kept_figures()
    def render_page():
        return render_template("home/performance.html", content=performance_content(figures, calendar))
    if request.method != "GET":  # HEAD: drawn without the language form's way back
        return render_page()
    return rendered_once(performance_key(figures, calendar), render_page)


def performance_key(figures, calendar):
    """All the whole page shows: the figures (computed anew every ten minutes), the
    language and calendar, the address (the language switch comes back to it) and
    the menu, which depends only on who is signed in: nobody, a resident, an
    officer, a supervisor. Nothing personal: each reader gets their own CSRF token
    (web/rendered.py)."""
    role = current_user.role if current_user.is_authenticated else None
    return ("performance", figures.computed_at, figures.today, str(get_locale()), calendar, request.full_path, role)


@bp.route("/performance.csv")
def performance_csv():
    """The same figures, machine-readable: plain numbers (shares from 0 to 1), "<10"
    for a count from 1 to 9, an empty cell for a figure not shown (a count hidden so a
    smaller one cannot be worked out, a share, median or average from fewer than 10,
    objections before they exist). Public: a proxy may keep it five minutes."""
    calendar = request.args.get("calendar") or performance.GREGORIAN
    if calendar not in performance.CALENDARS:
        abort(404)
    figures = kept_figures()
    if ("csv", calendar) not in figures.rendered:
        figures.rendered[("csv", calendar)] = performance_rows(figures, calendar)
    response = Response(figures.rendered[("csv", calendar)], mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=tawasul-performance-{calendar}-{figures.until}.csv"})
    response.cache_control.public = True
    response.cache_control.max_age = CSV_KEPT_SECONDS
    return response


def performance_rows(figures, calendar):
    """The CSV's text: a row per month and service, then all services."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    codes = [(service.id, service.code) for service in figures.services] + [(performance.ALL, "all")]
    for month in figures.months[calendar]:
        for service_id, code in codes:
            row = figures.rows[calendar][(service_id, month)]
            writer.writerow([calendar, f"{month[0]}-{month[1]:02d}", performance.first_day(month, calendar), code,
                             csv_count(row["received"]), csv_count(row["decided"]), csv_number(row["share"], 3),
                             csv_number(row["median"], 1),
                             csv_count(row["objections"]),
                             csv_number(row["overturned"], 3), csv_number(row["rating"], 2)])
    return out.getvalue()


def csv_count(value):
    return "<10" if value == performance.FEW else "" if value == performance.HIDDEN else value


def csv_number(value, places):
    return "" if value is None else f"{value:.{places}f}"
