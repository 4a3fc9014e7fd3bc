"""``civicgrid calendar add START DURATION`` · ``calendar import FILE`` · ``calendar seed``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from civicgrid.events import workcal


def parse_duration(text: str) -> tuple[str, float]:
    """``3d`` → ("days", 3), ``4h`` / ``2.5h`` → ("hours", …); Chinese units too."""
    try:
        limit = workcal.parse_limit(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return limit.unit, limit.amount


def parse_start(text: str) -> dt.datetime:
    try:
        start = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"起始时间格式无效：{text!r}；应为 ISO 8601，如 2026-09-30T10:00"
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start


class Command(BaseCommand):
    help = "工作日历：add 计算办理时限；import 导入官方放假安排；seed 补齐年份"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        add = sub.add_parser("add", help="START DURATION：如 2026-09-30T10:00 3d 或 4h")
        add.add_argument("start")
        add.add_argument("duration")
        imp = sub.add_parser("import", help="导入官方放假安排 CSV：日期,是否上班,名称")
        imp.add_argument("file", type=Path)
        seed = sub.add_parser("seed", help="补齐若干年的日历（默认今年前后）")
        seed.add_argument("--years", default="", help="如 2025-2028")

    def handle(self, *args, op: str, **o):
        from civicgrid.core.errors import ServiceError
        from civicgrid.events import calendar_selectors, calendar_services

        if op == "add":
            unit, amount = parse_duration(o["duration"])
            start = parse_start(o["start"])
            cal = calendar_selectors.calendar()
            deadline = (
                cal.add_working_days(start, int(amount))
                if unit == "days"
                else cal.add_working_hours(start, amount)
            )
            local = deadline.at.astimezone(ZoneInfo(settings.TIME_ZONE))
            basis = (
                "estimated（含尚未公布官方安排的估算日期）"
                if deadline.estimated
                else "official（依据官方安排）"
            )
            self.stdout.write(f"{local.isoformat()}\t{basis}")
        elif op == "import":
            try:
                report = calendar_services.import_arrangement(o["file"], actor="cli")
            except ServiceError as exc:
                raise CommandError(str(exc)) from None
            years = "、".join(f"{y} 年 {n} 条" for y, n in report.per_year.items())
            self.stdout.write(f"已导入官方放假安排：{years}")
            if report.amended:
                kept = "、".join(str(y) for y in report.amended)
                self.stdout.write(f"{kept} 年只更改了文件所列日期，其余日期不变")
            self.stdout.write(f"办理时限随之调整的在办事件：{report.moved} 件")
        else:
            years = _years(o["years"])
            report = calendar_services.seed_years(years, actor="cli")
            self.stdout.write(
                f"日历已补齐 {years.start}–{years.stop - 1}：新增 {report.added} 天，"
                f"由估算改为官方 {report.upgraded} 天；办理时限随之调整的在办事件 {report.moved} 件"
            )


def _years(text: str) -> range:
    if not text:
        this = dt.date.today().year
        return range(this - 1, this + 3)
    m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", text.strip())
    if not m:
        raise CommandError("--years 格式应为 2025 或 2025-2028")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if last < first or last - first > 50:
        raise CommandError("--years 范围无效")
    return range(first, last + 1)
