"""Analytics state changes: the day index of the work calendar, monthly reports."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.analytics import kpi
from civicgrid.analytics.models import CalendarDay, CalendarStamp

log = logging.getLogger(__name__)

INDEX_FIRST = dt.date(2015, 1, 1)
INDEX_LAST = dt.date(2040, 12, 31)
EPOCH = dt.date(1970, 1, 1)


def _stamp() -> str:
    from django.conf import settings
    from django.db.models import Count, Max

    from civicgrid.events.models import WorkDay

    agg = WorkDay.objects.aggregate(n=Count("date"), t=Max("updated_at"))
    return f"{agg['n']}|{agg['t']}|{settings.WORK_HOURS}"


def ensure_calendar() -> bool:
    """Rebuild the day index when the work calendar changed since it was built; True if
    rebuilt. Cheap when nothing changed (one aggregate over the calendar table).

    The index is built from the table as read now, not from this process's calendar memo: the
    memo may be up to two seconds behind the stamp, and an index built from it would be kept
    for good under the new stamp. The memo is dropped too, so deadlines see the change now."""
    from civicgrid.events import calendar_selectors

    stamp = _stamp()
    held = CalendarStamp.objects.filter(pk=1).values_list("stamp", flat=True).first()
    if held == stamp:
        return False
    calendar_selectors.reset()
    cal = calendar_selectors.calendar()
    rows, cum, d = [], 0, INDEX_FIRST
    while d <= INDEX_LAST:
        work = cal.is_workday(d)
        rows.append(CalendarDay(day=(d - EPOCH).days, date=d, workday=work, cum=cum))
        cum += 1 if work else 0
        d += dt.timedelta(days=1)
    try:
        with transaction.atomic():
            CalendarDay.objects.all().delete()
            CalendarDay.objects.bulk_create(rows, batch_size=2000)
            CalendarStamp.objects.update_or_create(pk=1, defaults={"stamp": stamp})
    except IntegrityError:  # another process rebuilt it at the same moment
        log.info("calendar index rebuilt concurrently")
        return False
    return True


def now() -> dt.datetime:
    return timezone.now()


# --- monthly reports ---------------------------------------------------------------------------

CHILD_LEVEL = {"city": "district", "district": "street", "street": "community"}
SHEETS = [
    ("total", "总览"),
    ("children", "下级区域"),
    ("category", "事项大类"),
    ("channel", "渠道"),
    ("department", "部门"),
    ("rank_department", "部门考评"),
    ("rank_street", "街道考评"),
]


def _month(text: str | None) -> tuple[str, dt.date, dt.date]:
    from civicgrid.core.errors import FieldError, ServiceError

    if not text:
        today = timezone.localdate()
        first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    else:
        try:
            first = dt.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise ServiceError("输入有误", [FieldError("month", "月份格式应为 YYYY-MM")]) from None
        if not kpi.FIRST_YEAR <= first.year <= kpi.LAST_YEAR:
            raise ServiceError(
                "输入有误",
                [FieldError("month", f"月份须在 {kpi.FIRST_YEAR} 年至 {kpi.LAST_YEAR} 年之间")],
            )
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return f"{first:%Y-%m}", first, nxt - dt.timedelta(days=1)


def request_report(user, region: str | None, month: str | None):
    """Queue a monthly report of a region the user may see; it is built in the background
    (a Celery worker in production, a thread of this process in the embedded mode)."""
    from django.conf import settings

    from civicgrid.analytics import selectors
    from civicgrid.analytics.models import Report
    from civicgrid.audit import services as audit

    label, _, _ = _month(month)
    scope = selectors.region_for(user, region)
    with transaction.atomic():
        report = Report.objects.create(region_id=scope.code, month=label, requested_by=user)
        audit.record("analytics.report_requested", actor=user, obj=report, extra={"month": label})
    if getattr(settings, "ANALYTICS_REPORT_INLINE", False):
        build_report(report.pk)
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        import threading

        threading.Thread(target=_build_in_thread, args=(report.pk,), daemon=True).start()
    else:
        from civicgrid.analytics.tasks import build_report as task

        transaction.on_commit(lambda: task.delay(report.pk))
    report.refresh_from_db()
    return report


def _build_in_thread(pk: int) -> None:
    from django.db import connection

    try:
        build_report(pk)
    finally:
        connection.close()


def _progress(pk: int, percent: int, step: str, **more) -> None:
    from civicgrid.analytics.models import Report

    Report.objects.filter(pk=pk).update(progress=percent, step=step, **more)


def report_path(report):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.DATA_DIR) / "reports" / report.file


def build_report(pk: int) -> None:
    """Build one report: each sheet is a step of the progress; failure is recorded."""
    from django.conf import settings
    from openpyxl import Workbook

    from civicgrid.analytics import scorecards, selectors
    from civicgrid.analytics.models import Report
    from civicgrid.core.errors import ServiceError

    report = Report.objects.select_related("region", "requested_by").get(pk=pk)
    if report.status == "done":
        return
    _progress(pk, 0, "开始", status="running")
    try:
        _, first, last = _month(report.month)
        p = kpi.Period(first, last)
        r = report.region
        scope = selectors.Scope(r.code, r.name, r.level, r.path)
        wb = Workbook()
        wb.remove(wb.active)
        head = ["代码", "名称", *[kpi.LABELS[k] for k in (*kpi.COUNTS[:5], *kpi.RATES)]]

        def table(title: str, rows: list[dict]) -> None:
            ws = wb.create_sheet(title)
            ws.append([f"{r.name} {report.month} {title}"])
            ws.append(head)
            for row in rows:
                ws.append(
                    [row["key"], row["name"]] + [row[k] for k in (*kpi.COUNTS[:5], *kpi.RATES)]
                )

        steps = len(SHEETS)
        for i, (kind, title) in enumerate(SHEETS):
            _progress(pk, int(100 * i / steps), title)
            if kind == "total":
                rows = [
                    {"key": "本月", "name": f"{first} 至 {last}"} | selectors.total(scope, p),
                    {"key": "上期", "name": "上月同期天数"} | selectors.total(scope, p.previous()),
                    {"key": "去年同期", "name": ""} | selectors.total(scope, p.last_year()),
                ]
                table(title, rows)
            elif kind == "children":
                child = CHILD_LEVEL.get(r.level)
                if child:
                    table(title, selectors.rows(scope, p, child))
            elif kind.startswith("rank_"):
                by = kind.removeprefix("rank_")
                if by == "street" and r.level not in ("city", "district"):
                    continue
                card = (
                    scorecards.scorecard(report.requested_by, r.code, first, last, by, None)
                    if report.requested_by
                    else None
                )
                if card is not None:
                    scorecards.write_sheet(wb.create_sheet(title), card)
            else:
                table(title, selectors.rows(scope, p, kind))
        folder = settings.DATA_DIR / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"report-{r.code}-{report.month}-{pk}.xlsx"
        wb.save(folder / name)
        _progress(pk, 100, "完成", status="done", file=name, finished_at=timezone.now())
    except (ServiceError, OSError, ValueError) as exc:
        log.exception("report %s failed", pk)
        _progress(pk, 100, "失败", status="failed", error=str(exc), finished_at=timezone.now())


def report_for(user, pk: int):
    from civicgrid.accounts.scoping import contains
    from civicgrid.analytics.models import Report
    from civicgrid.core.errors import NotFound

    report = Report.objects.select_related("region").filter(pk=pk).first()
    if report is None or not contains(user, report.region.path):
        raise NotFound(f"报表 {pk} 不存在")
    return report


def report_body(report) -> dict:
    return {
        "id": report.pk,
        "region": report.region_id,
        "month": report.month,
        "status": report.status,
        "progress": report.progress,
        "step": report.step,
        "file": f"/api/v1/reports/{report.pk}/file" if report.status == "done" else None,
        "error": report.error or None,
    }
