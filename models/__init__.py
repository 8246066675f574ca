"""Tawasul's models, one module per area (as FlaskBB keeps them):

- clock.py      the one place that reads the clock (UTC now, today in Riyadh)
- rules.py      pure rules, no database: digits, Luhn, identity and request numbers,
                working days, what an uploaded file really is
- base.py       the database handle, BaseModel, a stored file's columns
- users.py      accounts and the registry of linked persons (with their mobiles)
- identity.py   sessions, sign-in failures, one-time codes, recovery codes, rate-limit counters
- notices.py    the outbox of SMS notices
- catalogue.py  services and ready-made reasons (their data: catalogue_data.py)
- reasons.py    supervisors add, reword and retire ready-made reasons; the record of it
- deadlines.py  closed days (public holidays, the directorate's days off), the due date,
                a request's deadline (paused, overdue, moved with the calendar)
- drafts.py     requests being written, with their files
- statuses.py   a request's statuses and the moves between them
- workflow.py   ServiceRequest from submission to decision, its events and documents
- audit.py      the append-only trail of staff actions
- watcher.py    who must hear of requests at risk or overdue, told once by SMS
- assignment.py the rule that gives every request an officer; away, services handled,
                reassignment, the append-only trail of team changes
- figures.py    the deadline figures, computed in SQL
- ratings.py    residents' ratings of decided requests (staff see averages only)
- performance.py the record published: per service and month, kept ten minutes per process
- objections.py a resident's objection to a rejection, decided by a supervisor
- migrations/   the schema, one numbered script per change (`flask db upgrade`)

Everything is re-exported here, so `from models import ServiceRequest` works.
"""
from models import figures, performance  # noqa: F401  (the deadline figures, the record published)
from models.assignment import OfficerService, StaffChange
from models.audit import Audit
from models.base import BaseModel, StoredFile, check_database, db, write_transaction
from models.catalogue import Reason, Service, sync_catalogues
from models.clock import RIYADH, riyadh_date, riyadh_today, utcnow
from models.deadlines import (
                          AT_RISK_WORKING_DAYS,
                          REVIEW_WORKING_DAYS,
                          DayOff,
                          closed_days,
                          due_date,
                          public_holidays,
                          risk_horizon,
                          working_days_left,
)
from models.drafts import (
                          DESCRIPTION_MAX,
                          DESCRIPTION_MIN,
                          DRAFT_MAX_AGE_DAYS,
                          MAX_DRAFTS_PER_OWNER,
                          Draft,
                          DraftFile,
                          TooManyDrafts,
)
from models.identity import (
                          SENDS_PER_HOUR,
                          SENDS_PER_PHONE_PER_DAY,
                          SIGN_IN_TRIES,
                          CodeNotSent,
                          CodeSent,
                          LimitCounter,
                          OneTimeCode,
                          RecoveryCode,
                          SignInFailure,
                          WebSession,
)
from models.notices import Notice
from models.objections import OBJECTION_DAYS, OBJECTION_MIN, OVERTURNED, UPHELD, Objection
from models.ratings import COMMENT_MAX, STARS, AlreadyRated, NotDecided, Rating
from models.reasons import ReasonChange, ReasonRetired
from models.rules import (
                          ID_TYPE_LABELS,
                          ID_TYPES,
                          REQUEST_NUMBER_LENGTH,
                          InvalidNumber,
                          add_working_days,
                          clean_filename,
                          is_common_password,
                          latin_digits,
                          luhn_digit,
                          luhn_valid,
                          mask_mobile,
                          new_request_number,
                          normalize_digits,
                          parse_id_number,
                          parse_mobile,
                          parse_request_number,
                          sniff,
                          working_days_between,
)
from models.schema import status as schema_status
from models.schema import upgrade
from models.statuses import (
                          ACCEPTED,
                          FINAL_STATUSES,
                          OPEN_STATUSES,
                          RECEIVED,
                          REJECTED,
                          RETURNED,
                          STATUS_LABELS,
                          STATUSES,
                          TRANSITIONS,
                          UNDER_REVIEW,
                          ActionRefused,
)
from models.users import ROLES, STAFF_ROLES, Person, User, UsernameTaken
from models.watcher import StaffAlert, watch_pass
from models.workflow import (
                          Document,
                          Event,
                          ServiceRequest,
                          add_day_off,
                          remove_day_off,
)

MODELS = [User, Person, Service, DayOff, Reason, ServiceRequest, Event, Audit, Document, Draft, DraftFile,
          WebSession, SignInFailure, OneTimeCode, CodeSent, RecoveryCode, LimitCounter, Notice, Rating,
          ReasonChange, StaffAlert, Objection, OfficerService, StaffChange]

__all__ = [
    "ACCEPTED", "AT_RISK_WORKING_DAYS", "ActionRefused", "AlreadyRated", "Audit", "COMMENT_MAX",
    "BaseModel", "CodeNotSent", "CodeSent", "DESCRIPTION_MAX", "DESCRIPTION_MIN",
    "DRAFT_MAX_AGE_DAYS", "Document", "Draft", "DraftFile", "Event", "FINAL_STATUSES", "DayOff", "ID_TYPES",
    "ID_TYPE_LABELS", "InvalidNumber", "LimitCounter", "MAX_DRAFTS_PER_OWNER", "MODELS", "NotDecided", "Notice",
    "OBJECTION_DAYS", "OBJECTION_MIN", "OVERTURNED", "Objection", "UPHELD",
    "OfficerService", "StaffChange",
    "OPEN_STATUSES", "OneTimeCode", "Person", "RECEIVED", "REJECTED", "REQUEST_NUMBER_LENGTH", "RETURNED",
    "REVIEW_WORKING_DAYS", "RIYADH", "ROLES", "Rating", "Reason", "ReasonChange", "ReasonRetired", "RecoveryCode",
    "SENDS_PER_HOUR",
    "SENDS_PER_PHONE_PER_DAY",
    "SIGN_IN_TRIES", "STAFF_ROLES",
    "STARS", "STATUSES", "STATUS_LABELS", "Service", "ServiceRequest", "SignInFailure", "StaffAlert",
    "StoredFile", "TRANSITIONS",
    "TooManyDrafts", "UNDER_REVIEW", "User", "UsernameTaken", "WebSession", "add_day_off",
    "add_working_days", "check_database", "clean_filename", "closed_days", "db", "due_date", "is_common_password",
    "latin_digits",
    "luhn_digit", "luhn_valid",
    "mask_mobile", "new_request_number", "normalize_digits", "parse_id_number", "parse_mobile",
    "parse_request_number", "public_holidays", "remove_day_off", "risk_horizon", "riyadh_date", "riyadh_today",
    "schema_status", "sniff", "sync_catalogues", "upgrade", "utcnow", "watch_pass", "working_days_between",
    "working_days_left",
    "write_transaction",
]
