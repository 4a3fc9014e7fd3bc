"""考评 scorecards, their XLSX, the monthly report with progress, and the pure rules."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from civicgrid.analytics import kpi, scorecards, services
from civicgrid.analytics.models import CalendarDay, Report
from civicgrid.events import calendar_selectors, calendar_services
from civicgrid.events.calendar_selectors import calendar
from civicgrid.events.models import Task

from .conftest import END

LAST = END.date()
FIRST = LAST - dt.timedelta(days=29)


@pytest.mark.django_db
def test_working_days_follow_the_work_calendar():
    # DESIGN §10's example: Friday 17:00 → Monday 09:00 is 7/24 + 9/24 working days
    fri = dt.datetime(2026, 11, 13, 17, 0, tzinfo=kpi.SHANGHAI)
    mon = dt.datetime(2026, 11, 16, 9, 0, tzinfo=kpi.SHANGHAI)
    row = {"dispatched_at": fri, "accepted_at": fri, "resolved_at": mon, "closed_at": None}
    secs = kpi.working_seconds(calendar().working_days_between, row)
    assert secs / 86400 == pytest.approx(16 / 24)


@pytest.mark.django_db
def test_a_calendar_edit_reaches_the_kpi_day_index_at_once(monkeypatch):
    """An admin stops work for a typhoon moments after a deadline was computed (the process's
    calendar is fresh, so it is not re-read for a while): the day index that 平均处置用时 is
    computed from, rebuilt for the edit, holds the rest day — and keeps it."""
    monday = dt.date(2027, 1, 4)
    monkeypatch.setattr(calendar_selectors._memo, "every", 3600.0)  # within the memo's window
    calendar_selectors.reset()
    try:
        services.ensure_calendar()
        assert calendar().is_workday(monday)  # as a dispatch's deadline reads it
        calendar_services.set_day("admin", monday, workday=False, name="台风停工")
        assert services.ensure_calendar()
        day, tuesday = CalendarDay.objects.filter(
            date__in=(monday, monday + dt.timedelta(days=1))
        ).order_by("day")
        assert not day.workday and tuesday.cum == day.cum
        assert not services.ensure_calendar()  # and it stays right
        assert not CalendarDay.objects.get(date=monday).workday
        assert not calendar().is_workday(monday)  # deadlines see the edit as well
    finally:
        calendar_selectors.reset()


def test_a_period_refuses_more_than_five_years_and_reversed_dates():
    assert kpi.check_period(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    assert kpi.check_period(dt.date(2020, 1, 1), dt.date(2026, 1, 1))
    assert kpi.check_period(dt.date(2022, 1, 1), dt.date(2026, 1, 1)) is None
    p = kpi.Period(dt.date(2026, 1, 20), dt.date(2026, 3, 5))
    assert [m for m, _ in p.months()] == ["2026-01", "2026-02", "2026-03"]
    assert p.previous() == kpi.Period(dt.date(2025, 12, 6), dt.date(2026, 1, 19))
    assert kpi.Period(dt.date(2024, 2, 29), dt.date(2024, 2, 29)).last_year().first == dt.date(
        2023, 2, 28
    )


def test_weights_score_and_rank():
    w = scorecards.parse_weights("on_time_rate:50,sign_rate:0", scorecards.DEFAULT_WEIGHTS)
    assert w["on_time_rate"] == 50 and w["sign_rate"] == 0
    with pytest.raises(ValueError, match="无效"):
        scorecards.parse_weights("speed:3", scorecards.DEFAULT_WEIGHTS)
    perfect = {k: 1.0 for k in scorecards.DEFAULT_WEIGHTS} | {
        "returned_rate": 0.0,
        "reopened_rate": 0.0,
    }
    assert scorecards.score(perfect, w) == 100.0
    half = perfect | {"on_time_rate": 0.5}
    only = {"on_time_rate": 1.0}
    assert scorecards.score(half, {"on_time_rate": 1.0}) == 50.0
    assert scorecards.score({"on_time_rate": None}, only) is None  # nothing to judge by
    ranked = scorecards.rank(
        [{"key": "b", "score": 80.0}, {"key": "a", "score": 90.0}, {"key": "c", "score": 80.0}]
    )
    assert [(c["key"], c["rank"]) for c in ranked] == [("a", 1), ("b", 2), ("c", 2)]


@pytest.mark.django_db
def test_scorecards_reports_and_xlsx(history, leader, api, settings, make_user, tmp_path):
    client = api(leader)
    resp = client.get("/api/v1/scorecards", {"from": FIRST, "to": LAST, "by": "department"})
    assert resp.status_code == 200, resp.content
    card = resp.json()
    assert card["count"] >= 3
    scores = [c["score"] for c in card["items"] if c["score"] is not None]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
    # a department's 按时签收率 and 退单率 recount from its tasks
    top = card["items"][0]
    tasks = Task.objects.filter(
        department__code=top["key"],
        dispatched_at__gte=kpi.Period(FIRST, LAST).start,
        dispatched_at__lt=kpi.Period(FIRST, LAST).end,
    ).exclude(status="cancelled", signed_at=None)
    assert top["tasks"] == tasks.count()
    lead = tasks.filter(lead=True)
    if lead.exists():
        want = lead.filter(status="returned").count() / lead.count()
        assert top["returned_rate"] == pytest.approx(want)
    # and its 按期结案率 is the metrics API's, grouped by department
    m = client.get("/api/v1/metrics", {"from": FIRST, "to": LAST, "group_by": "department"}).json()
    by_key = {r["key"]: r for r in m["items"]}
    assert top["on_time_rate"] == by_key[top["key"]]["on_time_rate"]
    # weights change the ranking's basis; bad weights are named
    only_sign = client.get(
        "/api/v1/scorecards",
        {
            "from": FIRST,
            "to": LAST,
            "weights": ",".join(f"{k}:0" for k in scorecards.DEFAULT_WEIGHTS if k != "sign_rate"),
        },
    ).json()
    for c in only_sign["items"]:
        if c["sign_rate"] is not None:
            assert c["score"] == pytest.approx(round(100 * c["sign_rate"], 2))
    bad = client.get("/api/v1/scorecards", {"weights": "speed:1"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weights"
    streets = client.get("/api/v1/scorecards", {"from": FIRST, "to": LAST, "by": "street"})
    assert streets.status_code == 200 and streets.json()["count"] >= 3
    # XLSX of the ranking
    x = client.get("/api/v1/scorecards.xlsx", {"from": FIRST, "to": LAST})
    assert x.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(x.streaming_content))).active
    assert ws.cell(3, 1).value == "排名"
    assert ws.cell(4, 2).value == top["key"] and ws.cell(4, 4).value == top["score"]

    # the monthly report: built (inline here), with progress, readable, equal to the API
    settings.ANALYTICS_REPORT_INLINE = True
    settings.DATA_DIR = tmp_path
    month = f"{LAST:%Y-%m}"
    r = client.post(f"/api/v1/reports?region=440300&month={month}")
    assert r.status_code == 202, r.content
    body = client.get(f"/api/v1/reports/{r.json()['id']}").json()
    assert body["status"] == "done" and body["progress"] == 100, body
    f = client.get(body["file"])
    wb = load_workbook(io.BytesIO(b"".join(f.streaming_content)))
    assert {"总览", "下级区域", "事项大类", "渠道", "部门", "部门考评", "街道考评"} <= set(
        wb.sheetnames
    )
    first = LAST.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    api_month = client.get(
        "/api/v1/metrics",
        {"from": first, "to": nxt - dt.timedelta(days=1), "group_by": "district"},
    ).json()
    sheet = wb["下级区域"]
    got = {sheet.cell(i, 1).value: sheet.cell(i, 3).value for i in range(3, sheet.max_row + 1)}
    assert got == {row["key"]: row["accepted"] for row in api_month["items"]}
    # someone else's region: 404; an unknown month: 422
    baoan = api(make_user("baoan_leader", "leader", "440306"))
    assert baoan.get(f"/api/v1/reports/{body['id']}").status_code == 404
    assert baoan.post("/api/v1/reports?region=440305").status_code == 404
    pending = Report.objects.create(region_id="440300", month="2025-01")
    not_yet = client.get(f"/api/v1/reports/{pending.pk}/file")
    assert not_yet.status_code == 409 and "尚未生成完毕" in not_yet.json()["detail"]
    pending.delete()
    for month in ("2026-13", "9999-12", "0001-01"):
        bad_month = client.post(f"/api/v1/reports?month={month}")
        assert bad_month.status_code == 422 and bad_month.json()["errors"][0]["field"] == "month"
    assert Report.objects.filter(status="done").count() == 1


def test_a_citizen_account_sees_no_statistics(api, make_user, client):
    """Statistics name other people's events (overdue lists) and departments' scores: staff
    only, the citizen's own jurisdiction notwithstanding."""
    citizen = make_user("resident", "citizen", "440306")
    c = api(citizen)
    for path in ("/api/v1/metrics", "/api/v1/scorecards", "/api/v1/dashboard/watch"):
        assert c.get(path).status_code == 403, path
    assert c.post("/api/v1/reports").status_code == 403
    assert not Report.objects.exists()
    assert c.get("/api/v1/triage/hotspots").status_code == 403
    client.force_login(citizen)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/workbench/hotspots/").status_code == 403
