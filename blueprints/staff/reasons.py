"""Supervisors keep the ready-made reasons officers decide with: add one (for a
service or for all), reword one, retire one; every change is recorded and shown
(models/reasons.py). Supervisors only: an officer gets 403."""
from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from blueprints.staff.forms import ActionForm, ReasonForm, RewordForm
from blueprints.staff.routes import bp
from models import Reason, ReasonChange, ReasonRetired
from models.reasons import KIND_LABELS, add_reason, kept_reasons, lineage, retire_reason, reword_reason
from web.views import supervisor_required


@bp.route("/reasons", methods=["GET", "POST"])
@supervisor_required
def reasons():
    """The reasons by service, the form to add one, and the latest changes."""
    form = ReasonForm()
    if not form.is_submitted():
        return reasons_page(form)
    if not form.validate_on_submit():
        return reasons_page(form, 422)
    added = add_reason(current_user.id, form.chosen_service(), form.kind.data, form.text_ar.data, form.text_en.data)
    return redirect(url_for("staff.reasons", _anchor=f"reason-{added.id}"), 303)


def reasons_page(form, status=200, error=None):
    groups = {}
    for reason in kept_reasons():
        groups.setdefault(reason.service_id, (reason.service if reason.service_id else None, []))[1].append(reason)
    return render_template("staff/reasons.html", form=form, groups=list(groups.values()), error=error,
                           changes=list(ReasonChange.latest()), kind_labels=KIND_LABELS), status


def reason_or_404(reason_id):
    reason = Reason.get_or_none(Reason.id == reason_id) if 0 < reason_id < 2 ** 63 else None
    if reason is None:
        abort(404)
    return reason


@bp.route("/reasons/<int:reason_id>")
@supervisor_required
def reason(reason_id):
    """One reason: reword it or retire it, and its history."""
    found = reason_or_404(reason_id)
    return reason_page(found, RewordForm(text_ar=found.text_ar, text_en=found.text_en))


def reason_page(reason, form, status=200, error=None):
    chain = lineage(reason)
    history = ReasonChange.latest(reasons=chain)
    return render_template("staff/reason.html", reason=reason, form=form, retire_form=ActionForm(),
                           history=list(history), chain=chain, error=error, kind_labels=KIND_LABELS), status


@bp.route("/reasons/<int:reason_id>/reword", methods=["POST"])
@supervisor_required
def reword(reason_id):
    found = reason_or_404(reason_id)
    form = RewordForm()
    if not form.validate_on_submit() or form.same_as(found):
        return reason_page(found, form, 422)
    try:
        new = reword_reason(current_user.id, found, form.text_ar.data, form.text_en.data)
    except ReasonRetired as error:  # the words typed stay in the form
        return reason_page(Reason.get_by_id(found.id), form, 409, error=str(error))
    return redirect(url_for("staff.reasons", _anchor=f"reason-{new.id}"), 303)


@bp.route("/reasons/<int:reason_id>/retire", methods=["POST"])
@supervisor_required
def retire(reason_id):
    found = reason_or_404(reason_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        retire_reason(current_user.id, found)
    except ReasonRetired as error:
        return reason_page(Reason.get_by_id(found.id), RewordForm(formdata=None), 409, error=str(error))
    return redirect(url_for("staff.reasons", _anchor=f"reason-{found.id}"), 303)
