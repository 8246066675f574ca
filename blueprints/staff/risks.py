"""Supervisors' "At risk and overdue": the overdue requests first (most working
days over first), then those at risk (models.deadlines), each with its service, its
officer and the working days over or left. Supervisors only (403 for officers).

Each list is a range of the open-queue index (due_on, id WHERE decided_at IS NULL)
and shows at most SHOWN rows with the total, so the page costs the same with a
million requests in the database."""
import datetime as dt

from flask import render_template
from peewee import JOIN

from blueprints.staff.routes import bp
from models import Service, ServiceRequest, User, closed_days, risk_horizon, riyadh_today, working_days_left
from web.views import supervisor_required

SHOWN = 100


def listed(condition):
    """(the first SHOWN requests meeting `condition`, soonest deadline first, with
    their service and officer; how many meet it)."""
    officer = User.alias()
    query = (ServiceRequest.select(ServiceRequest, Service, officer).join(Service).switch(ServiceRequest)
             .join(officer, JOIN.LEFT_OUTER, on=(ServiceRequest.assignee == officer.id))
             .where(condition).order_by(ServiceRequest.due_on, ServiceRequest.id))
    rows = list(query.limit(SHOWN))
    total = len(rows) if len(rows) < SHOWN else ServiceRequest.select().where(condition).count()
    return rows, total


@bp.route("/risks")
@supervisor_required
def risks():
    today = riyadh_today()
    horizon = risk_horizon(today)
    overdue, overdue_total = listed(ServiceRequest.overdue_on(today))
    at_risk, at_risk_total = listed(ServiceRequest.at_risk_on(today, horizon))
    first = min([r.due_on for r in overdue] + [today])
    closed = closed_days(first, max(today, horizon) + dt.timedelta(days=1))
    days = {r.id: working_days_left(today, r.due_on, closed) for r in overdue + at_risk}
    return render_template("staff/risks.html", today=today, overdue=overdue, overdue_total=overdue_total,
                           at_risk=at_risk, at_risk_total=at_risk_total, days=days, shown=SHOWN)
