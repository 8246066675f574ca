"""The resident's side: My requests (and unfinished drafts), a new request with its
check-your-answers page and confirmation, the request page with its live status
panel, the answer to a return, and the documents."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.requests.forms import (
    AgainForm,
    AnswerForm,
    ConfirmForm,
    DeleteDraftForm,
    ObjectionForm,
    RatingForm,
    RequestForm,
    over_limit_messages,
)
from models import (
    DRAFT_MAX_AGE_DAYS,
    REJECTED,
    RETURNED,
    ActionRefused,
    AlreadyRated,
    Document,
    Draft,
    Event,
    InvalidNumber,
    NotDecided,
    Objection,
    Rating,
    ServiceRequest,
    TooManyDrafts,
    parse_request_number,
)
from models.clock import riyadh_today, utcnow
from models.next_steps import after_acceptance
from web.formatting import eligibility_rule
from web.rendered import rendered_once
from web.views import document_or_404, render, request_or_404, send_document, shown_version_is, unchanged

bp = Blueprint("requests", __name__, template_folder="../../templates")


@bp.before_request
def refuse_malformed_draft_token():
    """A `draft` value (query or form) is empty or a draft's token: anything else is
    a 400 here, before it can be looked up or sent back in a Location header."""
    values = request.args.getlist("draft") + request.form.getlist("draft")
    if any(value and not Draft.is_token(value) for value in values):
        abort(400)


@bp.before_request
@login_required
def require_login():
    pass


def mine_or_404(number):
    return request_or_404(number, owner=current_user.id)


@bp.route("/")
def index():
    return render_template("requests/index.html", requests=ServiceRequest.of_owner(current_user),
                           drafts=list(Draft.open_for(current_user)), draft_max_age=DRAFT_MAX_AGE_DAYS)


# ------------------------------------------------------------------ a new request

@bp.route("/new", methods=["GET", "POST"])
def new():
    """The form. Reading it never deletes anything; sending it keeps what was typed
    and every acceptable file in the draft, even when something must be corrected."""
    form = RequestForm()
    token = form.draft.data if form.is_submitted() else request.args.get("draft")
    draft = Draft.of_owner(current_user, token) or Draft.start(current_user)
    form.setup(current_user, draft, from_draft=not form.is_submitted(), preset_service=request.args.get("service"))
    if not form.is_submitted():
        return render_new(form, draft)
    form.validate_on_submit()
    files, problems = form.uploads()
    try:
        left_out = draft.save_from(form.chosen_service, form.chosen_person, form.description.data,
                                   form.removed_ids(), files, current_app.config["MAX_DOCUMENTS"])
    except TooManyDrafts:
        return render_new(form, draft, 422)
    if request.form.get("step") == "service" and not form.id_number.errors:  # without JavaScript
        return redirect(url_for("requests.new", draft=draft.token, _anchor="person"), 303)
    form.documents.errors = list(form.documents.errors or []) + problems + over_limit_messages(left_out)
    if "documents" in draft.problems() and not form.documents.errors:
        form.documents.errors = [_("Attach at least one document that supports your request.")]
    if form.has_errors():
        return render_new(form, draft, 422)
    return redirect(url_for("requests.check", draft=draft.token), 303)


def render_new(form, draft, status=200):
    """The form; a new draft that cannot be kept says so before anything is typed."""
    form.draft.data = draft.token if draft.id else ""
    return render_template("requests/new.html", form=form, draft=draft, rule=eligibility_rule,
                           files=list(draft.files()) if draft.id else [],
                           drafts_full=not draft.id and Draft.limit_reached(current_user),
                           started_from=started_from(draft)), status


def started_from(draft):
    """The owner's rejected request this draft was started from (`?again=<number>`
    on the form's first showing), or None."""
    if not draft.id or request.method != "GET":
        return None
    try:
        number = parse_request_number(request.args.get("again") or "")
    except InvalidNumber:
        return None
    found = ServiceRequest.numbered(number, owner=current_user.id)
    return found if found is not None and found.status == REJECTED else None


def complete_draft(token):
    """The owner's draft when it is ready to check and confirm, else None."""
    draft = Draft.of_owner(current_user, token)
    return draft if draft and not draft.problems() else None


@bp.route("/new/check")
def check():
    token = request.args.get("draft")
    draft = complete_draft(token)
    if draft is None:
        return after_draft(token)
    return render_template("requests/check.html", draft=draft, files=list(draft.files()),
                           form=ConfirmForm(draft=draft.token),
                           duplicates=ServiceRequest.undecided_like(current_user.id, draft.person, draft.service))


@bp.route("/new/confirm", methods=["POST"])
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    sent = ServiceRequest.sent_from_draft(current_user.id, form.draft.data)
    draft = None if sent else complete_draft(form.draft.data)
    if draft is not None:
        ServiceRequest.submit(draft)
    return after_draft(form.draft.data)


def after_draft(token):
    """Where a draft leads: its request's confirmation once sent (a second click, a
    resubmitted form or the back button land there too), else back to the form."""
    done = ServiceRequest.sent_from_draft(current_user.id, token)
    if done:
        return redirect(url_for("requests.confirmation", number=done.number), 303)
    return redirect(url_for("requests.new", draft=token), 303)


@bp.route("/drafts/<token>/delete", methods=["GET", "POST"])
def delete_draft(token):
    """Ask, then delete an unfinished request with its files (only the owner's)."""
    draft = Draft.of_owner(current_user, token)
    if draft is None:
        abort(404)
    form = DeleteDraftForm()
    if not form.is_submitted():
        return render_template("requests/delete_draft.html", draft=draft, files=list(draft.files()), form=form)
    if not form.validate_on_submit():
        abort(400)
    draft.delete_with_files()
    return redirect(url_for("requests.index"), 303)


@bp.route("/<number>/confirmation")
def confirmation(number):
    return render_template("requests/confirmation.html", r=mine_or_404(number))


@bp.route("/<number>/receipt")
def receipt(number):
    """A receipt to print or keep: number, service, person, dates and status."""
    return render_template("requests/receipt.html", r=mine_or_404(number), now=utcnow())


# ------------------------------------------------------------------ a sent request

def decision_of(service_request):
    """(its rating, its objection) once decided, each None when there is none: read
    once for the page and for its key."""
    if not service_request.is_final:
        return None, None
    return Rating.of_request(service_request), Objection.of_request(service_request)


def page_context(service_request, answer_form=None, rating_form=None, decision=None):
    """What the request page shows; each form only where the page has it (an answer
    while returned, start again once rejected, a rating once decided, not rated and
    with no objection waiting, the offer to object while it may be sent)."""
    final, status = service_request.is_final, service_request.status
    rating, objection = decision or decision_of(service_request)
    waiting = objection is not None and objection.is_open
    return dict(r=service_request, events=list(Event.timeline(service_request)),
                documents=list(Document.listing(service_request)), panel_version=panel_version(service_request),
                answer_form=answer_form or (AnswerForm() if status == RETURNED else None), rating=rating,
                rating_form=rating_form or (RatingForm(formdata=None) if final and not rating and not waiting
                                            else None),
                again_form=AgainForm() if status == REJECTED else None,
                next_steps=after_acceptance(service_request.service) if final else None,
                objection=objection, objection_waiting=waiting, polling=service_request.awaits_staff or waiting,
                objection_last_day=objection_offered(service_request, objection))


def objection_offered(service_request, objection):
    """The last day to object, while the owner may still object to this request; else None."""
    if service_request.status != REJECTED or objection is not None:
        return None
    last_day = Objection.last_day(service_request)
    return last_day if last_day and riyadh_today() <= last_day else None


def panel_version(service_request):
    return f"{service_request.version}-{get_locale().language}"


@bp.route("/<number>")
def detail(number):
    """The same for every GET of one version (in one language ...), so each worker
    renders it once; each view gets its session's CSRF token (web/rendered.py)."""
    service_request = mine_or_404(number)
    decision = decision_of(service_request)
    def render_page():
        return render_template("requests/detail.html", **page_context(service_request, decision=decision))
    if request.method != "GET":  # HEAD: drawn without the language form's way back
        return render_page()
    return rendered_once(page_key(service_request, decision), render_page)


def page_key(service_request, decision):
    """All the request page shows that can change: the request (its version moves
    with every change its owner can see), its rating (kept out of the version, which
    staff pages carry), the registry's entry for the person, the language, the
    address (the language switch comes back to it), the menu."""
    person, (rating, objection) = service_request.person, decision
    offered = service_request.status == REJECTED and objection_offered(
        service_request, objection) is not None  # the offer ends with its last day
    return ("request-page", service_request.id, service_request.version, rating and rating.stars, offered,
            get_locale().language, person.name, person.id_type, person.id_number, person.nationality,
            request.full_path, current_user.is_staff)


def not_waiting(service_request, form):
    return render_template("requests/detail.html", error=_("This request is not waiting for your answer."),
                           **page_context(ServiceRequest.get_by_id(service_request.id), form)), 409


@bp.route("/<number>/answer", methods=["POST"])
def answer(number):
    """The resident answers a request returned for more information."""
    service_request = mine_or_404(number)
    form = AnswerForm()
    if service_request.status != RETURNED:
        return not_waiting(service_request, form)
    if form.validate_on_submit():
        files, form.documents.errors = form.uploads()
        if not form.documents.errors and not (files or form.message.data):
            form.message.errors = [_("Write an answer or attach a document.")]
        if not form.message.errors and not form.documents.errors:
            try:
                service_request.answer(current_user, form.message.data, files)
            except ActionRefused:  # answered a moment ago, from another tab
                return not_waiting(service_request, form)
            return redirect(url_for("requests.detail", number=service_request.number), 303)
    return render_template("requests/detail.html", **page_context(service_request, form)), 422


def detail_refusing(service_request, message, status=409, **context):
    """The request's page with why the step was refused (nothing changed)."""
    return render_template("requests/detail.html", error=message,
                           **page_context(ServiceRequest.get_by_id(service_request.id), **context)), status


@bp.route("/<number>/again", methods=["POST"])
def start_again(number):
    """A new draft from a rejected request: its service, person and description are
    filled in; the documents are chosen again. Then on to the form."""
    service_request = mine_or_404(number)
    if not AgainForm().validate_on_submit():
        abort(400)
    if service_request.status != REJECTED:
        return detail_refusing(service_request, _("Only a rejected request can be started again."))
    try:
        draft = service_request.draft_again()
    except TooManyDrafts:
        return render_template("requests/detail.html", drafts_full=True,
                               **page_context(service_request)), 409
    return redirect(url_for("requests.new", draft=draft.token, again=service_request.number), 303)


@bp.route("/<number>/rating", methods=["POST"])
def rate(number):
    """The owner rates a decided request, once."""
    service_request = mine_or_404(number)
    form = RatingForm()
    if not service_request.is_final:
        return detail_refusing(service_request, _("You can rate a request once it is decided."))
    if Objection.is_open_on(service_request):
        return detail_refusing(service_request, _("You can rate this request once your objection is decided."))
    if Rating.of_request(service_request):
        return already_rated(service_request)
    if not form.validate_on_submit():
        return render_template("requests/detail.html", **page_context(service_request, rating_form=form)), 422
    try:
        Rating.give(service_request, form.stars.data, form.comment.data)
    except AlreadyRated:  # rated a moment ago, from another tab
        return already_rated(service_request)
    except NotDecided:  # objected to a moment ago, from another tab
        return detail_refusing(service_request, _("You can rate this request once your objection is decided."))
    return redirect(url_for("requests.detail", number=service_request.number, _anchor="rating"), 303)


def already_rated(service_request):
    return detail_refusing(service_request, _("You have already rated this request: a request is rated once."))


@bp.route("/<number>/objection", methods=["GET", "POST"])
def objection(number):
    """Object to a rejection, once, within OBJECTION_DAYS of it: why, and documents.
    A refusal keeps what was typed on the page (409); a form to correct, 422."""
    service_request = mine_or_404(number)
    form = ObjectionForm()
    problem = Objection.refusal(service_request)
    if problem:
        return objection_page(service_request, form, 409, error=str(problem))
    if not form.is_submitted():
        return objection_page(service_request, form)
    if not form.validate_on_submit():
        return objection_page(service_request, form, 422)
    files, form.documents.errors = form.uploads()
    if form.documents.errors:
        return objection_page(service_request, form, 422)
    try:
        Objection.lodge(service_request, current_user, form.text.data, files)
    except ActionRefused as error:  # sent a moment ago from another tab, or the time ran out meanwhile
        return objection_page(service_request, form, 409, error=str(error))
    return redirect(url_for("requests.detail", number=service_request.number, _anchor="status-panel"), 303)


def objection_page(service_request, form, status=200, error=None):
    return render_template("requests/objection.html", r=service_request, form=form, error=error,
                           last_day=Objection.last_day(service_request),
                           days=current_app.config["OBJECTION_DAYS"]), status


@bp.route("/<number>/status")
def status_panel(number):
    """The live panel. A poll that carries the version it shows gets an empty 204
    when nothing changed; htmx then leaves the panel alone."""
    service_request = mine_or_404(number)
    if shown_version_is(panel_version(service_request)):
        return unchanged()  # two queries in all: the user and the request
    return render("requests/detail.html", "requests/_status_update.html", **page_context(service_request))


@bp.route("/<number>/documents/<int:document_id>")
def document(number, document_id):
    return send_document(document_or_404(mine_or_404(number), document_id))
