"""Who is given requests: the supervisors' team page (each officer's undecided count,
away or present, the services they handle) and a supervisor's reassignment of a
request. Supervisors only; the rule itself is models/assignment.py."""
import datetime as dt

from flask import abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user

from blueprints.staff.forms import ActionForm, AwayForm, ReassignForm, ServicesForm
from blueprints.staff.routes import act, any_request_or_404, bp
from models import ActionRefused, OfficerService, Service, ServiceRequest, StaffChange, User, riyadh_today
from models.assignment import (
    assign_waiting,
    available,
    officers,
    reassign,
    set_away,
    set_back,
    set_services,
    undecided_counts,
)
from web.views import client_ip, supervisor_required


def officer_or_404(username):
    officer = User.get_or_none((User.username == username) & (User.role == "officer")
                               & (User.disabled == False))  # noqa: E712 (SQL)
    if officer is None:
        abort(404)
    return officer


# ------------------------------------------------------------------ the team page

@bp.route("/team")
@supervisor_required
def team():
    """Also gives out the requests that waited, to whoever is available now (an
    away that ended by date ends here, or at the watcher's next run)."""
    assign_waiting()
    return team_page()


def team_page(status=200, error=None, forms=None):
    """The page; `forms` {officer id: (AwayForm or ServicesForm)} keeps what was
    typed, with its errors, in that officer's row."""
    staff = list(officers())
    narrowed = {}
    for row in OfficerService.select().where(OfficerService.officer.in_([o.id for o in staff])):
        narrowed.setdefault(row.officer_id, set()).add(row.service_id)
    waiting = ServiceRequest.select().where(ServiceRequest.assignee.is_null()
                                            & ServiceRequest.decided_at.is_null()).count()
    return render_template("staff/team.html", staff=staff, counts=undecided_counts([o.id for o in staff]),
                           narrowed=narrowed, waiting=waiting, today=riyadh_today(), forms=forms or {},
                           away_form=AwayForm(formdata=None), services_form=ServicesForm(formdata=None),
                           changes=list(StaffChange.latest()), as_date=dt.date.fromisoformat,
                           service_names=service_names, error=error), status


def service_names(codes):
    """"passport,profession" as the services' names in the page's language."""
    names = {s.code: s.name(get_locale()) for s in Service.ordered()}
    return ("، " if get_locale().language == "ar" else ", ").join(names.get(c, c) for c in codes.split(","))


def change(officer, form, apply):
    """Run one team change from `form`; back to the officer's row (303), or the page
    with what to correct (422) or why it was refused (409)."""
    if not form.validate_on_submit():
        return team_page(422, forms={officer.id: form})
    try:
        apply(form)
    except ActionRefused as refused:
        return team_page(409, error=str(refused))
    return redirect(url_for("staff.team", _anchor=f"officer-{officer.username}"), 303)


@bp.route("/team/<username>/away", methods=["POST"])
@supervisor_required
def team_away(username):
    officer = officer_or_404(username)
    return change(officer, AwayForm(), lambda form: set_away(officer, form.until.data, actor=current_user))


@bp.route("/team/<username>/back", methods=["POST"])
@supervisor_required
def team_back(username):
    officer = officer_or_404(username)
    return change(officer, ActionForm(), lambda form: set_back(officer, actor=current_user))


@bp.route("/team/<username>/services", methods=["POST"])
@supervisor_required
def team_services(username):
    officer = officer_or_404(username)
    return change(officer, ServicesForm(),
                  lambda form: set_services(officer, form.services.data or [], actor=current_user))


# ------------------------------------------------------------------ one request

@bp.app_template_global()
def reassign_form_for(service_request):
    """The reassignment form of a request's page (templates/staff/_assignment.html)."""
    candidates = list(available().order_by(User.full_name, User.id))
    return ReassignForm().setup(service_request, candidates, undecided_counts([o.id for o in candidates]),
                                current_user)


@bp.route("/requests/<number>/reassign", methods=["POST"])
@supervisor_required
def reassign_request(number):
    service_request = any_request_or_404(number)
    form = reassign_form_for(service_request)
    return act(service_request, lambda r, f: reassign(r, f.officer.data, current_user, f.reason.data, client_ip()),
               form, reassign_form=form)

