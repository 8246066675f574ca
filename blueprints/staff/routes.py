"""The officers' side: the review queue, one request with its actions, and the
deadline figures (page and CSV). Staff only."""
import csv
import hashlib
import io

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from blueprints.staff.forms import ActionForm, DecisionForm, NoteForm, PeriodForm, QueueForm, ReturnForm
from models import (
    ACCEPTED,
    REJECTED,
    RETURNED,
    UNDER_REVIEW,
    ActionRefused,
    Audit,
    Document,
    Event,
    Rating,
    ReasonRetired,
    ServiceRequest,
    figures,
    riyadh_today,
)
from models.assignment import assign_waiting
from models.notices import NOTICE_STATUS_LABELS
from web.views import (
    ANY_OWNER,
    client_ip,
    document_or_404,
    is_htmx_fragment_request,
    render,
    request_or_404,
    send_document,
    shown_version_is,
    staff_required,
    unchanged,
)

bp = Blueprint("staff", __name__, template_folder="../../templates")
PAGE_SIZE = 50
ACTION_LABELS = {
    "claim": _l("Took the request"),
    "release": _l("Gave it back to the queue"),
    "assign": _l("Assigned"),
    "reassign": _l("Reassigned"),
    "note": _l("Added an internal note"),
    UNDER_REVIEW: _l("Started the review"),
    RETURNED: _l("Returned it to the applicant"),
    ACCEPTED: _l("Accepted"),
    REJECTED: _l("Rejected"),
}


@bp.before_request
@login_required
@staff_required
def require_staff():
    pass


# ------------------------------------------------------------------ queue

@bp.route("/")
def queue():
    """Undecided requests by deadline. A poll that already shows this exact page
    gets an empty 204."""
    form = QueueForm(request.args)
    valid = form.validate()
    form.resolve_view(current_user.role)
    if current_user.role == "supervisor":
        assign_waiting()  # an away that ended by date: what waited goes out (one index probe when nothing does)
    today = riyadh_today()
    rows = list(ServiceRequest.queue(current_user, **form.filters(), limit=PAGE_SIZE + 1, today=today)) if valid else []
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    next_after = form.position(rows[-1], form.unassigned_first()) if more else None
    version = queue_version(rows, today, next_after)
    if shown_version_is(version):
        return unchanged()
    return render("staff/queue.html", "staff/_queue.html", 200 if valid else 422, form=form, rows=rows,
                  today=today, poll_url=queue_url(form),
                  next_url=next_after and queue_url(form, after=next_after), version=version)


def queue_version(rows, today, next_after):
    shown = [(r.id, r.status, r.assignee_id, r.due_on, r.version) for r in rows]
    key = repr((shown, today, next_after, get_locale().language))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def queue_url(form, **change):
    """The queue's address with this page's filters (the form's fields only, so no
    other query argument reaches url_for) and `change`."""
    args = {name: value for name, value in request.args.items() if name in form and name not in OLD_VIEW_ARGS}
    return url_for("staff.queue", **(args | {"view": form.view.data} | change))


OLD_VIEW_ARGS = ("mine", "unassigned", "view")  # the view is written as resolved (QueueForm.resolve_view)


# ------------------------------------------------------------------ one request

def page(service_request, status=200, **forms):
    forms.setdefault("action_form", ActionForm())
    forms.setdefault("return_form", ReturnForm())
    forms.setdefault("decision_form", DecisionForm().setup(service_request.service))
    forms.setdefault("note_form", NoteForm())
    person_open, person_decided = service_request.of_same_person()
    context = dict(
        state_context(service_request), seen=actions_key(service_request), action_labels=ACTION_LABELS,
        person_open=person_open, person_decided=person_decided,
        sponsor=service_request.person.sponsor_account(),
        linked_count=service_request.person.linked_count(),
        audit=list(Audit.of_request(service_request)) if current_user.role == "supervisor" else None,
        **forms)
    return render_template("staff/request.html", **context), status


def state_context(service_request):
    """What the self-refreshing part of an officer's request page shows."""
    return dict(r=service_request, staff=True, today=riyadh_today(),
                events=list(Event.timeline(service_request, staff=True)),
                documents=list(Document.listing(service_request)),
                actions_key=actions_key(service_request), state_version=state_version(service_request))


def actions_key(service_request):
    """What decides the actions an officer is offered: the status and the holder."""
    return f"{service_request.status}-{service_request.assignee_id or 0}"


def state_version(service_request):
    """Changes with anything the officer's page shows that others can change: the
    resident-visible version, the holder, and the timeline (claims, notes)."""
    last_event = Event.last_id(service_request)
    return (f"{service_request.version}-{actions_key(service_request)}-{last_event or 0}-"
            f"{get_locale().language}-{riyadh_today().isoformat()}")


def any_request_or_404(number):
    """Staff see every resident's requests."""
    return request_or_404(number, ANY_OWNER)


@bp.route("/requests/<number>")
def detail(number):
    return page(any_request_or_404(number))


@bp.route("/requests/<number>/state")
def state(number):
    """The part of an officer's request page that refreshes itself (status, holder,
    deadline, documents, decision; the timeline out of band). A poll that shows the
    current version gets an empty 204. `seen` is the status and holder the page was
    opened with: when they differ, the part says the actions below may be stale; the
    forms themselves are never replaced, so nothing typed is lost."""
    service_request = any_request_or_404(number)
    version = state_version(service_request)
    if shown_version_is(version):
        return unchanged()
    seen = request.args.get("seen", "")[:40]
    if is_htmx_fragment_request():
        response = make_response(render_template("staff/_state_update.html", seen=seen,
                                                 **state_context(service_request)))
    else:
        response = make_response(detail(number))
    response.vary.add("HX-Request")
    return response


def act(service_request, action, form=None, **kwargs):
    """Run one staff action; back to the page (303) or the page with the reason it
    was refused (409 for a conflict, 422 for a form to correct)."""
    form = form or ActionForm()
    if not form.validate_on_submit():
        return page(service_request, 422, **kwargs)
    try:
        action(service_request, form)
    except ReasonRetired as error:  # a moment ago: the form to correct, as it was filled in
        form.reason_choice.errors = [str(error)]
        return page(service_request, 422, **kwargs)
    except ActionRefused as error:
        return page(service_request, 409, error=str(error), **kwargs)
    return redirect(url_for("staff.detail", number=service_request.number), 303)


@bp.route("/requests/<number>/claim", methods=["POST"])
def claim(number):
    return act(any_request_or_404(number), lambda r, form: r.claim(current_user, client_ip()))


@bp.route("/requests/<number>/release", methods=["POST"])
def release(number):
    return act(any_request_or_404(number), lambda r, form: r.release(current_user, client_ip()))


@bp.route("/requests/<number>/start", methods=["POST"])
def start_review(number):
    return act(any_request_or_404(number), lambda r, form: r.change_status(UNDER_REVIEW, current_user, ip=client_ip()))


@bp.route("/requests/<number>/return", methods=["POST"])
def return_to_applicant(number):
    form = ReturnForm()
    return act(any_request_or_404(number), lambda r, f: r.change_status(RETURNED, current_user, message=f.message.data,
                                                     ip=client_ip()), form, return_form=form)


@bp.route("/requests/<number>/decide", methods=["POST"])
def decide(number):
    service_request = any_request_or_404(number)
    form = DecisionForm().setup(service_request.service)
    return act(service_request, lambda r, f: r.change_status(f.decision.data, current_user, message=f.reason.data,
                                                     reason_choice=f.chosen_reason(), ip=client_ip()),
               form, decision_form=form)


@bp.route("/requests/<number>/note", methods=["POST"])
def note(number):
    form = NoteForm()
    return act(any_request_or_404(number), lambda r, f: r.add_note(current_user, f.note.data, client_ip()), form,
               note_form=form)


@bp.route("/requests/<number>/documents/<int:document_id>")
def document(number, document_id):
    """Opened in the browser (inline) for staff, never sniffed, in a sandbox."""
    return send_document(document_or_404(any_request_or_404(number), document_id), inline=True)


# ------------------------------------------------------------------ figures

def period_from_args():
    """The period form and its (start, end), or None when it needs correcting."""
    form = PeriodForm(request.args)
    return form, (form.period() if form.validate() else None)


@bp.route("/figures")
def figures_page():
    form, period = period_from_args()
    if period is None:
        return render_template("staff/figures.html", form=form), 422
    form.start.data, form.end.data = period
    today = riyadh_today()
    rows, total = figures.per_service(*period, today=today)
    return render_template("staff/figures.html", form=form, period=period, rows=rows, total=total,
                           chart=figures.chart(figures.daily(*period)), notices=figures.notices(),
                           notice_labels=NOTICE_STATUS_LABELS, ratings=ratings_rows(rows, period),
                           rating_average=rating_average, **officers_figures(period, today))


def officers_figures(period, today):
    """Supervisors only: each officer's requests at risk and overdue now and share
    decided on time in the period, and the period's reassignments (None for officers)."""
    if current_user.role != "supervisor":
        return dict(officers=None, reassignments=None)
    return dict(officers=figures.per_officer(*period, today), reassignments=figures.reassignments(*period))


def ratings_rows(rows, period):
    """Supervisors only: how many ratings and their average per service, then for all
    services, for the requests decided in the period (None for officers)."""
    if current_user.role != "supervisor":
        return None
    per_service = Rating.per_service(*period)
    found = [dict(service=row["service"], count=per_service.get(row["service"].id, (0, None))[0],
                  average=per_service.get(row["service"].id, (0, None))[1]) for row in rows]
    count, average = Rating.overall(*period)
    return found + [dict(service=None, count=count, average=average)]


def rating_average(average):
    """An average rating as the reader writes decimals, e.g. 4.3 or ٤٫٣."""
    return "–" if average is None else format_decimal(round(average, 1), format="0.0")


@bp.route("/stats")
@bp.route("/stats.csv")
def old_figures_address():
    """The figures' address before they were named figures: bookmarks still work."""
    endpoint = "staff.figures_csv" if request.path.endswith(".csv") else "staff.figures_page"
    query = request.query_string.decode("latin-1")
    return redirect(url_for(endpoint) + (f"?{query}" if query else ""), 301)


CSV_COLUMNS = ("service", "received", "decided", "decided_within_deadline", "share_within_deadline",
               "overdue_now", "at_risk_now", "median_hours_to_decision", "p90_hours_to_decision")


@bp.route("/figures.csv")
def figures_csv():
    form, period = period_from_args()
    if period is None:
        return render_template("staff/figures.html", form=form), 422
    rows, total = figures.per_service(*period, today=riyadh_today())
    out = io.StringIO()
    writer = csv.writer(out)
    ratings = ratings_rows(rows, period)  # supervisors only
    writer.writerow(CSV_COLUMNS + (RATING_COLUMNS if ratings else ()))
    for index, row in enumerate(rows + [total]):
        writer.writerow([row["service"].code if row["service"] else "all", row["received"], row["decided"],
                         row["within"], "" if row["share"] is None else f"{row['share']:.3f}",
                         row["overdue"], row["at_risk"], hours(row["median"]), hours(row["p90"])]
                        + (rating_cells(ratings[index]) if ratings else []))
    name = f"tawasul-figures-{period[0]}-{period[1]}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


RATING_COLUMNS = ("ratings", "average_rating")


def rating_cells(row):
    return [row["count"], "" if row["average"] is None else f"{row['average']:.2f}"]


def hours(value):
    return "" if value is None else f"{value:.1f}"
