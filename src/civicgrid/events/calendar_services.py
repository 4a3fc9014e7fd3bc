"""Changes to the work calendar: seeding, loading an official arrangement, manual edits."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from civicgrid.audit import services as audit
from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.events import calendar_selectors, workcal
from civicgrid.events.models import WorkDay

WORK_WORDS = {"1", "true", "yes", "y", "是", "班", "上班", "工作日", "workday"}
REST_WORDS = {"0", "false", "no", "n", "否", "休", "休息", "放假", "节假日", "holiday", "rest"}


@dataclass
class SeedReport:
    added: int = 0
    upgraded: int = 0  # estimated rows replaced by the official arrangement
    moved: int = 0  # open events whose deadline or supervision lines moved


@dataclass
class ArrangementReport:
    per_year: dict[int, int]  # rows of the file, per year
    rebuilt: list[int]  # years made official from the file (the plain week plus its rows)
    amended: list[int]  # years already official: only the dates the file lists changed
    moved: int = 0  # open events whose deadline or supervision lines moved


def _recompute(old: workcal.WorkCalendar, years, actor) -> int:
    """After the table changed: the in-process calendar forgets what it had, and the lines of
    open events follow the new days (DESIGN §6: deadlines resting on estimated days are
    recomputed when the official days arrive)."""
    from civicgrid.events.services import recompute_deadlines

    calendar_selectors.reset()
    new = calendar_selectors.fresh()
    changed = [
        d
        for year in sorted(set(years))
        for d in workcal.dates_in(year)
        if old.is_workday(d) != new.is_workday(d)
    ]
    return recompute_deadlines(old, new, changed, actor)


@transaction.atomic
def seed_years(years: range | list[int], actor=None) -> SeedReport:
    """Add the days of ``years`` that are missing; replace estimated days once chinese-calendar
    knows the year. Manual and official rows are left as they are."""
    report = SeedReport()
    old = calendar_selectors.fresh()
    for year in years:
        days = {d.date: d for d in workcal.days_for(year)}
        existing = {w.date: w for w in WorkDay.objects.filter(date__year=year)}
        new = [
            WorkDay(date=d.date, workday=d.workday, name=d.name, source=d.source)
            for d in days.values()
            if d.date not in existing
        ]
        WorkDay.objects.bulk_create(new)
        report.added += len(new)
        official = [d for d in days.values() if d.source == "official"]
        upgrade = [
            existing[d.date]
            for d in official
            if d.date in existing and existing[d.date].source == "estimated"
        ]
        now = timezone.now()  # bulk_update skips auto_now; the table's change stamp needs it
        for w in upgrade:
            d = days[w.date]
            w.workday, w.name, w.source, w.updated_at = d.workday, d.name, "official", now
        WorkDay.objects.bulk_update(upgrade, ["workday", "name", "source", "updated_at"])
        report.upgraded += len(upgrade)
    if report.added or report.upgraded:
        report.moved = _recompute(old, years, actor)
        audit.record(
            "events.calendar.seed",
            actor=actor,
            object_type="events.workday",
            extra={
                "years": list(years),
                "added": report.added,
                "upgraded": report.upgraded,
                "moved": report.moved,
            },
        )
    return report


def _parse_workday(value: str) -> bool | None:
    v = value.strip().lower()
    if v in WORK_WORDS:
        return True
    if v in REST_WORDS:
        return False
    return None


@transaction.atomic
def import_arrangement(path: Path, actor=None) -> ArrangementReport:
    """Load an official holiday arrangement (CSV: date, workday, name — 日期, 是否上班, 名称).

    The file lists the exceptions of the year it announces — the year most of its rows fall
    in — its holidays and make-up working days. That year is rebuilt from it: every other
    date follows the plain week (Monday to Friday) and the whole year becomes ``official``,
    the estimate gone; importing a corrected notice again corrects it. A notice often lists a
    day or two of a neighbouring year (2024's listed 2023-12-30): those dates are set, the
    rest of that year stays as it was, official or estimated. Manual corrections (a typhoon
    day) are kept either way. Open events' lines follow. Nothing changes if any row is wrong.
    """
    errors: list[FieldError] = []
    rows: dict[dt.date, tuple[bool, str]] = {}
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise ServiceError(f"无法读取文件：{exc}") from None
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ServiceError("文件为空")
        first = [h.strip().lower() for h in header]
        if first and first[0] not in ("date", "日期"):
            raise ServiceError("表头应为：日期（date）, 是否上班（workday）, 名称（name）")
        for line, row in enumerate(reader, start=2):
            if not any(c.strip() for c in row):
                continue
            try:
                day = dt.date.fromisoformat(row[0].strip())
            except (ValueError, IndexError):
                errors.append(FieldError(f"第 {line} 行 date", "日期格式应为 YYYY-MM-DD"))
                continue
            workday = _parse_workday(row[1]) if len(row) > 1 else None
            if workday is None:
                errors.append(FieldError(f"第 {line} 行 workday", "应为 班/休（1/0）"))
                continue
            if day in rows:
                errors.append(FieldError(f"第 {line} 行 date", f"日期 {day} 重复"))
                continue
            rows[day] = (workday, row[2].strip()[:32] if len(row) > 2 else "")
    if errors:
        raise ServiceError("日历文件有误，未做任何更改", errors)
    if not rows:
        raise ServiceError("文件中没有日期")
    old = calendar_selectors.fresh()
    report = ArrangementReport(per_year={}, rebuilt=[], amended=[])
    counts = Counter(d.year for d in rows)
    announced = max(counts, key=lambda y: (counts[y], y))
    for year in sorted(counts):
        manual = set(
            WorkDay.objects.filter(date__year=year, source="manual").values_list("date", flat=True)
        )
        if year == announced:
            dates = workcal.dates_in(year)
            report.rebuilt.append(year)
        else:
            dates = [d for d in rows if d.year == year]
            report.amended.append(year)
        days = []
        for day in dates:
            if day in manual:
                continue
            workday, name = rows.get(day, (day.weekday() < 5, ""))
            if day in rows and workday and day.weekday() >= 5 and not name:
                name = "调休上班"
            days.append(WorkDay(date=day, workday=workday, name=name, source="official"))
        WorkDay.objects.filter(date__in=[d.date for d in days]).delete()
        WorkDay.objects.bulk_create(days)
        report.per_year[year] = sum(1 for d in rows if d.year == year)
    report.moved = _recompute(old, report.per_year, actor)
    audit.record(
        "events.calendar.import",
        actor=actor,
        object_type="events.workday",
        object_id=Path(path).name[:64],
        extra={
            "years": report.per_year,
            "rebuilt": report.rebuilt,
            "amended": report.amended,
            "moved": report.moved,
        },
    )
    return report


@transaction.atomic
def set_day(actor, day: dt.date, *, workday: bool, name: str = "") -> WorkDay:
    """A person's correction of one date (the admin); open events' lines follow it."""
    old = calendar_selectors.fresh()
    row, _ = WorkDay.objects.update_or_create(
        date=day, defaults={"workday": workday, "name": name[:32], "source": "manual"}
    )
    moved = _recompute(old, [day.year], actor)
    audit.record(
        "events.calendar.set",
        actor=actor,
        object_type="events.workday",
        object_id=day.isoformat(),
        after={"workday": workday, "name": name, "moved": moved},
    )
    return row
