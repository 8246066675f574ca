"""The resident's forms: a new request, its confirmation, an answer to a return,
discarding a draft; and reading uploaded files (by content, within the limits)."""
from babel.lists import format_list
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, RadioField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    ID_TYPE_LABELS,
    OBJECTION_MIN,
    InvalidNumber,
    Person,
    Service,
    clean_filename,
    parse_id_number,
    sniff,
)
from web.fields import DigitsField
from web.formatting import eligibility_rule, format_filesize, nationality_name
from web.views import MAX_ID


def read_uploads(uploads):
    """([(name, content type, bytes)], [problem]) for the uploaded files: PDF, JPEG or
    PNG by their content, at most MAX_DOCUMENT_BYTES each."""
    max_bytes = current_app.config["MAX_DOCUMENT_BYTES"]
    accepted, problems = [], []
    for upload in uploads:
        if not upload.filename:
            continue  # an empty file input
        name = upload.filename
        data = upload.read(max_bytes + 1)
        kind = sniff(data)
        if len(data) > max_bytes:
            problems.append(_("“%(name)s” is larger than %(size)s: choose a smaller file.",
                              name=name, size=format_filesize(max_bytes)))
        elif not data:
            problems.append(_("“%(name)s” is empty.", name=name))
        elif kind is None:
            problems.append(_("“%(name)s” is not a PDF, JPEG or PNG file.", name=name))
        else:
            accepted.append((clean_filename(name, kind[1]), kind[0], data))
    return accepted, problems


def over_limit_messages(names):
    """The message for each file refused because the limit was reached."""
    limit = current_app.config["MAX_DOCUMENTS"]
    return [_("At most %(limit)d documents: “%(name)s” was not added.", limit=limit, name=name) for name in names]


def eligibility_error(service, person):
    """Why `person` cannot have `service`, in the user's language, or None."""
    locale = get_locale()
    rule = service.ineligibility(person)
    if rule == "nationality":
        return _l("“%(service)s” is only for nationals of %(countries)s; %(name)s is a national of %(nationality)s.",
                  service=service.name(locale), name=person.name,
                  countries=format_list([nationality_name(c) for c in service.nationality_rule], style="or",
                                        locale=locale),
                  nationality=nationality_name(person.nationality))
    if rule == "id_type":
        return _l("“%(service)s” is only for holders of: %(types)s; %(name)s has a %(type)s.",
                  service=service.name(locale), name=person.name,
                  types=format_list([str(ID_TYPE_LABELS[t]) for t in service.id_type_rule], style="or",
                                    locale=locale),
                  type=ID_TYPE_LABELS[person.id_type])
    return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RequestForm(FlaskForm):
    draft = HiddenField()
    service = RadioField(_l("Service"), validate_choice=False)
    person = RadioField(_l("The person this request is about"), validate_choice=False)
    id_number = DigitsField(_l("Or type the person's identity number"))
    description = TextAreaField(_l("Describe the problem in detail"))
    documents = MultipleFileField(_l("Add documents"))
    remove = MultiCheckboxField(_l("Remove"), coerce=int, validate_choice=False)

    def setup(self, user, draft, from_draft, preset_service=None):
        """Choices from the database; remembered values from the draft on a GET (or the
        service asked for in the address, on a new form)."""
        locale = get_locale()
        self.user = user
        self.services = {s.code: s for s in Service.ordered()}
        self.persons = {str(p.id): p for p in Person.linked_to(user)}
        self.service.choices = [(code, s.name(locale)) for code, s in self.services.items()]
        self.person.choices = [(pid, p.name) for pid, p in self.persons.items()]
        self.remove.choices = [(f.id, f.name) for f in draft.files()] if draft.id else []
        if from_draft and draft.id:
            self.draft.data = draft.token
            self.service.data = draft.service.code if draft.service_id else None
            self.person.data = str(draft.person_id) if draft.person_id else None
            self.description.data = draft.description
        elif from_draft and preset_service in self.services:
            self.service.data = preset_service
        self.chosen_service = self.services.get(self.service.data)
        self.chosen_person = None
        # Persons who may not have the chosen service: shown disabled, with the rule.
        self.blocked = {pid: eligibility_rule(self.chosen_service) for pid, p in self.persons.items()
                        if self.chosen_service and self.chosen_service.ineligibility(p)}
        if from_draft and self.person.data in self.blocked:
            self.person.data = None

    def excluded_services(self, person):
        """The codes of the services `person` may not have (for app.js)."""
        return " ".join(code for code, s in self.services.items() if s.ineligibility(person))

    def validate_service(self, field):
        if not self.chosen_service:
            raise ValidationError(_l("Choose the service this request is about."))

    def validate_person(self, field):
        typed = (self.id_number.data or "").strip()
        if typed:
            return  # validate_id_number decides
        self.chosen_person = self.persons.get(field.data)
        if not self.chosen_person:
            raise ValidationError(_l("Choose the person, or type their identity number."))
        self.check_eligibility()

    def validate_id_number(self, field):
        if not (field.data or "").strip():
            return
        try:
            number = parse_id_number(field.data)
        except InvalidNumber as error:
            raise ValidationError(str(error)) from None
        field.data = number
        self.chosen_person = Person.linked_by_number(self.user, number)
        if not self.chosen_person:
            raise ValidationError(_l("This person is not linked to your account. You can file only for "
                                     "yourself and the persons the registry links to you."))
        self.check_eligibility()

    def check_eligibility(self):
        problem = self.chosen_service and eligibility_error(self.chosen_service, self.chosen_person)
        if problem:
            self.service.errors = list(self.service.errors or []) + [str(problem)]

    def validate_description(self, field):
        text = (field.data or "").strip()
        field.data = text
        if len(text) < DESCRIPTION_MIN:
            raise ValidationError(_l("Describe the problem in at least %(min)d characters (now %(count)d), "
                                     "so the officer can decide without contacting you.",
                                     min=DESCRIPTION_MIN, count=len(text)))
        if len(text) > DESCRIPTION_MAX:
            raise ValidationError(_l("The description may have at most %(max)d characters (now %(count)d).",
                                     max=DESCRIPTION_MAX, count=len(text)))

    def has_errors(self):
        return any(field.errors for field in self)

    def removed_ids(self):
        return [i for i in self.remove.data or [] if 0 < i < MAX_ID]

    def uploads(self):
        """(accepted files, problems) of the files sent with the form."""
        return read_uploads(request.files.getlist(self.documents.name))


class ConfirmForm(FlaskForm):
    draft = HiddenField()


class DeleteDraftForm(FlaskForm):
    """Delete an unfinished request: nothing to fill in but the CSRF token."""


class AnswerForm(FlaskForm):
    """The resident's answer when a request was returned for more information."""
    message = TextAreaField(_l("Your answer"))
    documents = MultipleFileField(_l("Add documents"))

    def validate_message(self, field):
        field.data = (field.data or "").strip()
        if len(field.data) > DESCRIPTION_MAX:
            raise ValidationError(_l("The answer may have at most %(max)d characters (now %(count)d).",
                                     max=DESCRIPTION_MAX, count=len(field.data)))

    def uploads(self):
        """(accepted files, problems): at most MAX_DOCUMENTS files in one answer."""
        files, problems = read_uploads(request.files.getlist(self.documents.name))
        limit = current_app.config["MAX_DOCUMENTS"]
        return files[:limit], problems + over_limit_messages(name for name, _type, _data in files[limit:])


class ObjectionForm(FlaskForm):
    """The resident's objection to a rejection: why, and documents if they help."""
    text = TextAreaField(_l("Why the decision should change"))
    documents = MultipleFileField(_l("Add documents (optional)"))

    def validate_text(self, field):
        field.data = (field.data or "").strip()
        if len(field.data) < OBJECTION_MIN:
            raise ValidationError(_l("Say why in at least %(min)d characters (now %(count)d), so the supervisor "
                                     "can decide without contacting you.", min=OBJECTION_MIN, count=len(field.data)))
        if len(field.data) > DESCRIPTION_MAX:
            raise ValidationError(_l("The objection may have at most %(max)d characters (now %(count)d).",
                                     max=DESCRIPTION_MAX, count=len(field.data)))

    def uploads(self):
        """(accepted files, problems): the same checks and limits as a request's documents."""
        files, problems = read_uploads(request.files.getlist(self.documents.name))
        limit = current_app.config["MAX_DOCUMENTS"]
        return files[:limit], problems + over_limit_messages(name for name, _type, _data in files[limit:])


class AgainForm(FlaskForm):
    """Start a new request from a rejected one: nothing to fill in but the CSRF token."""


def to_stars(value):
    """The number of stars chosen, or None for anything else (never an error page)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class RatingForm(FlaskForm):
    """How satisfied the resident is with a decided request: 1 to 5, and a comment."""
    stars = RadioField(_l("How satisfied are you with how your request was handled?"), coerce=to_stars,
                       validate_choice=False,
                       choices=[(1, _l("1 of 5: very dissatisfied")), (2, _l("2 of 5: dissatisfied")),
                                (3, _l("3 of 5: neither satisfied nor dissatisfied")),
                                (4, _l("4 of 5: satisfied")), (5, _l("5 of 5: very satisfied"))])
    comment = TextAreaField(_l("Comment (optional)"), filters=[lambda value: (value or "").strip()], validators=[
        Length(max=COMMENT_MAX, message=_l("At most %(max)d characters.", max=COMMENT_MAX))])

    def validate_stars(self, field):
        if field.data not in (1, 2, 3, 4, 5):
            raise ValidationError(_l("Choose from 1 to 5 stars."))
