"""Objections to rejections, on the staff side: the supervisors' list of objections
waiting (soonest due first), and on a request's page the objection with its review
and decision. Supervisors only decide, never the one who made the rejection."""
from flask import abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from blueprints.staff.forms import ActionForm, ObjectionDecisionForm
from blueprints.staff.routes import ACTION_LABELS, any_request_or_404, bp, page
from models import ActionRefused, Document, Objection, riyadh_today
from models.objections import OBJECTION_STATUS_LABELS, rejecters
from web.views import client_ip, supervisor_required

ACTION_LABELS.update({
    "objection": _l("Objected to the rejection"),
    "objection-review": _l("Started reviewing the objection"),
    "objection-upheld": _l("Upheld the rejection (objection decided)"),
    "objection-overturned": _l("Overturned the rejection (objection decided)"),
})


@bp.route("/objections")
@supervisor_required
def objections():
    """Objections waiting for a decision, soonest due first."""
    rows = list(Objection.waiting())
    return render_template("staff/objections.html", rows=rows, today=riyadh_today(),
                           labels=OBJECTION_STATUS_LABELS,
                           rejected_by={row.request_id: rejecters(row.request_id) for row in rows})


@bp.app_template_global()
def objection_of(service_request):
    """What the staff request page shows of its objection (None without one)."""
    objection = Objection.of_request(service_request) if service_request.is_final else None
    if objection is None:
        return None
    return dict(objection=objection, rejected_by=rejecters(service_request.id),
                documents=[d for d in Document.listing(service_request) if d.objection_id == objection.id],
                refusal=objection.deciders_refusal(current_user))


def objection_or_404(service_request):
    objection = Objection.of_request(service_request)
    if objection is None:
        abort(404)
    return objection


def act_on_objection(number, action, form):
    """Run one step on the request's objection: back to the page (303), or the page
    with why it was refused (409) or the form to correct (422)."""
    service_request = any_request_or_404(number)
    objection = objection_or_404(service_request)
    kept = dict(objection_form=form) if isinstance(form, ObjectionDecisionForm) else {}  # what was typed
    if not form.validate_on_submit():
        return page(service_request, 422, **kept)
    try:
        action(objection, form)
    except ActionRefused as error:
        return page(service_request, 409, error=str(error), **kept)
    return redirect(url_for("staff.detail", number=service_request.number, _anchor="objection"), 303)


@bp.route("/requests/<number>/objection/review", methods=["POST"])
@supervisor_required
def objection_review(number):
    return act_on_objection(number, lambda o, f: o.start_review(current_user, client_ip()), ActionForm())


@bp.route("/requests/<number>/objection/decide", methods=["POST"])
@supervisor_required
def objection_decide(number):
    return act_on_objection(number, lambda o, f: o.decide(current_user, f.outcome.data, f.reason.data, client_ip()),
                            ObjectionDecisionForm())


@bp.app_template_global()
def objection_decision_form():
    """A new, empty decision form for the staff page's objection part."""
    return ObjectionDecisionForm(formdata=None)
