"""The work calendar as the database holds it, for deadline arithmetic in this process."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max

from civicgrid.core.memo import StampedMemo
from civicgrid.events import workcal
from civicgrid.events.models import WorkDay


def _stamp() -> tuple:
    return tuple(WorkDay.objects.aggregate(n=Count("date"), t=Max("updated_at")).values())


def _build() -> workcal.WorkCalendar:
    days = [
        workcal.Day(w.date, w.workday, w.name, w.source)
        for w in WorkDay.objects.all().iterator(2000)
    ]
    return workcal.WorkCalendar(days, hours=workcal.WorkHours.parse(settings.WORK_HOURS))


_memo = StampedMemo(_stamp, _build)


def calendar() -> workcal.WorkCalendar:
    """The table's days (estimated ones computed for years not in it), rebuilt within a few
    seconds of any change to the table."""
    return _memo.get()


def fresh() -> workcal.WorkCalendar:
    """The table as it is now, read afresh (for a change that compares before and after)."""
    return _build()


def reset() -> None:
    _memo.reset()
