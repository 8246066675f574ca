from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.home.forms import InquiryForm
from models import Service, ServiceRequest, check_database
from web.formatting import eligibility_rule

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
    check_database()
    return {"status": "ok"}
