"""Deadlines that rest on estimated calendar days are recomputed when the official days
arrive (DESIGN §6), and supervision lines count working time, not wall-clock time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.events import calendar_selectors, calendar_services, services, workcal
from civicgrid.events.models import Event, Task

pytestmark = pytest.mark.django_db
SH = workcal.SHANGHAI


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar_selectors.reset()
    yield
    calendar_selectors.reset()


def _filed_at(report, monkeypatch, when: dt.datetime, **fields) -> Event:
    monkeypatch.setattr(services, "_now", lambda: when)
    number = report(category="9802", **fields).json()["number"]  # 5 working days, 城管 + 住建
    return Event.objects.get(number=number)


def _local(at: dt.datetime) -> dt.datetime:
    return timezone.localtime(at).replace(tzinfo=None)


def test_the_official_arrangement_moves_an_estimated_deadline(
    report, monkeypatch, tmp_path, capsys
):
    event = _filed_at(report, monkeypatch, dt.datetime(2026, 12, 31, 16, tzinfo=SH))
    assert event.deadline_estimated
    assert _local(event.deadline) == dt.datetime(2027, 1, 8, 18)  # Jan 4–8 counted
    arrangement = tmp_path / "2027.csv"
    arrangement.write_text("日期,是否上班,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n")
    call_command("calendar", "import", str(arrangement))
    assert "在办事件：1 件" in capsys.readouterr().out
    after = Event.objects.get(pk=event.pk)
    assert _local(after.deadline) == dt.datetime(2027, 1, 11, 18) and not after.deadline_estimated
    cal = calendar_selectors.calendar()
    for line in ("yellow_at", "red_at", "remind_at"):
        assert cal.is_workday(getattr(after, line)), line
    assert _local(after.red_at) == dt.datetime(2027, 1, 18, 18)  # 10 days, Jan 5–18
    assert {t.deadline for t in Task.objects.filter(event=after)} == {after.deadline}
    row = after.timeline.get(action="recalendar")
    assert "2027-01-08 18:00" in row.note and "2027-01-11 18:00" in row.note and not row.public


def test_a_typhoon_day_moves_the_lines_that_run_across_it(report, monkeypatch):
    event = _filed_at(report, monkeypatch, dt.datetime(2026, 12, 1, 10, tzinfo=SH))
    assert _local(event.deadline) == dt.datetime(2026, 12, 8, 18)  # Dec 2–8
    calendar_services.set_day("steward", dt.date(2026, 12, 3), workday=False, name="台风停工")
    assert _local(Event.objects.get(pk=event.pk).deadline) == dt.datetime(2026, 12, 9, 18)
    # a day after the lines changes nothing
    calendar_services.set_day("steward", dt.date(2027, 3, 3), workday=False, name="台风停工")
    assert _local(Event.objects.get(pk=event.pk).deadline) == dt.datetime(2026, 12, 9, 18)
    assert Event.objects.get(pk=event.pk).timeline.filter(action="recalendar").count() == 1


def test_the_reminder_comes_at_three_quarters_of_the_time_given(report, monkeypatch):
    """5 working days received Monday 09:00 run from Tuesday to the next Monday 18:00: 44.5
    working hours in all with Monday's rest, so 催办 comes after 33.4 of them (Friday), not
    after 75 % of 5 × 7.5 h counted from Monday morning (Thursday)."""
    event = _filed_at(report, monkeypatch, dt.datetime(2026, 12, 7, 9, tzinfo=SH))
    cal = calendar_selectors.calendar()
    given = cal.working_hours_between(event.dispatched_at, event.deadline)
    used = cal.working_hours_between(event.dispatched_at, event.remind_at)
    assert abs(used / given - 0.75) < 0.001
    assert _local(event.remind_at).date() == dt.date(2026, 12, 11)
