"""``civicgrid import events FILE``: a legacy system's backlog through the one intake.

Each row is one report, submitted exactly as a channel would submit it (so it is located,
classified, de-duplicated and routed like any other). ``channel`` + ``source_ref`` make a rerun
add nothing twice, and rows go in batches that commit whole or not at all: a crash leaves whole
batches, and running the same file again completes it exactly. Refused rows go to
``FILE.errors.csv`` (行号, 列, 值, 原因).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.events import (
    formats,
    services,
)
from civicgrid.registry.importers import ErrorReport, default_report_path
from civicgrid.registry.reader import open_table

BATCH = 500
_COLUMN_ZH = {c.name: c.zh for c in formats.EVENT_COLUMNS}


@dataclass
class EventImport:
    rows: int = 0
    created: int = 0
    existing: int = 0
    rejected: int = 0
    seconds: float = 0.0
    report_path: Path | None = None


def _float(row: dict, key: str) -> float | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ServiceError("输入有误", [FieldError(key, "必须是数字")]) from None


def _time(row: dict) -> dt.datetime | None:
    text = (row.get("created_at") or "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise ServiceError(
            "输入有误", [FieldError("created_at", "时间格式无效，应为 2026-11-26 09:30")]
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now():
        raise ServiceError("输入有误", [FieldError("created_at", "登记时间不能晚于现在")])
    return value


def _intake(row: dict) -> services.Intake:
    nul = [k for k, v in row.items() if isinstance(v, str) and "\x00" in v]
    if nul:  # PostgreSQL cannot store it in text
        raise ServiceError("输入有误", [FieldError(k, "不能包含空字符（NUL）") for k in nul])
    if not (row.get("source_ref") or "").strip():
        raise ServiceError("输入有误", [FieldError("source_ref", "必填：重复导入靠它识别")])
    return services.Intake(
        channel=(row.get("channel") or "").strip(),
        source_ref=row["source_ref"].strip(),
        category=(row.get("category") or "").strip() or None,
        title=(row.get("title") or "").strip(),
        description=(row.get("description") or "").strip(),
        lon=_float(row, "lon"),
        lat=_float(row, "lat"),
        crs=(row.get("crs") or "wgs84").strip().lower(),
        address=(row.get("address") or "").strip(),
        house_code=(row.get("house_code") or "").strip(),
        reporter_name=(row.get("reporter_name") or "").strip(),
        reporter_phone=(row.get("reporter_phone") or "").strip(),
        created_at=_time(row),
    )


def import_events(path: Path | str, *, actor: str = "import", progress=None) -> EventImport:
    path = Path(path)
    table = open_table("events", path)  # FileError for the file as a whole
    report_path = default_report_path(path)
    if report_path.exists():
        report_path.unlink()
    errors = ErrorReport(report_path)
    result = EventImport()
    started = time.perf_counter()
    batch: list[tuple[int, dict]] = []

    def flush() -> None:
        with transaction.atomic():
            for line, row in batch:
                try:
                    with transaction.atomic():
                        _, created = services.submit(actor, _intake(row))
                except ServiceError as exc:
                    result.rejected += 1
                    for e in exc.errors or [FieldError("", exc.detail)]:
                        column = _COLUMN_ZH.get(e.field, e.field)
                        value = str(row.get(e.field, ""))[:200].replace("\x00", "\\0")
                        errors.add(line, column, value, e.message)
                    continue
                if created:
                    result.created += 1
                else:
                    result.existing += 1
        if progress:
            progress("导入事件", result.rows, 0)
        batch.clear()

    try:
        for line, row in table.rows:
            result.rows += 1
            batch.append((line, row))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    finally:
        errors.close()
    result.seconds = time.perf_counter() - started
    result.report_path = report_path if errors.count else None
    return result
