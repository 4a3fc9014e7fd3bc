"""Reading hot issues, always through the caller's jurisdiction (DESIGN §12): the events a
user may see (``events.selectors.events_for``), or all of them for the system (the CLI)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import contains
from civicgrid.core.errors import FieldError, NotFound, ServiceError
from civicgrid.events.models import Event
from civicgrid.events.selectors import category_ref, events_for, redacted_title
from civicgrid.geo import selectors as geo
from civicgrid.triage import hotspots as hot

MAX_DAYS = 90
MAX_EVENTS = 5000  # the newest reports in the window; a window holding more is cut to these


def hotspots(
    user,
    *,
    days: int = 7,
    region: str | None = None,
    limit: int = 20,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Hot issues of the last ``days`` days in the user's jurisdiction (or ``region`` inside
    it): open and recent reports (rejected ones excluded, merged duplicates counted — each is
    one more person with the same problem). Words are shown with ID numbers, phones and
    e-mail addresses starred for every reader, as on the dashboard: hot issues are read, not
    acted on, and the event page shows the text to those who may read it in clear
    (``events.selectors.reads_clear_text``)."""
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError("输入有误", [FieldError("days", f"天数应在 1 到 {MAX_DAYS} 之间")])
    if not 1 <= limit <= 100:
        raise ServiceError("输入有误", [FieldError("limit", "条数应在 1 到 100 之间")])
    now = now or timezone.now()
    qs = Event.objects.all() if user is None else events_for(user)
    if region:
        try:
            node = geo.get_region(region)
        except NotFound:
            raise ServiceError(
                "输入有误", [FieldError("region", f"区域 {region} 不存在")]
            ) from None
        if user is not None and not contains(user, node.path):
            raise NotFound(f"区域 {region} 不在辖区内")
        qs = qs.filter(Q(region_path=node.path) | Q(region_path__startswith=node.path + "."))
    rows = list(
        qs.filter(created_at__gte=now - dt.timedelta(days=days), created_at__lte=now)
        .exclude(status="rejected")
        .order_by("-created_at")
        .values_list(
            "number",
            "title",
            "description",
            "lon",
            "lat",
            "created_at",
            "category_id",
            "suggested_category_id",
            "status",
            "address",
        )[:MAX_EVENTS]
    )
    info = {r[0]: r for r in rows}
    reports = [
        hot.Report(num, f"{t} {d}", lo, la, at, cat or sug)
        for num, t, d, lo, la, at, cat, sug, _, _ in rows
    ]
    out = []
    for rank, c in enumerate(hot.cluster(reports, now, days)[:limit], start=1):
        rep = c.representative
        cats = [m.category for m in c.members if m.category]
        top_cat = max(set(cats), key=cats.count) if cats else None
        placed = [m for m in c.members if m.lon is not None]
        out.append(
            {
                "rank": rank,
                "size": c.size,
                "growth": c.growth,
                "category": category_ref(top_cat),
                "place": pii.redact_text(info[rep.key][9] or ""),
                "lon": round(sum(m.lon for m in placed) / len(placed), 6) if placed else None,
                "lat": round(sum(m.lat for m in placed) / len(placed), 6) if placed else None,
                "first_at": c.members[0].at,
                "last_at": c.members[-1].at,
                "representative": {"number": rep.key, "text": _shown(info[rep.key])},
                "events": [
                    {
                        "number": m.key,
                        "title": redacted_title(info[m.key][1], info[m.key][2]),
                        "status": info[m.key][8],
                        "created_at": m.at,
                    }
                    for m in sorted(c.members, key=lambda m: m.at, reverse=True)
                ],
            }
        )
    return out


def _shown(row) -> str:
    """The report's words once (a title cut from the description is not repeated), with
    personal data starred."""
    title, description = (row[1] or "").strip(), (row[2] or "").strip()
    text = description if description.startswith(title) else f"{title} {description}".strip()
    return pii.redact_text(text)
