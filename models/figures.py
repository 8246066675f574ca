"""The deadline figures, computed in SQL (the same queries on SQLite and PostgreSQL),
the daily chart drawn on the server as SVG, how the SMS notices fare, and, for
supervisors, each officer's requests at risk and overdue, share decided on time and
the reassignments of the period."""
import datetime as dt

from peewee import Case, Value, fn

from models.audit import Audit
from models.catalogue import Service
from models.clock import RIYADH
from models.deadlines import risk_horizon
from models.notices import DELIVERED, FAILED, PENDING, STAFF_NOTICE_KIND, Notice
from models.users import User
from models.workflow import ServiceRequest as SR  # noqa: N817 (a short alias keeps the SQL readable)

PERCENTILES = (("median", 0.5), ("p90", 0.9))


def by_service(query):
    """{service_id: row tuple without the service id} from a grouped query."""
    return {row[0]: row[1:] for row in query.tuples()}


def percentile_hours(start, end, per_service):
    """Nearest-rank median and 90th percentile of hours to decision, via window
    functions: {service_id (0 for all services): {"median": h, "p90": h}}."""
    partition = [SR.service] if per_service else []
    ranked = (SR.select((SR.service if per_service else Value(0)).alias("service_id"),
                        SR.hours_to_decision.alias("hours"),
                        fn.ROW_NUMBER().over(partition_by=partition, order_by=[SR.hours_to_decision]).alias("rn"),
                        fn.COUNT(SR.id).over(partition_by=partition).alias("n"))
              .where(SR.decided_on.between(start, end)).alias("ranked"))
    columns = [fn.MIN(Case(None, [(ranked.c.rn >= ranked.c.n * share, ranked.c.hours)])).alias(name)
               for name, share in PERCENTILES]
    query = SR.select(ranked.c.service_id, *columns).from_(ranked).group_by(ranked.c.service_id)
    return {row["service_id"]: row for row in query.dicts()}


def per_service(start, end, today):
    """One row per service, then the overall row: received, decided, decided within
    the deadline (and its share), overdue now, median and p90 hours to decision."""
    received = by_service(SR.select(SR.service, fn.COUNT(SR.id))
                          .where(SR.submitted_on.between(start, end)).group_by(SR.service))
    decided = by_service(SR.select(SR.service, fn.COUNT(SR.id),
                                   fn.SUM(Case(None, [(SR.decided_on <= SR.due_on, 1)], 0)))
                         .where(SR.decided_on.between(start, end)).group_by(SR.service))
    overdue = by_service(SR.select(SR.service, fn.COUNT(SR.id))
                         .where(SR.overdue_on(today))
                         .group_by(SR.service))
    at_risk = by_service(SR.select(SR.service, fn.COUNT(SR.id))
                         .where(SR.at_risk_on(today, risk_horizon(today)))
                         .group_by(SR.service))
    times = percentile_hours(start, end, per_service=True)
    rows = [row(service, received.get(service.id, (0,))[0], *decided.get(service.id, (0, 0)),
                overdue.get(service.id, (0,))[0], times.get(service.id, {}), at_risk.get(service.id, (0,))[0])
            for service in Service.ordered()]
    total = row(None, *(sum(r[key] for r in rows) for key in ("received", "decided", "within", "overdue")),
                percentile_hours(start, end, per_service=False).get(0, {}), sum(r["at_risk"] for r in rows))
    return rows, total


def row(service, received, decided, within, overdue, times, at_risk=0):
    within = int(within or 0)
    return dict(service=service, received=received, decided=decided, within=within, overdue=overdue,
                at_risk=at_risk, share=(within / decided) if decided else None,
                median=times.get("median"), p90=times.get("p90"))


def per_officer(start, end, today):
    """One row per active officer and per anyone else who holds requests now or
    decided some in the period (by name), then the row of requests nobody holds: at
    risk and overdue now, decided in the period, decided by the deadline and its share."""
    horizon = risk_horizon(today)
    held_now = (SR.select(SR.assignee, fn.SUM(Case(None, [(SR.at_risk_on(today, horizon), 1)], 0)),
                          fn.SUM(Case(None, [(SR.overdue_on(today), 1)], 0)))
                .where(SR.decided_at.is_null() & (SR.due_on <= horizon)).group_by(SR.assignee))
    now = {holder: (at_risk, overdue) for holder, at_risk, overdue in held_now.tuples()}
    decided_then = (SR.select(SR.assignee, fn.COUNT(SR.id), fn.SUM(Case(None, [(SR.decided_on <= SR.due_on, 1)], 0)))
                    .where(SR.decided_on.between(start, end)).group_by(SR.assignee))
    decided = {holder: (count, within) for holder, count, within in decided_then.tuples()}
    holders = [holder for holder in set(now) | set(decided) if holder is not None]
    officers = (User.role == "officer") & (User.disabled == False)  # noqa: E712 (SQL)
    staff = User.select().where(User.id.in_(holders) | officers).order_by(User.full_name, User.id)
    rows = [officer_row(user, now.get(user.id), decided.get(user.id)) for user in staff]
    nobody = officer_row(None, now.get(None), decided.get(None))
    return rows + ([nobody] if nobody["at_risk"] or nobody["overdue"] or nobody["decided"] else [])


def officer_row(user, now, decided):
    at_risk, overdue = (int(v or 0) for v in (now or (0, 0)))
    count, within = (int(v or 0) for v in (decided or (0, 0)))
    return dict(user=user, at_risk=at_risk, overdue=overdue, decided=count, within=within,
                share=(within / count) if count else None)


def day_bounds(start, end):
    """The period's first and last moment as naive UTC (Riyadh days)."""
    def utc(day):
        return dt.datetime.combine(day, dt.time.min, RIYADH).astimezone(dt.UTC).replace(tzinfo=None)
    return utc(start), utc(end + dt.timedelta(days=1))


def reassignments(start, end):
    """How many requests supervisors reassigned to another officer in the period
    (the audit trail's "reassign" rows)."""
    first, after = day_bounds(start, end)
    return Audit.select().where((Audit.action == "reassign") & (Audit.at >= first) & (Audit.at < after)).count()


def daily(start, end):
    """[(day, received, decided)] for every day of the period, zeros included."""
    received = dict(SR.select(SR.submitted_on, fn.COUNT(SR.id))
                    .where(SR.submitted_on.between(start, end)).group_by(SR.submitted_on).tuples())
    decided = dict(SR.select(SR.decided_on, fn.COUNT(SR.id))
                   .where(SR.decided_on.between(start, end)).group_by(SR.decided_on).tuples())
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [(day, received.get(day, 0), decided.get(day, 0)) for day in days]


def chart(days, width=640, height=100):
    """Bar geometry for the SVG template: two bars a day (received, decided), the
    highest reaching the top. The SVG stretches to the page's width and a fixed
    height, so its labels are HTML around it, at the page's own font size."""
    top = max([1] + [max(r, d) for _, r, d in days])
    slot = width / max(1, len(days))
    bar = max(1.0, slot / 2 - 1)
    bars = []
    for index, (day, received, decided) in enumerate(days):
        x = index * slot
        for offset, value, kind in ((0, received, "received"), (bar, decided, "decided")):
            h = round(value / top * height, 1)
            bars.append(dict(x=round(x + offset, 1), y=round(height - h, 1), w=round(bar, 1), h=h,
                             kind=kind, value=value, day=day))
    return dict(bars=bars, top=top, width=width, height=height, first=days[0][0], last=days[-1][0])


def notices():
    """{status: how many SMS notices to residents}, for pending, delivered and failed
    (all time); the staff's daily reminders (models.watcher) are not counted."""
    counted = dict(Notice.select(Notice.status, fn.COUNT(Notice.id)).where(Notice.kind != STAFF_NOTICE_KIND)
                   .group_by(Notice.status).tuples())
    return {status: counted.get(status, 0) for status in (PENDING, DELIVERED, FAILED)}
