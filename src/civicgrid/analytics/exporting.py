"""``civicgrid export events FILE``: the raw rows every KPI is computed from (DESIGN §10).

Times are ISO 8601 in local time (+08:00). Besides §10's columns the file carries what the
other KPIs need — ``on_spot`` (自行处置), ``contacted_at`` (响应率) and ``tasks`` (lead tasks
dispatched, the denominator of 退单率) — so ``kpi.compute`` over this file alone, with the
work calendar, gives the API's numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from django.db.models import Count, Q

from civicgrid.analytics.kpi import SHANGHAI

COLUMNS = [
    "number",
    "channel",
    "category",
    "district_code",
    "street_code",
    "community_code",
    "department",
    "status",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "deadline",
    "resolved_at",
    "closed_at",
    "rating",
    "returned_count",
    "reopened_count",
    "on_spot",
    "contacted_at",
    "tasks",
]
TIMES = (
    "created_at",
    "accepted_at",
    "dispatched_at",
    "deadline",
    "resolved_at",
    "closed_at",
    "contacted_at",
)


def _iso(t: dt.datetime | None) -> str:
    return "" if t is None else t.astimezone(SHANGHAI).isoformat()


def rows(user=None) -> Iterator[list]:
    """Export rows of the events the user may see (all for the operator), oldest first."""
    from civicgrid.accounts.scoping import scope_by_path
    from civicgrid.events.models import Event

    qs = (
        Event.objects.all()
        if user is None
        else scope_by_path(Event.objects.all(), user, "region_path")
    )
    qs = qs.annotate(lead_tasks=Count("tasks", filter=Q(tasks__lead=True))).order_by("pk")
    fields = [
        "number",
        "channel",
        "category_id",
        "district_code",
        "region_path",
        "department__code",
        "status",
        *TIMES,
        "rating",
        "returned_count",
        "reopened_count",
        "on_spot",
        "lead_tasks",
    ]
    for v in qs.values(*fields).iterator(2000):
        parts = v["region_path"].split(".")
        yield [
            v["number"],
            v["channel"],
            v["category_id"] or "",
            v["district_code"],
            parts[2] if len(parts) > 2 else "",
            parts[3] if len(parts) > 3 else "",
            v["department__code"] or "",
            v["status"],
            *[_iso(v[t]) for t in TIMES[:6]],
            v["rating"],
            v["returned_count"],
            v["reopened_count"],
            1 if v["on_spot"] else 0,
            _iso(v["contacted_at"]),
            v["lead_tasks"],
        ]


def export_events(path: Path, *, user=None, actor=None) -> int:
    """Write the CSV (UTF-8 with BOM, for Excel); returns the row count; audited."""
    from civicgrid.audit import services as audit

    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in rows(user):
            w.writerow(row)
            count += 1
    audit.record(
        "analytics.export_events",
        actor=actor or user,
        object_type="events.event",
        object_id=Path(path).name[:64],
        region_path=user.jurisdiction.path
        if user is not None and user.jurisdiction_id
        else "440300",
        extra={"rows": count},
    )
    return count


def read(path: Path) -> list[dict]:
    """The export read back as kpi rows: aware datetimes, ints, the rating text."""
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            row: dict = dict(r)
            for t in TIMES:
                row[t] = dt.datetime.fromisoformat(r[t]) if r[t] else None
            for n in ("returned_count", "reopened_count", "tasks"):
                row[n] = int(r[n] or 0)
            row["on_spot"] = r["on_spot"] == "1"
            out.append(row)
    return out
