"""The staff workbench: queues scoped to the user's centre, department or jurisdiction; the
event page with its allowed actions; refused actions say why; the operator's intake with
caller lookup and the direct answer of consultations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.audit.models import AuditRecord
from civicgrid.events import services
from civicgrid.events.models import Event
from tests.web.conftest import CLOSE_STEPS, walk

pytestmark = pytest.mark.django_db


def act(client, number, action, **fields):
    return client.post(f"/workbench/events/{number}/act", {"action": action, **fields})


def _queue(client, desk) -> list[str]:
    html = client.get(f"/workbench/?desk={desk}").content.decode()
    return re.findall(r'href="/workbench/events/(\d+)/"', html)


def test_only_staff_open_the_workbench(browser_for):
    r = browser_for().get("/workbench/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert browser_for("citizen").get("/workbench/").status_code == 403
    page = browser_for("dispatcher").get("/workbench/")
    assert page.status_code == 200 and "待受理" in page.content.decode()


def test_queues_follow_the_centre_the_department_and_the_jurisdiction(filed, browser_for):
    unsorted = filed(None, channel="web", description="请问这个情况归谁管")
    dispatched = filed(category="9802")
    disp, cg, hj, ns = (browser_for(n) for n in ("dispatcher", "cg", "hj", "nanshan"))
    assert unsorted.status == "reported" and dispatched.status == "dispatched"
    assert unsorted.number in _queue(disp, "triage")
    assert unsorted.number not in _queue(ns, "triage")  # 南山 sees nothing of 宝安
    assert dispatched.number in _queue(cg, "tasks")
    assert dispatched.number not in _queue(hj, "tasks")
    # htmx asks for the list alone
    part = disp.get("/workbench/?desk=triage", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and unsorted.number in part
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in disp.get("/workbench/?desk=triage", headers=restore).content.decode()
    assert ns.get(f"/workbench/events/{unsorted.number}/").status_code == 404
    assert act(ns, unsorted.number, "accept").status_code == 404


def test_due_soon_and_overdue(filed, browser_for, people):
    late = filed(category="9802")
    Event.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    soon = filed(category="9802", description="另一处违法搭建", source_ref="W-soon")
    Event.objects.filter(pk=soon.pk).update(deadline=timezone.now() + dt.timedelta(hours=3))
    cg = browser_for("cg")
    assert _queue(cg, "overdue") == [late.number]
    assert _queue(cg, "due_soon") == [soon.number]
    assert _queue(browser_for("hj"), "overdue") == []  # not HJ's task


def test_due_soon_counts_working_time_over_the_weekend(filed, people):
    """Friday 16:00 (2026-11-27): one working day ahead reaches into Monday, not Tuesday."""
    from civicgrid.events.selectors import desk

    tz = timezone.get_current_timezone()
    friday = dt.datetime(2026, 11, 27, 16, 0, tzinfo=tz)
    monday = filed(category="9802", source_ref="W-mon")
    tuesday = filed(category="9802", description="另一处违法搭建", source_ref="W-tue")
    Event.objects.filter(pk=monday.pk).update(deadline=dt.datetime(2026, 11, 30, 10, tzinfo=tz))
    Event.objects.filter(pk=tuesday.pk).update(deadline=dt.datetime(2026, 12, 1, 17, tzinfo=tz))
    soon = desk(people["cg"], "due_soon", now=friday)
    assert list(soon.values_list("number", flat=True)) == [monday.number]  # 66 clock hours on
    assert desk(people["cg"], "overdue", now=friday).count() == 0


def test_a_case_due_at_the_end_of_today_is_due_soon_from_the_evening_before(filed, people):
    """A limit in days falls due at 18:00: the case is in "due soon" from the evening before
    and first thing that morning, not only from 08:31."""
    from civicgrid.events.selectors import desk

    tz = timezone.get_current_timezone()
    due = filed(category="9802", source_ref="W-due")
    Event.objects.filter(pk=due.pk).update(deadline=dt.datetime(2026, 11, 30, 18, tzinfo=tz))
    for now in (
        dt.datetime(2026, 11, 27, 20, 0, tzinfo=tz),  # Friday evening
        dt.datetime(2026, 11, 30, 8, 0, tzinfo=tz),  # Monday before work
        dt.datetime(2026, 11, 30, 8, 30, tzinfo=tz),
        dt.datetime(2026, 11, 30, 17, 59, tzinfo=tz),
    ):
        assert list(desk(people["cg"], "due_soon", now=now)) == [due], now


def test_the_whole_loop_through_the_event_page(filed, browser_for):
    number = filed(None, channel="web", description="请问这个情况归谁管").number
    disp, cg = browser_for("dispatcher"), browser_for("cg")
    page = disp.get(f"/workbench/events/{number}/").content.decode()
    assert 'id="act-accept"' in page and 'id="act-close"' not in page
    assert act(disp, number, "accept", category="9802 测试市容 / 违法搭建").status_code == 302
    assert act(disp, number, "dispatch", department="", note="").status_code == 302
    assert Event.objects.get(number=number).department.code == "440306-CG"
    assert 'id="act-sign"' in cg.get(f"/workbench/events/{number}/").content.decode()
    assert act(cg, number, "sign").status_code == 302
    assert act(cg, number, "resolve", note="已拆除违建").status_code == 302
    assert act(disp, number, "verify", passed="1").status_code == 302
    r = act(disp, number, "close")
    assert r.status_code == 302
    page = disp.get(r["Location"]).content.decode()
    assert "已结案" in page and "已结案" in page and "已拆除违建" in page
    steps = list(Event.objects.get(number=number).timeline.values_list("action", flat=True))
    assert steps == ["report", "accept", "dispatch", "sign", "resolve", "verify", "close"]


def test_an_action_not_allowed_now_says_why_and_changes_nothing(filed, browser_for):
    number = filed(category="9802").number  # dispatched at once
    r = act(browser_for("dispatcher"), number, "close")
    assert r.status_code == 409
    html = r.content.decode()
    assert "不能“结案”" in html and "当前可执行" in html and "发令" in html
    assert Event.objects.get(number=number).status == "dispatched"
    # wrong input: a resolve without its result
    act(browser_for("cg"), number, "sign")
    bad = act(browser_for("cg"), number, "resolve", note="")
    assert bad.status_code == 422 and "须填写处置结果" in bad.content.decode()
    assert Event.objects.get(number=number).status == "in_progress"


def test_actions_need_the_csrf_token(filed, people):
    number = filed(category="9802").number
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["cg"])
    r = client.post(f"/workbench/events/{number}/act", {"action": "sign"})
    assert r.status_code == 403 and Event.objects.get(number=number).status == "dispatched"


def test_operator_intake_with_caller_lookup(filed, browser_for, grid_point):
    earlier = filed(category="9802", reporter_name="王五", reporter_phone="13711112222")
    op = browser_for("operator")
    found = op.get("/workbench/caller?reporter_phone=137-1111-2222").content.decode()
    assert earlier.number in found and "137****2222" in found
    assert "13711112222" not in found and "王五" not in found
    assert "没有历史诉求" in op.get("/workbench/caller?reporter_phone=13700000000").content.decode()
    page = op.get("/workbench/intake/").content.decode()
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    r = op.post(
        "/workbench/intake/",
        {
            "ticket": ticket,
            "channel": "hotline",
            "reporter_phone": "13711112222",
            "description": "又有人在楼顶加建",
            "category": "9802",
            "region": "440306017",
        },
    )
    assert r.status_code == 302
    e = Event.objects.exclude(pk=earlier.pk).get(channel="hotline")
    assert e.status == "dispatched" and e.reporter_phone == "137****2222"
    shown = op.get(r["Location"]).content.decode()
    assert e.number in shown and "查询码" in shown


def test_a_consultation_answered_on_the_phone_closes_at_intake(browser_for):
    op = browser_for("operator")
    page = op.get("/workbench/intake/").content.decode()
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    body = {
        "ticket": ticket,
        "channel": "hotline",
        "description": "请问社保断缴怎么补",
        "category": "9901 测试咨询 / 社保政策咨询",
        "region": "440306017",
        "answer": "可在社保局网站办理补缴。",
    }
    assert op.post("/workbench/intake/", body).status_code == 302
    e = Event.objects.get(channel="hotline")
    assert e.status == "closed" and e.answer == "可在社保局网站办理补缴。"
    # a complaint cannot be "answered" away; a forged ticket is refused
    body |= {"ticket": ticket + "x", "category": "9802", "description": "违建"}
    assert "表单已过期" in op.post("/workbench/intake/", body).content.decode()
    fresh = op.get("/workbench/intake/").content.decode()
    body["ticket"] = re.search(r'name="ticket" value="([^"]+)"', fresh).group(1)
    r = op.post("/workbench/intake/", body)
    assert r.status_code == 422 and "只有咨询类事项" in r.content.decode()
    assert Event.objects.count() == 1


def test_intake_is_for_operators_and_centres(browser_for):
    assert browser_for("cg").get("/workbench/intake/").status_code == 403
    assert browser_for("grid").get("/workbench/intake/").status_code == 403


def test_revealing_the_reporter_needs_a_reason_and_is_logged(filed, browser_for, people):
    number = filed(category="9802", reporter_name="赵六", reporter_phone="13655556666").number
    disp = browser_for("dispatcher")
    page = disp.get(f"/workbench/events/{number}/").content.decode()
    assert "136****6666" in page and "13655556666" not in page
    short = disp.post(f"/workbench/events/{number}/reveal", {"reason": ""})
    assert short.status_code == 422 and "理由" in short.content.decode()
    ok = disp.post(f"/workbench/events/{number}/reveal", {"reason": "需回访核实诉求细节"})
    assert "13655556666" in ok.content.decode() and "赵六" in ok.content.decode()
    assert AuditRecord.objects.filter(action="pii.reveal").count() == 1
    # the handler of the department it is dispatched to calls the citizen back: a reveal
    # button on their task's page, a reason, a record; another department of the district,
    # which sees the event but does not handle it, has neither
    assert Event.objects.get(number=number).department.code == "440306-CG"
    cg = browser_for("cg")
    assert "查看完整信息" in cg.get(f"/workbench/events/{number}/").content.decode()
    theirs = cg.post(f"/workbench/events/{number}/reveal", {"reason": "联系诉求人了解情况"})
    assert theirs.status_code == 200 and "13655556666" in theirs.content.decode()
    assert AuditRecord.objects.filter(action="pii.reveal", actor="cg").count() == 1
    hj = browser_for("hj")
    assert "查看完整信息" not in hj.get(f"/workbench/events/{number}/").content.decode()
    refused = hj.post(f"/workbench/events/{number}/reveal", {"reason": "联系诉求人了解情况"})
    assert refused.status_code == 403
    assert (
        browser_for("operator")
        .post(f"/workbench/events/{number}/reveal", {"reason": "需回访核实诉求细节"})
        .status_code
        == 403
    )


def test_a_closed_event_rated_by_the_operator_on_the_phone(filed, browser_for, people):
    number = filed(category="9802").number
    walk(people, number, *CLOSE_STEPS)
    r = act(browser_for("operator"), number, "rate", rating="satisfied")
    assert r.status_code == 302 and Event.objects.get(number=number).rating == "satisfied"
    assert services.allowed_actions(people["operator"], Event.objects.get(number=number))


def test_the_dispatch_queue_holds_accepted_and_returned_events(filed, browser_for, people):
    accepted = filed(None, channel="web", description="请问这个情况归谁管")
    services.act(people["dispatcher"], accepted.number, "accept", {"category": "9802"})
    returned = filed(category="9802", description="铁皮房加建", source_ref="W-ret")
    services.act(people["cg"], returned.number, "return", {"reason": "ownership"})
    disp = browser_for("dispatcher")
    assert set(_queue(disp, "dispatch")) == {accepted.number, returned.number}
    assert _queue(disp, "triage") == []
    # a grid worker of the community verifies; a department handler has no such queue
    assert "待核查" in browser_for("grid").get("/workbench/").content.decode()
    assert "待核查" not in browser_for("cg").get("/workbench/").content.decode()


def test_numbers_typed_into_the_words_are_starred_for_who_may_not_reveal_them(
    filed, browser_for, people
):
    """An operator, or a department handler on a page other than the event's own, or on the
    page of an event not dispatched to their department (no reveal permission for it), reads
    phones and ID numbers in titles, descriptions and notes starred, as the reporter's phone
    is; the centre dispatcher, and the handler on the page of their own task, read them as
    written. The title, cut from the description inside the ID number, shows none of its
    digits either."""
    said = "来电人 13812345678 身份证440306199001011236 反映楼道堆放杂物"
    number = filed(category="9802", description=said, reporter_phone="13812345678").number
    services.act(people["dispatcher"], number, "comment", {"note": "已回电 13812345678"})
    cg, op, disp = browser_for("cg"), browser_for("operator"), browser_for("dispatcher")
    shown = {
        "event page": browser_for("hj").get(f"/workbench/events/{number}/").content.decode(),
        "task queue": cg.get("/workbench/?desk=tasks").content.decode(),
        "caller history": op.get("/workbench/caller?reporter_phone=13812345678").content.decode(),
    }
    assert number in shown["task queue"] and number in shown["caller history"]
    for where, html in shown.items():
        assert "13812345678" not in html and "4403061990" not in html, where
        assert "来电人 138****5678 身份证440306*****" in html, where
    assert "440306********1236" in shown["event page"]
    assert "已回电 138****5678" in shown["event page"]
    for reader in (disp, cg):
        theirs = reader.get(f"/workbench/events/{number}/").content.decode()
        assert said in theirs and "已回电 13812345678" in theirs
