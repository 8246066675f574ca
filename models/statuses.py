"""A request's statuses, what each may follow, and the refusal a step the rules
forbid raises."""
from flask_babel import lazy_gettext as _l

RECEIVED, UNDER_REVIEW, RETURNED, ACCEPTED, REJECTED = (
    "received", "under_review", "returned", "accepted", "rejected")
STATUSES = (RECEIVED, UNDER_REVIEW, RETURNED, ACCEPTED, REJECTED)
FINAL_STATUSES = (ACCEPTED, REJECTED)
STATUS_LABELS = {
    RECEIVED: _l("Received"),
    UNDER_REVIEW: _l("Under review"),
    RETURNED: _l("Returned to you for more information"),
    ACCEPTED: _l("Accepted"),
    REJECTED: _l("Rejected"),
}
# new status -> the statuses it may follow
TRANSITIONS = {
    UNDER_REVIEW: (RECEIVED, RETURNED),
    RETURNED: (UNDER_REVIEW,),
    ACCEPTED: (UNDER_REVIEW,),
    REJECTED: (UNDER_REVIEW,),
}
OPEN_STATUSES = (RECEIVED, UNDER_REVIEW, RETURNED)


class ActionRefused(ValueError):
    """A step the rules refuse (a status change, a claim, an empty note); str() is
    the reason, translated for the person who tried."""

