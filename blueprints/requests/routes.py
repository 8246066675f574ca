from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.common import MAX_ID, document_or_404, render, send_document, shown_version_is, unchanged
from blueprints.requests.forms import AnswerForm, ConfirmForm, RequestForm, clean_filename, sniff
from models import (RETURNED, Draft, Document, Event, InvalidNumber, ServiceRequest, TransitionError, db,
                    parse_request_number, utcnow)

bp = Blueprint("requests", __name__, template_folder="../../templates")


@bp.before_request
@login_required
def require_login():
    pass


@bp.route("/")
def index():
    return render_template("requests/index.html", requests=ServiceRequest.of_owner(current_user))


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = RequestForm()
    token = form.draft.data if form.is_submitted() else request.args.get("draft")
    draft = Draft.of_owner(current_user, token) or Draft.start(current_user)
    form.setup(current_user, draft, from_draft=not form.is_submitted())
    if not form.is_submitted():
        return render_new(form, draft)
    form.validate_on_submit()
    save_draft(form, draft)
    if draft.file_count() == 0 and not form.documents.errors:
        form.documents.errors = [_("Attach at least one document that supports your request.")]
    if form.has_errors():
        return render_new(form, draft, 422)
    return redirect(url_for("requests.check", draft=draft.token), 303)


def render_new(form, draft, status=200):
    form.draft.data = draft.token if draft.id else ""
    return render_template("requests/new.html", form=form, draft=draft,
                           files=list(draft.files()) if draft.id else []), status


def save_draft(form, draft):
    """Keep what was typed and every acceptable file, even when something else is
    wrong, so nothing has to be uploaded twice on a slow connection."""
    with db.atomic():
        draft.service = form.chosen_service
        draft.person = form.chosen_person or draft.person
        draft.description = form.description.data or ""
        draft.updated_at = utcnow()
        draft.save()
        if form.remove.data:
            draft.remove_files([i for i in form.remove.data if 0 < i < MAX_ID])
        problems = store_uploads(draft, request.files.getlist(form.documents.name))
    form.documents.errors = list(form.documents.errors or []) + problems
    form.draft.data = draft.token


def store_uploads(draft, uploads):
    """Add each acceptable upload to the draft; return a message for each refused one."""
    accepted, problems = read_uploads(uploads, current_app.config["MAX_DOCUMENTS"] - draft.file_count())
    for name, content_type, data in accepted:
        draft.add_file(name, content_type, data)
    return problems


def read_uploads(uploads, room):
    """([(name, content type, bytes)], [problem]) for the uploaded files: PDF, JPEG or
    PNG by their content, at most 5 MB each, at most `room` of them."""
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    limit = current_app.config["MAX_DOCUMENTS"]
    accepted, problems = [], []
    for upload in uploads:
        if not upload.filename:
            continue  # an empty file input
        name = upload.filename
        data = upload.read(max_bytes + 1)
        kind = sniff(data)
        if len(accepted) >= room:
            problems.append(_("At most %(limit)d documents: “%(name)s” was not added.", limit=limit, name=name))
        elif len(data) > max_bytes:
            problems.append(_("“%(name)s” is larger than 5 MB: choose a smaller file.", name=name))
        elif not data:
            problems.append(_("“%(name)s” is empty.", name=name))
        elif kind is None:
            problems.append(_("“%(name)s” is not a PDF, JPEG or PNG file.", name=name))
        else:
            accepted.append((clean_filename(name, kind[1]), kind[0], data))
    return accepted, problems


def complete_draft(token):
    """The owner's draft when it is ready to check and confirm, else None."""
    draft = Draft.of_owner(current_user, token)
    if not draft or not draft.service_id or not draft.person_id or not draft.file_count():
        return None
    form = RequestForm(formdata=None, meta={"csrf": False})
    form.setup(current_user, draft, from_draft=True)
    form.validate()
    return None if form.has_errors() else draft


@bp.route("/new/check")
def check():
    token = request.args.get("draft")
    draft = complete_draft(token)
    if draft is None:
        return after_draft(token)
    return render_template("requests/check.html", draft=draft, files=list(draft.files()),
                           form=ConfirmForm(draft=draft.token))


@bp.route("/new/confirm", methods=["POST"])
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    draft = None if sent_from(form.draft.data) else complete_draft(form.draft.data)
    if draft is not None:
        ServiceRequest.submit(draft)
    return after_draft(form.draft.data)


def sent_from(token):
    """The owner's request made from this draft, if it was confirmed already."""
    return ServiceRequest.get_or_none((ServiceRequest.draft_token == (token or ""))
                                      & (ServiceRequest.owner == current_user.id))


def after_draft(token):
    """Where a draft leads: its request's confirmation once sent (a second click, a
    resubmitted form or the back button land there too), else back to the form."""
    done = sent_from(token)
    if done:
        return redirect(url_for("requests.confirmation", number=done.number), 303)
    return redirect(url_for("requests.new", draft=token), 303)


def owned_or_404(number):
    try:
        number = parse_request_number(number)
    except InvalidNumber:
        abort(404)
    found = ServiceRequest.owned(current_user, number)
    if found is None:
        abort(404)
    return found


@bp.route("/<number>/confirmation")
def confirmation(number):
    return render_template("requests/confirmation.html", r=owned_or_404(number))


def page_context(service_request, answer_form=None):
    return dict(r=service_request, events=list(Event.timeline(service_request)),
                documents=list(Document.listing(service_request)),
                panel_version=panel_version(service_request), answer_form=answer_form or AnswerForm())


def panel_version(service_request):
    return f"{service_request.version}-{get_locale().language}"


@bp.route("/<number>")
def detail(number):
    return render_template("requests/detail.html", **page_context(owned_or_404(number)))


def not_waiting(service_request, form):
    return render_template("requests/detail.html", error=_("This request is not waiting for your answer."),
                           **page_context(ServiceRequest.get_by_id(service_request.id), form)), 409


@bp.route("/<number>/answer", methods=["POST"])
def answer(number):
    """The resident answers a request returned for more information."""
    service_request = owned_or_404(number)
    form = AnswerForm()
    if service_request.status != RETURNED:
        return not_waiting(service_request, form)
    if form.validate_on_submit():
        files, problems = read_uploads(request.files.getlist(form.documents.name),
                                       current_app.config["MAX_DOCUMENTS"])
        form.documents.errors = problems
        if not problems and not (files or form.message.data):
            form.message.errors = [_("Write an answer or attach a document.")]
        if not form.message.errors and not problems:
            try:
                service_request.answer(current_user, form.message.data, files)
            except TransitionError:  # answered a moment ago, from another tab
                return not_waiting(service_request, form)
            return redirect(url_for("requests.detail", number=service_request.number), 303)
    return render_template("requests/detail.html", **page_context(service_request, form)), 422


@bp.route("/<number>/status")
def status_panel(number):
    """The live panel. A poll that carries the version it shows gets an empty 204
    when nothing changed; htmx then leaves the panel alone."""
    service_request = owned_or_404(number)
    if shown_version_is(panel_version(service_request)):
        return unchanged()  # two queries in all: the user and the request
    context = page_context(service_request)
    response = render("requests/detail.html", "requests/_status_update.html", **context)
    response.set_etag(context["panel_version"])
    return response.make_conditional(request)


@bp.route("/<number>/documents/<int:document_id>")
def document(number, document_id):
    return send_document(document_or_404(owned_or_404(number), document_id))
