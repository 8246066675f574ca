import datetime as dt
import re

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from models import ACCEPTED, OPEN_STATUSES, REJECTED, STATUS_LABELS, Reason, Service, normalize_digits, riyadh_today
from models.reasons import KIND_LABELS, KINDS, RETIRED_REASON, TEXT_MAX
from web.fields import DigitsDateField, DigitsField, SelectField

REASON_MAX = 2000


QUEUE_VIEWS = {"mine": _l("Assigned to me"), "unassigned": _l("Assigned to nobody"), "all": _l("All undecided")}


class QueueForm(FlaskForm):
    """Filters of the queue, read from the URL (GET), so they can be bookmarked. The
    view: an officer's opens on "Assigned to me", a supervisor's on all, those
    assigned to nobody first; a search looks through all. `mine` and `unassigned`
    are the views' names in addresses bookmarked before there were views."""
    class Meta:
        csrf = False

    view = SelectField(_l("Show"), choices=list(QUEUE_VIEWS.items()), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    service = SelectField(_l("Service"), validate_choice=False)
    overdue = BooleanField(_l("Overdue"))
    mine = BooleanField(_l("Mine"))
    unassigned = BooleanField(_l("Unassigned"))
    q = DigitsField(_l("Request or identity number"))
    after = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = get_locale()
        self.status.choices = [("", _l("Any status"))] + [(s, STATUS_LABELS[s]) for s in OPEN_STATUSES]
        self.service.choices = [("", _l("Any service"))] + [(s.code, s.name(locale)) for s in Service.ordered()]

    def validate_q(self, field):
        digits = normalize_digits(field.data)
        if digits and not re.fullmatch(r"[0-9]{9}|[0-9]{10}", digits):
            raise ValidationError(_l("Search by a request number (9 digits) or an identity number (10 digits)."))

    def resolve_view(self, role):
        """The view shown: the one asked for, else the one an old address named, else
        all for a search, else the role's own. Written back into `view`."""
        view = (self.view.data if self.view.data in QUEUE_VIEWS else
                "mine" if self.mine.data else "unassigned" if self.unassigned.data else
                "all" if (self.q.data or "").strip() else "mine" if role == "officer" else "all")
        self.view.data, self.mine.data, self.unassigned.data = view, False, False
        return view

    def filters(self):
        view = self.view.data
        return dict(status=self.status.data or None, service=self.service.data or None,
                    overdue=self.overdue.data, mine=view == "mine", unassigned=view == "unassigned",
                    search=(self.q.data or "").strip() or None, after=self.cursor(),
                    unassigned_first=self.unassigned_first())

    def unassigned_first(self):
        return self.view.data == "all"

    def cursor(self):
        """The keyset position of the last row of the previous page: "YYYY-MM-DD_id",
        or "held_YYYY-MM-DD_id" (held 0 or 1) in the view with the unassigned first."""
        parts = (self.after.data or "").split("_")
        try:
            held = [bool(int(parts.pop(0)))] if self.unassigned_first() and len(parts) == 3 else []
            day, row_id = parts
            day, row_id = dt.date.fromisoformat(day), int(row_id)
        except ValueError:
            return None
        return (*held, day, row_id) if 0 <= row_id < 2 ** 63 else None

    @staticmethod
    def position(row, unassigned_first):
        """The cursor that follows `row` (see cursor())."""
        held = f"{int(row.assignee_id is not None)}_" if unassigned_first else ""
        return f"{held}{row.due_on.isoformat()}_{row.id}"


class ActionForm(FlaskForm):
    """Claim, release, start review: nothing to fill in but the CSRF token."""


class ReturnForm(FlaskForm):
    message = TextAreaField(_l("What is missing (the resident reads this)"), validators=[
        DataRequired(_l("Say what is missing: the resident reads this message.")),
        Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX))])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note (staff only)"), validators=[
        DataRequired(_l("Write the note first.")),
        Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX))])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[(ACCEPTED, _l("Accept")), (REJECTED, _l("Reject"))],
                          validators=[DataRequired(_l("Choose accept or reject."))])
    reason_choice = SelectField(_l("Ready-made reason"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Reason in your own words (the resident reads this)"), validators=[
        Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX))])

    def setup(self, service):
        """The service's ready-made reasons, grouped by the decision they go with."""
        self.reasons = {r.id: r for r in Reason.for_service(service)}
        locale = get_locale()
        self.reason_choice.choices = {None: [(0, _("None"))]} | {
            group: [(r.id, r.text(locale)) for r in self.reasons.values() if r.kind == kind]
            for kind, group in (("accept", _("Accept")), ("reject", _("Reject")))}
        return self

    def chosen_reason(self):
        return self.reasons.get(self.reason_choice.data)

    def validate_reason_choice(self, field):
        reason = self.chosen_reason()
        if field.data and reason is None:
            retired = Reason.select().where((Reason.id == field.data) & Reason.retired_at.is_null(False)).exists()
            raise ValidationError(RETIRED_REASON if retired else _l("Choose a reason from the list."))
        if reason and reason.kind != {ACCEPTED: "accept", REJECTED: "reject"}.get(self.decision.data):
            raise ValidationError(_l("This ready-made reason does not go with this decision."))

    def validate_reason(self, field):
        field.data = (field.data or "").strip()
        if self.decision.data == REJECTED and not field.data and not self.chosen_reason():
            raise ValidationError(_l("A rejection needs a reason the resident can read."))


ARABIC_LETTER = re.compile("[\u0621-\u064a]")
LATIN_LETTER = re.compile("[A-Za-z]")


class RewordForm(FlaskForm):
    """A ready-made reason's words, both languages required (officers and residents
    read either)."""
    text_ar = TextAreaField(_l("The reason in Arabic"), validators=[
        DataRequired(_l("Write the reason in Arabic.")),
        Length(max=TEXT_MAX, message=_l("At most %(max)d characters.", max=TEXT_MAX))])
    text_en = TextAreaField(_l("The reason in English"), validators=[
        DataRequired(_l("Write the reason in English.")),
        Length(max=TEXT_MAX, message=_l("At most %(max)d characters.", max=TEXT_MAX))])

    def validate_text_ar(self, field):
        field.data = " ".join((field.data or "").split())
        if field.data and not ARABIC_LETTER.search(field.data):
            raise ValidationError(_l("Write the Arabic text in Arabic letters."))

    def validate_text_en(self, field):
        field.data = " ".join((field.data or "").split())
        if field.data and not LATIN_LETTER.search(field.data):
            raise ValidationError(_l("Write the English text in English letters."))

    def same_as(self, reason):
        """True (and the form says so) when the words are the reason's own already."""
        if (self.text_ar.data, self.text_en.data) != (reason.text_ar, reason.text_en):
            return False
        same = _("These are the reason's words already: change them first.")
        self.text_en.errors = list(self.text_en.errors) + [same]
        return True


class ReasonForm(RewordForm):
    """A new ready-made reason: for which service (or all), for which decision, its words."""
    service = SelectField(_l("For which service"), validate_choice=False)
    kind = RadioField(_l("For which decision"), choices=[(k, KIND_LABELS[k]) for k in KINDS], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = get_locale()
        self.services = {s.code: s for s in Service.ordered()}
        self.service.choices = [("", _l("All services"))] + [(c, s.name(locale)) for c, s in self.services.items()]

    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError(_l("Choose acceptance or rejection."))

    def validate_service(self, field):
        if field.data and field.data not in self.services:
            raise ValidationError(_l("Choose a service from the list."))

    def chosen_service(self):
        return self.services.get(self.service.data)


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DigitsDateField(_l("From"), validators=[Optional()])
    end = DigitsDateField(_l("To"), validators=[Optional()])

    def period(self):
        """(start, end) dates, the last 28 days by default."""
        end = self.end.data or riyadh_today()
        return (self.start.data or end - dt.timedelta(days=27)), end

    def validate(self, extra_validators=None):
        """The period as a whole: from 2000 on, in order, at most a year long."""
        if not super().validate(extra_validators):
            return False
        if any(d and d.year < 2000 for d in (self.start.data, self.end.data)):
            problem = _l("Choose dates from the year 2000 on.")
        else:
            start, end = self.period()
            problem = (_l("The period must end after it starts.") if start > end else
                       _l("Choose a period of at most one year.") if (end - start).days > 366 else None)
        if problem:
            self.end.errors = [problem]
        return problem is None


class ObjectionDecisionForm(FlaskForm):
    """A supervisor's decision on an objection: the rejection stands (with the reason
    the resident reads) or is overturned (the request becomes accepted)."""
    outcome = RadioField(_l("Decision on the objection"),
                         choices=[("upheld", _l("The rejection stands (objection upheld)")),
                                  ("overturned", _l("Overturn the rejection: the request is accepted"))],
                         validators=[DataRequired(_l("Choose whether the rejection stands or is overturned."))])
    reason = TextAreaField(_l("Reason (the resident reads this)"), validators=[
        Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX))])

    def validate_reason(self, field):
        field.data = (field.data or "").strip()
        if self.outcome.data == "upheld" and not field.data:
            raise ValidationError(_l("When the rejection stands, give the reason: the resident reads it."))
class AwayForm(FlaskForm):
    """A supervisor marks an officer away through a day (the last day away)."""
    until = DigitsDateField(_l("Away through"), validators=[
        DataRequired(_l("Give the last day away as a date, e.g. 2026-12-31."))])

    def validate_until(self, field):
        if field.data < riyadh_today():
            raise ValidationError(_l("Choose today or a later day."))


class ServicesForm(FlaskForm):
    """The services an officer handles: none chosen means every service."""
    services = SelectMultipleField(_l("Services handled"), coerce=int, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.services.choices = [(s.id, s.name(get_locale())) for s in Service.ordered()]

    def validate_services(self, field):
        if set(field.data or ()) - {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose services from the list."))


class ReassignForm(FlaskForm):
    """A supervisor gives an undecided request to a named officer, saying why."""
    officer = SelectField(_l("Give it to"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Why (kept in the audit trail)"), validators=[
        DataRequired(_l("Say why it moves: the reason is kept in the audit trail.")),
        Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX))])

    def setup(self, service_request, candidates, counts, supervisor):
        """The officers who may be given it (active, not away, not its holder), each
        with their undecided count, then the supervisor, to decide it themself."""
        self.officer.choices = [(o.id, ngettext("%(name)s (%(num)d undecided)", "%(name)s (%(num)d undecided)",
                                                counts.get(o.id, 0), name=o.full_name))
                                for o in candidates if o.id != service_request.assignee_id]
        if service_request.assignee_id != supervisor.id:
            self.officer.choices.append((supervisor.id, _("Myself, to decide it")))
        return self
