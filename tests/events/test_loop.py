"""The closed loop over REST, each step by a user of the right role (DESIGN §6): intake →
立案 → 派遣 → 签收 → 联系 → 办结 → 核查 → 结案 → 评价, with 退单, 延期, 重办, 发令 and 问题工单
on the side. Refused actions answer 409 naming what is allowed now."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.events import services, workcal
from civicgrid.events.calendar_selectors import calendar
from civicgrid.events.models import Event, Task

pytestmark = pytest.mark.django_db


def act(client, number: str, action: str, **body):
    return client.post(
        f"/api/v1/events/{number}/actions/{action}", body, content_type="application/json"
    )


def test_citizen_appeal_closes_the_loop_with_a_full_timeline(report, clients, people):
    # a citizen files on the web portal without knowing the category
    r = report("citizen", channel="web", description="请问这个情况归谁管")
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert r.json()["status"] == "reported"
    c = clients
    # the district centre accepts with a category and dispatches by the routing table
    assert act(c["dispatcher"], number, "accept", category="9802").json()["status"] == "accepted"
    body = act(c["dispatcher"], number, "dispatch").json()
    assert body["status"] == "dispatched"
    assert body["department"]["code"] == "440306-CG"
    tasks = {t["department"]["code"]: t["lead"] for t in body["tasks"]}
    assert tasks == {"440306-CG": True, "440306-ZJ": False}  # 违法搭建: CG leads, ZJ assists
    # the lead department signs, contacts the citizen, handles and reports
    assert act(c["cg"], number, "sign").json()["status"] == "in_progress"
    assert act(c["cg"], number, "contact", note="已电话联系").status_code == 200
    assert act(c["cg"], number, "resolve", note="已拆除违建").json()["status"] == "resolved"
    # the grid worker verifies on site, the centre closes
    assert act(c["grid"], number, "verify", note="现场已拆除").json()["status"] == "verified"
    assert act(c["dispatcher"], number, "close").json()["status"] == "closed"
    # the citizen rates on the track page
    rated = act(c["citizen"], number, "rate", rating="satisfied")
    assert rated.status_code == 200 and rated.json()["rating"] == "satisfied"
    full = c["dispatcher"].get(f"/api/v1/events/{number}").json()
    steps = [(t["action"], t["actor"], t["from"], t["to"]) for t in full["timeline"]]
    assert steps == [
        ("report", "citizen", "", "reported"),
        ("accept", "disp", "reported", "accepted"),
        ("dispatch", "disp", "accepted", "dispatched"),
        ("sign", "cg", "dispatched", "in_progress"),
        ("contact", "cg", "in_progress", "in_progress"),
        ("resolve", "cg", "in_progress", "resolved"),
        ("verify", "grid", "resolved", "verified"),
        ("close", "disp", "verified", "closed"),
        ("rate", "citizen", "closed", "closed"),
    ]
    e = Event.objects.get(number=number)
    assert e.accepted_at <= e.dispatched_at <= e.contacted_at <= e.resolved_at <= e.closed_at
    # the citizen sees the public steps only, without staff names
    mine = c["citizen"].get(f"/api/v1/events/{number}").json()
    assert {t["action"] for t in mine["timeline"]} >= {"report", "dispatch", "resolve", "close"}
    assert "contact" not in {t["action"] for t in mine["timeline"]}
    assert all(t["actor"] == "" for t in mine["timeline"])


def test_a_refused_action_is_409_naming_the_allowed_ones(report, clients):
    number = report(category="9802").json()["number"]  # auto-dispatched
    r = act(clients["dispatcher"], number, "close")
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == [
        "grant_extension",
        "escalate",
        "command",
        "remind",
        "comment",
    ]
    assert "escalate" in body["errors"][0]["message"] and body["status"] == "dispatched"
    # the department may sign, not close
    r = act(clients["cg"], number, "close")
    assert r.status_code == 409 and "sign" in r.json()["allowed"]
    assert Event.objects.get(number=number).status == "dispatched"


def test_other_departments_and_jurisdictions_get_404(report, clients):
    number = report(category="9802").json()["number"]
    assert act(clients["hj"], number, "sign").status_code == 404  # not HJ's task
    assert clients["nanshan"].get(f"/api/v1/events/{number}").status_code == 404
    assert act(clients["nanshan"], number, "remind").status_code == 404
    assert clients["citizen"].get(f"/api/v1/events/{number}").status_code == 404  # not theirs
    # and the assistant (ZJ) cannot act as the lead
    act(clients["zj"], number, "sign")
    assert Event.objects.get(number=number).status == "dispatched"


def test_return_goes_back_to_the_dispatcher_and_three_make_a_problem_ticket(report, clients):
    number = report(category="9802").json()["number"]
    c = clients
    bad = act(c["cg"], number, "return", reason="because")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    body = act(c["cg"], number, "return", reason="ownership", note="属于住建管理").json()
    assert body["status"] == "returned" and body["returned_count"] == 1
    assert act(c["cg"], number, "sign").status_code == 409  # nothing left for CG to sign
    # another district's department is not tasked with a 宝安 event, as lead or assisting
    for fields in (
        {"department": "440305-ZJ"},
        {"department": "440306-ZJ", "assists": ["440305-HJ"]},
    ):
        other = act(c["dispatcher"], number, "dispatch", **fields)
        assert other.status_code == 422 and "不负责该事件所在区域" in other.content.decode()
    assert Event.objects.get(number=number).status == "returned"
    # the dispatcher re-dispatches to ZJ, which returns too; then HJ; the third department
    act(c["dispatcher"], number, "dispatch", department="440306-ZJ")
    act(c["zj"], number, "return", reason="overlap")
    body = act(c["dispatcher"], number, "dispatch", department="440306-HJ").json()
    e = Event.objects.get(number=number)
    assert e.problem and e.departments_count == 3
    assert e.centre.code == "440300-ZZ"  # escalated from the district to the city centre
    assert any(t["action"] == "escalate" for t in body["timeline"])
    # the deadline was frozen at the first dispatch
    first = Task.objects.filter(event=e).order_by("pk").first()
    assert e.deadline == first.deadline


def test_extension_moves_the_deadline_and_the_supervision_lines(report, clients, monkeypatch):
    # filed Thursday 17 December 2026: 5 days to Thursday 24th, the red line 10 days on
    # Thursday 31st; two more days put the red line on Tuesday 5 January 2027 (New Year's
    # Day and the weekend do not count), not four calendar days later on Monday 4th
    monkeypatch.setattr(
        services, "_now", lambda: dt.datetime(2026, 12, 17, 10, tzinfo=workcal.SHANGHAI)
    )
    number = report(category="9802").json()["number"]
    c = clients
    act(c["cg"], number, "sign")
    before = Event.objects.get(number=number)
    for limit, note, field in (
        ("9999999d", "需协调产权人", "limit"),
        ("123456789h", "需协调产权人", "limit"),
        ("2d", "理" * 201, "note"),
    ):
        r = act(c["cg"], number, "request_extension", limit=limit, note=note)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, limit
    assert Task.objects.get(event__number=number, lead=True).extension_status == ""
    r = act(c["cg"], number, "request_extension", limit="2d", note="需协调产权人")
    assert r.status_code == 200
    refused = act(c["cg"], number, "grant_extension")
    assert refused.status_code == 409  # only the centre grants
    body = act(c["dispatcher"], number, "grant_extension").json()
    after = Event.objects.get(number=number)
    assert after.deadline > before.deadline
    # every line moves by two days of working time, never onto a day off; the assisting
    # department's task (9802: 城管 leads, 住建 assists) follows the new deadline too
    cal = calendar()
    two_days = 2 * cal.hours.per_day
    for line in ("deadline", "yellow_at", "red_at", "remind_at"):
        old, new = getattr(before, line), getattr(after, line)
        assert cal.working_hours_between(old, new) == two_days, line
        assert cal.is_workday(new), line
    assert {t.deadline for t in Task.objects.filter(event=after)} == {after.deadline}
    assert timezone.localtime(after.red_at).date() == dt.date(2027, 1, 5)
    assert any(t["action"] == "grant_extension" for t in body["timeline"])


def test_unsatisfied_rating_reopens_for_rehandling(report, clients):
    c = clients
    number = report("citizen", channel="web", category="9802").json()["number"]
    for who, action, extra in [
        ("cg", "sign", {}),
        ("cg", "resolve", {"note": "已处理"}),
        ("dispatcher", "verify", {}),
        ("dispatcher", "close", {}),
    ]:
        assert act(c[who], number, action, **extra).status_code == 200, (action,)
    body = act(c["citizen"], number, "rate", rating="unsatisfied", note="没拆干净").json()
    assert body["status"] == "dispatched" and body["reopened_count"] == 1
    # the verdict stays on the event (it counts in 满意率) until the next closure is rated
    assert body["department"]["code"] == "440306-CG" and body["rating"] == "unsatisfied"
    actions = [t["action"] for t in body["timeline"]][-3:]
    assert actions == ["rate", "reopen", "dispatch"]
    # the new handling is a new task with a new deadline
    assert Task.objects.filter(event__number=number, status="pending", lead=True).count() == 1
    for who, action, extra in [
        ("cg", "sign", {}),
        ("cg", "resolve", {"note": "已拆除"}),
        ("dispatcher", "verify", {}),
        ("dispatcher", "close", {}),
    ]:
        assert act(c[who], number, action, **extra).status_code == 200, (action,)
    again = act(c["citizen"], number, "rate", rating="basic")
    assert again.status_code == 200 and again.json()["rating"] == "basic"
    twice = act(c["citizen"], number, "rate", rating="satisfied")
    assert twice.status_code == 409


def test_failed_verification_sends_the_work_back(report, clients):
    c = clients
    number = report(category="9802").json()["number"]
    act(c["cg"], number, "sign")
    act(c["cg"], number, "resolve", note="已处理")
    r = act(c["grid"], number, "verify", passed=False)
    assert r.status_code == 422  # a reason is needed
    body = act(c["grid"], number, "verify", passed=False, note="铁皮房仍在").json()
    assert body["status"] == "in_progress"
    assert act(c["cg"], number, "resolve", note="已彻底拆除").json()["status"] == "resolved"


def test_community_orders_departments_to_the_scene(report, clients):
    """社区发令、部门执行: the community centre orders CG and HJ on site within two hours;
    a department named twice is ordered once; a time past or far ahead is refused."""
    import datetime as dt

    from django.utils import timezone

    number = report(category="9802").json()["number"]
    c = clients
    soon = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    for by in ("0001-01-01T00:00:00", "2026-01-01T09:00:00+08:00", "2099-12-31T00:00:00"):
        r = act(
            c["community"],
            number,
            "command",
            departments=["440306-CG"],
            on_scene_by=by,
            note="立即到场处置",
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "on_scene_by", by
    elsewhere = act(
        c["community"], number, "command", departments=["440305-CG"], on_scene_by=soon, note="到场"
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "departments"
    body = act(
        c["community"],
        number,
        "command",
        departments=["440306-CG", "440306-HJ", "440306-CG"],
        on_scene_by=soon,
        note="立即到场处置",
    ).json()
    assert body["commands"][0]["centre"]["code"] == "440306017001-ZZ"
    assert [t["department"]["code"] for t in body["commands"][0]["targets"]] == [
        "440306-CG",
        "440306-HJ",
    ]
    # HJ had no task but was ordered: it can see the event and record its arrival
    arrived = act(c["hj"], number, "arrive", note="已到场，噪声源已关停")
    assert arrived.status_code == 200
    targets = arrived.json()["commands"][0]["targets"]
    target = next(t for t in targets if t["department"]["code"] == "440306-HJ")
    assert target["arrived_at"] and target["result"] == "已到场，噪声源已关停"
    assert act(c["zj"], number, "arrive").status_code == 404  # ZJ was not ordered


def test_duplicate_reports_merge_into_the_first_and_count_supporters(report, clients, grid_point):
    lon, lat = grid_point()
    first = report(category="9801", description="小区门口垃圾堆积很多天没有清运").json()
    second = report(
        category="9801",
        description="小区门口的垃圾堆积好多天了没有人清运",
        lon=lon + 0.0005,
        lat=lat,
    ).json()
    assert second["status"] == "merged" and second["master"] == first["number"]
    master = clients["dispatcher"].get(f"/api/v1/events/{first['number']}").json()
    assert master["supporters"] == 1
    # far away (beyond the leaf's 250 m), the same words are another problem
    far = report(category="9801", description="小区门口垃圾堆积很多天没有清运", lon=lon + 0.01)
    assert far.json()["status"] != "merged"
    # a weaker likeness is only suggested to the dispatcher
    weak = report(category="9801", description="小区门口垃圾桶满了，垃圾堆在地上").json()
    assert weak["status"] != "merged"
    assert [s["number"] for s in weak["similar"]][:1] == [first["number"]]
    # a suspected duplicate is only named to those who may open it: a citizen filing the same
    # complaint sees their own report, not the numbers of other people's
    mine = report(
        "citizen", channel="web", category="9801", description="小区门口垃圾桶已经满了，请尽快处理"
    ).json()
    assert mine["status"] != "merged", mine
    number = mine["number"]
    theirs = clients["dispatcher"].get(f"/api/v1/events/{number}").json()
    assert first["number"] in [s["number"] for s in theirs["similar"]]
    assert clients["citizen"].get(f"/api/v1/events/{number}").json()["similar"] == []
    listed = clients["citizen"].get("/api/v1/events").json()["items"]
    assert [e["similar"] for e in listed if e["number"] == number] == [[]]


def test_desks_show_what_waits_for_each_user(report, clients):
    triage = report(description="请帮忙看看这个情况").json()["number"]  # no category: triage
    dispatched = report(category="9802").json()["number"]  # 宝安区城管 (CG) leads

    def numbers(who):
        body = clients[who].get("/api/v1/events?mine=true").json()
        return {e["number"] for e in body["items"]}

    assert triage in numbers("dispatcher") and dispatched not in numbers("dispatcher")
    assert numbers("cg") == {dispatched} and numbers("hj") == set()
    act(clients["cg"], dispatched, "return", reason="overlap")
    assert dispatched in numbers("dispatcher") and numbers("cg") == set()


def test_a_page_of_events_checks_their_suspected_duplicates_in_one_query(report, clients):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    numbers = [report(source_ref=f"S-{i}").json()["number"] for i in range(6)]
    for n in numbers:  # each names the others as suspected duplicates
        Event.objects.filter(number=n).update(
            similar=[{"number": m, "score": 0.4, "distance_m": 10} for m in numbers if m != n]
        )

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = clients["dispatcher"].get(f"/api/v1/events?limit={limit}").json()
        assert all(len(e["similar"]) == 5 for e in body["items"])
        return len(ctx.captured_queries)

    queries(1)  # the caller's token and roles are cached from here on
    assert queries(2) == queries(6)


def test_every_write_moves_the_events_updated_time(report, clients):
    """Open311 clients sync by ``updated_datetime``: a partial write (here 联系, which saves
    only its own column) must move it too."""
    number = report("citizen", channel="web", description="路灯不亮").json()["number"]
    c = clients
    act(c["dispatcher"], number, "accept", category="9802")
    act(c["dispatcher"], number, "dispatch")
    act(c["cg"], number, "sign")
    before = Event.objects.get(number=number).updated_at
    assert act(c["cg"], number, "contact", note="已电话联系").status_code == 200
    event = Event.objects.get(number=number)
    assert event.contacted_at is not None and event.updated_at > before
