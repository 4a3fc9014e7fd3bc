"""The work calendar as the database holds it, for deadline arithmetic in this process."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import Count, Max

from civicgrid.events import workcal
from civicgrid.events.models import WorkDay

_lock = threading.Lock()
_cached: tuple[tuple, workcal.WorkCalendar] | None = None
_checked = 0.0
CHECK_SECONDS = 2.0


def calendar() -> workcal.WorkCalendar:
    """The table's days (estimated ones computed for years not in it), rebuilt within a few
    seconds of any change to the table."""
    global _cached, _checked
    now = time.monotonic()
    if _cached is not None and now - _checked < CHECK_SECONDS:
        return _cached[1]
    with _lock:
        stamp = tuple(WorkDay.objects.aggregate(n=Count("date"), t=Max("updated_at")).values())
        if _cached is None or _cached[0] != stamp:
            days = [
                workcal.Day(w.date, w.workday, w.name, w.source)
                for w in WorkDay.objects.all().iterator(2000)
            ]
            hours = workcal.WorkHours.parse(settings.WORK_HOURS)
            _cached = (stamp, workcal.WorkCalendar(days, hours=hours))
        _checked = time.monotonic()
        return _cached[1]


def reset() -> None:
    global _cached
    with _lock:
        _cached = None
