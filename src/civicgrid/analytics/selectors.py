"""KPI queries (DESIGN §10), always within the caller's jurisdiction.

One SQL statement per period computes the counts of :mod:`civicgrid.analytics.kpi` for every
group at once (conditional sums over the events of the region's subtree); working time comes
from the day index (``CalendarDay``) joined at both ends of each event's handling interval.
The same numbers come out of ``kpi.compute`` over the rows of ``civicgrid export events``;
the tests keep it so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from civicgrid.accounts.scoping import contains
from civicgrid.analytics import kpi
from civicgrid.core.errors import FieldError, NotFound, ServiceError

GROUPS = {
    "district": "e.district_code",
    "street": "SUBSTR(e.region_path, 15, 9)",
    "community": "SUBSTR(e.region_path, 25, 12)",
    "department": "(SELECT d.code FROM accounts_department d WHERE d.id = e.department_id)",
    "category": "SUBSTR(e.category_id, 1, 2)",
    "channel": "e.channel",
    "month": "''",
    "": "''",
}
GROUP_LABELS = {
    "district": "区",
    "street": "街道",
    "community": "社区",
    "department": "部门",
    "category": "事项大类",
    "channel": "渠道",
    "month": "月份",
}
NONE_KEY = "-"  # events without a department or category yet


@dataclass(frozen=True)
class Scope:
    code: str
    name: str
    level: str
    path: str


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError("输入有误", [FieldError(field, message)])


def region_for(user, code: str | None) -> Scope:
    """The region asked for (default: the user's jurisdiction); 422 unknown, 404 outside."""
    from civicgrid.geo.models import Region

    if not code:
        j = user.jurisdiction if user.jurisdiction_id else None
        if j is None:
            if not user.is_superuser:
                raise NotFound("没有辖区，不能查看统计")
            j = Region.light.get(level="city")
        return Scope(j.code, j.name, j.level, j.path)
    r = Region.light.filter(code=code).only("code", "name", "level", "path").first()
    if r is None or r.level == "grid":
        raise _invalid("region", f"区域 {code} 不存在（应为市、区、街道或社区代码）")
    if not contains(user, r.path):
        raise NotFound(f"区域 {code} 不存在")
    return Scope(r.code, r.name, r.level, r.path)


def period_for(first: dt.date | None, last: dt.date | None) -> kpi.Period:
    today = dt.datetime.now(kpi.SHANGHAI).date()
    last = last or today
    first = first or last - dt.timedelta(days=29)
    why = kpi.check_period(first, last)
    if why:
        early = first > last or not kpi.FIRST_YEAR <= first.year <= kpi.LAST_YEAR
        raise _invalid("from" if early else "to", why)
    return kpi.Period(first, last)


def check_group(group_by: str | None) -> str:
    g = group_by or ""
    if g not in GROUPS:
        raise _invalid("group_by", f"不支持按 {g} 分组（可用：{'、'.join(GROUP_LABELS)}）")
    return g


# --- SQL -------------------------------------------------------------------------------------


def _epoch(col: str) -> str:
    """Seconds since 1970 (UTC) of a datetime column, as a float, on either database."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {col})::float8"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
    return f"(CAST(strftime('%%s', {col}) AS REAL) + CAST(substr({col}, 20) AS REAL))"


def _day(epoch: str) -> str:
    """The local (UTC+8, no DST since 1991) day number of an epoch."""
    if connection.vendor == "postgresql":
        return f"FLOOR(({epoch} + 28800) / 86400)::int"
    return f"CAST(({epoch} + 28800) / 86400 AS INTEGER)"


def _w(epoch: str, cal: str) -> str:
    """W(t): workday seconds from the index's origin up to t."""
    return (
        f"({cal}.cum * 86400.0 + CASE WHEN {cal}.workday "
        f"THEN ({epoch} + 28800 - {cal}.day * 86400.0) ELSE 0 END)"
    )


def _in(col: str) -> str:
    return f"({col} >= %(s)s AND {col} < %(e)s)"


def working() -> str:
    """An event's working seconds from start ``x.es`` to handled ``x.eh``, with the calendar
    days ``cs`` and ``ch`` joined (see ``event_times``); 0 when either day is unknown."""
    return (
        "CASE WHEN x.eh > x.es AND cs.day IS NOT NULL AND ch.day IS NOT NULL "
        f"THEN {_w('x.eh', 'ch')} - {_w('x.es', 'cs')} ELSE 0 END"
    )


def event_times() -> str:
    """The columns of ``events_event e`` every KPI is computed from: its moments as epoch
    seconds (acc, dl, cl, eh, es, dp, ct) and the per-event flags and counts."""
    return f"""
        {_epoch("e.accepted_at")} AS acc,
        {_epoch("e.deadline")} AS dl,
        {_epoch("e.closed_at")} AS cl,
        {_epoch("COALESCE(e.resolved_at, e.closed_at)")} AS eh,
        {_epoch("COALESCE(e.dispatched_at, e.accepted_at)")} AS es,
        {_epoch("e.dispatched_at")} AS dp,
        {_epoch("e.contacted_at")} AS ct,
        e.on_spot, e.rating, e.reopened_count, e.returned_count"""


def _sql(group: str) -> str:
    key = GROUPS[group]
    due = f"x.acc IS NOT NULL AND ({_in('x.dl')} OR {_in('x.cl')})"
    closed = f"{due} AND x.cl < %(e)s"
    handled = f"x.es IS NOT NULL AND {_in('x.eh')}"
    dispatched = _in("x.dp")
    return f"""
    SELECT x.k,
      SUM(CASE WHEN {_in("x.acc")} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {_in("x.acc")} AND x.on_spot THEN 1 ELSE 0 END),
      SUM(CASE WHEN {due} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} AND (x.dl IS NULL OR x.eh <= x.dl) THEN 1 ELSE 0 END),
      SUM(CASE WHEN {handled} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {_in("x.cl")} AND x.rating <> '' THEN 1 ELSE 0 END),
      SUM(CASE WHEN {_in("x.cl")} AND x.rating IN ('satisfied', 'basic') THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} AND x.reopened_count > 0 THEN 1 ELSE 0 END),
      SUM(CASE WHEN {dispatched} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {dispatched} AND x.ct IS NOT NULL AND x.ct - x.dp <= 86400 THEN 1 ELSE 0 END),
      SUM(CASE WHEN {dispatched} THEN x.tasks ELSE 0 END),
      SUM(CASE WHEN {dispatched} THEN x.returned_count ELSE 0 END),
      SUM(CASE WHEN {handled} THEN {working()} ELSE 0 END),
      MIN(CASE WHEN {handled} THEN x.eh - x.es END)
    FROM (
      SELECT {key} AS k, {event_times()},
        CASE WHEN e.dispatched_at IS NULL THEN 0 ELSE (
          SELECT COUNT(*) FROM events_task t WHERE t.event_id = e.id AND t.lead) END AS tasks
      FROM events_event e
      WHERE (e.region_path = %(path)s OR e.region_path LIKE %(like)s)
        AND (e.accepted_at >= %(ts)s AND e.accepted_at < %(te)s
             OR e.deadline >= %(ts)s AND e.deadline < %(te)s
             OR e.closed_at >= %(ts)s AND e.closed_at < %(te)s
             OR e.resolved_at >= %(ts)s AND e.resolved_at < %(te)s
             OR e.dispatched_at >= %(ts)s AND e.dispatched_at < %(te)s)
    ) x
    LEFT JOIN analytics_calendarday cs ON cs.day = {_day("x.es")}
    LEFT JOIN analytics_calendarday ch ON ch.day = {_day("x.eh")}
    GROUP BY x.k
    """


_FIELDS = (*kpi.COUNTS, "working_seconds", "fastest_seconds")


def counts(scope: Scope, p: kpi.Period, group: str, live: bool = False) -> dict[str, dict]:
    """{group key: kpi counts} for events in ``scope``'s subtree over ``p``: from the rollup
    when it is fresh and holds this grouping, else live from the events (``live`` forces it)."""
    from civicgrid.analytics import rollup
    from civicgrid.analytics.services import ensure_calendar

    day0 = dt.date(1970, 1, 1)
    if not live and rollup.usable(scope.level, group) and rollup.fresh():
        params = {"f": (p.first - day0).days, "l": (p.last - day0).days, "code": scope.code}
        months = None
        if group == "month":
            months = [
                (label, (sub.first - day0).days, (sub.last - day0).days)
                for label, sub in p.months()
            ]
        short = (p.last - p.first).days + 1 < rollup.SHORT
        return _fetch(rollup.sql(scope.level, group, months, short), params)
    if group == "month":
        return {
            label: counts(scope, sub, "", live=True).get("", kpi.empty())
            for label, sub in p.months()
        }
    ensure_calendar()
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "path": scope.path,
        "like": scope.path + ".%",
        "s": p.start.timestamp(),
        "e": p.end.timestamp(),
        "ts": adapt(p.start),
        "te": adapt(p.end),
    }
    return _fetch(_sql(group), params)


def _fetch(sql: str, params: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for row in cur.fetchall():
            acc = dict(zip(_FIELDS, row[1:], strict=True))
            for k in kpi.COUNTS:
                acc[k] = int(acc[k] or 0)
            acc["working_seconds"] = float(acc["working_seconds"] or 0)
            if acc["fastest_seconds"] is not None:
                acc["fastest_seconds"] = float(acc["fastest_seconds"])
            key = NONE_KEY if row[0] is None else str(row[0])
            out[key] = acc
    return out


def _names(group: str, keys: list[str]) -> dict[str, str]:
    if group in ("district", "street", "community"):
        from civicgrid.geo.models import Region

        return dict(Region.light.filter(code__in=keys).values_list("code", "name"))
    if group == "department":
        from civicgrid.accounts.models import Department

        # the group key is the department's code (GROUPS, the rollup), never its id
        return dict(Department.objects.filter(code__in=keys).values_list("code", "name"))
    if group == "category":
        from civicgrid.events.models import Category

        return dict(Category.objects.filter(code__in=keys).values_list("code", "name"))
    if group == "channel":
        from django.utils import translation

        from civicgrid.events.models import Channel

        # the labels are lazy (pages show them in the reader's language); the API and the
        # reports name channels in Chinese whatever language the caller chose
        with translation.override("zh-hans"):
            return {value: str(label) for value, label in Channel.choices}
    return {}


def rows(scope: Scope, p: kpi.Period, group: str) -> list[dict]:
    """Published metrics rows ``{key, name, …counts, …rates}`` sorted by key."""
    if group == "month":
        got = counts(scope, p, "month")
        return [
            {"key": label, "name": label} | kpi.finish(got.get(label, kpi.empty()))
            for label, _ in p.months()
        ]
    got = counts(scope, p, group)
    keys = sorted(got)
    names = _names(group, keys)
    missing = {"department": "未派遣", "category": "未分类"}.get(group, "")
    return [
        {"key": k, "name": names.get(k, missing if k == NONE_KEY else k)} | kpi.finish(got[k])
        for k in keys
    ]


def total(scope: Scope, p: kpi.Period) -> dict:
    return kpi.finish(counts(scope, p, "").get("", kpi.empty()))


def metrics(user, region: str | None, first, last, group_by: str | None) -> dict:
    """The API's answer: rows per group, the total, and the same totals for the previous
    period and the same period last year (for trends)."""
    group = check_group(group_by)
    p = period_for(first, last)
    scope = region_for(user, region)
    items = rows(scope, p, group) if group else []
    return {
        "region": {"code": scope.code, "name": scope.name, "level": scope.level},
        "from": p.first,
        "to": p.last,
        "group_by": group,
        "items": items,
        "count": len(items),
        "total": total(scope, p),
        "previous": total(scope, p.previous()),
        "last_year": total(scope, p.last_year()),
    }


def watch_lists(user, region: str | None, limit: int = 20) -> dict:
    """Running events past their deadline (most overdue first) and 问题工单 still open, in the
    region's subtree. No personal data: number, title, category, department, times — the title
    with any ID number, phone or e-mail typed into it starred, for every reader (nobody acts
    from a dashboard; the event page shows the text to those who may read it in clear)."""
    from django.db.models import Q
    from django.utils import timezone

    from civicgrid.events import workflow
    from civicgrid.events.models import Event
    from civicgrid.events.selectors import category_ref, department_ref, redacted_title

    scope = region_for(user, region)
    qs = Event.objects.filter(
        Q(region_path=scope.path) | Q(region_path__startswith=scope.path + ".")
    )
    now = timezone.now()
    fields = (
        "number",
        "title",
        "description",
        "category_id",
        "department_id",
        "deadline",
        "supervision",
        "status",
        "returned_count",
        "reopened_count",
        "region_path",
    )

    def items(q) -> list[dict]:
        out = []
        for v in q.values(*fields)[:limit]:
            cat, dept = category_ref(v["category_id"]), department_ref(v["department_id"])
            out.append(
                {
                    "number": v["number"],
                    "title": redacted_title(v["title"], v["description"]),
                    "category": cat["name"] if cat else "",
                    "department": dept["name"] if dept else "",
                    "deadline": v["deadline"],
                    "supervision": v["supervision"],
                    "status": v["status"],
                    "returned_count": v["returned_count"],
                    "reopened_count": v["reopened_count"],
                }
            )
        return out

    overdue = qs.filter(status__in=list(workflow.RUNNING), deadline__lt=now)
    problem = qs.filter(problem=True, status__in=list(workflow.OPEN))
    return {
        "region": {"code": scope.code, "name": scope.name, "level": scope.level},
        "overdue": items(overdue.order_by("deadline")),
        "overdue_count": overdue.count(),
        "problem": items(problem.order_by("-created_at")),
        "problem_count": problem.count(),
    }
