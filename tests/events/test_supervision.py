"""Deadlines in Chinese working time, frozen at dispatch, and the supervision sweep: 催办 before
expiry, 黄牌 at the yellow line, 红牌 and escalation at the red line — each once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from civicgrid.events import services
from civicgrid.events.models import Event, TimelineEntry

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def clock(monkeypatch):
    """Set the hub's clock: ``clock(2026, 9, 30, 10)``."""

    def set_(*args):
        monkeypatch.setattr(services, "_now", lambda: at(*args))

    return set_


def test_deadline_counts_the_national_day_make_up_saturday(report, clock):
    clock(2026, 9, 30, 10)  # Wednesday before National Day; 10-10 (Saturday) is a workday
    body = report(category="9802", description="国庆前举报违建").json()  # 5 working days
    # workdays after 9-30: 10-8, 10-9, 10-10 (调休上班), 10-12, 10-13 → due 10-13 18:00
    assert dt.datetime.fromisoformat(body["deadline"]) == at(2026, 10, 13, 18)
    assert body["deadline_estimated"] is False


def test_deadline_into_2027_rests_on_estimated_days_and_says_so(report, clock):
    clock(2026, 12, 31, 16)  # 元旦 2027 and the weekend follow
    body = report(category="9802", description="年末举报违建").json()
    # 2027-01-01 holiday (estimated), 01-02/03 weekend → 01-04 … 01-08 → due 01-08 18:00
    assert dt.datetime.fromisoformat(body["deadline"]) == at(2027, 1, 8, 18)
    assert body["deadline_estimated"] is True


def test_working_hour_limits_skip_lunch_nights_and_weekends(report, clock):
    clock(2026, 11, 27, 17)  # Friday 17:00; 井盖缺失 has 2 working hours
    body = report(category="9803", description="井盖缺失很危险").json()
    # 17:00–18:00 Friday, then Monday 08:30–09:30
    assert dt.datetime.fromisoformat(body["deadline"]) == at(2026, 11, 30, 9, 30)


def test_sweep_reminds_then_yellow_then_red_and_escalates_once(report, clock):
    clock(2026, 11, 23, 9)  # Monday 09:00, 违法搭建: 5d limit, yellow 5d, red 10d
    number = report(category="9802").json()["number"]
    e = Event.objects.get(number=number)
    assert e.deadline == at(2026, 11, 30, 18)
    assert e.remind_at < e.deadline == e.yellow_at < e.red_at

    def sweep(*when):
        return services.sweep(at(*when))

    assert vars(sweep(2026, 11, 24, 9)) == {"reminded": 0, "yellow": 0, "red": 0}
    assert sweep(2026, 11, 27, 17).reminded == 1  # three quarters of the time used
    assert sweep(2026, 11, 27, 18).reminded == 0  # once
    assert sweep(2026, 11, 30, 18, 1).yellow == 1
    assert Event.objects.get(pk=e.pk).supervision == "yellow"
    r = sweep(2026, 12, 8, 9)
    assert r.red == 1
    e.refresh_from_db()
    assert e.supervision == "red" and e.centre.code == "440300-ZZ"  # district → city centre
    assert vars(sweep(2026, 12, 9, 9)) == {"reminded": 0, "yellow": 0, "red": 0}
    actions = list(
        TimelineEntry.objects.filter(event=e).values_list("action", flat=True).order_by("pk")
    )
    assert actions[-4:] == ["remind", "yellow_card", "red_card", "escalate"]


def test_closed_events_are_not_supervised(report, clients, clock):
    clock(2026, 11, 23, 9)
    number = report(category="9901", description="社保怎么交", answer="在线缴纳").json()["number"]
    assert Event.objects.get(number=number).status == "closed"
    assert services.sweep(at(2027, 3, 1, 9)).red == 0
