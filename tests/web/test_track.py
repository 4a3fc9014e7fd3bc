"""`/track/<number>`: the public timeline without internal notes or personal data, and a rating
that only the holder of the tracking code (the reporter) can give."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from civicgrid.accounts.models import Department
from civicgrid.events import services
from civicgrid.events.models import Event
from civicgrid.web import guards
from tests.web.conftest import CLOSE_STEPS, walk

pytestmark = pytest.mark.django_db


# a complaint (投诉): public on the tracking page; a report (举报) is confidential (below)
HJ_CLOSE_STEPS = [
    ("hj", "sign", {}),
    ("hj", "resolve", {"note": "已约谈施工方"}),
    *CLOSE_STEPS[2:],
]


def _closed(filed, people):
    event = filed(
        None,
        channel="web",
        category="9902",
        reporter_name="李四",
        reporter_phone="13900001111",
    )
    walk(people, event.number, *HJ_CLOSE_STEPS)
    return event.number


def test_the_public_timeline_hides_internal_notes_and_personal_data(filed, people):
    event = filed(
        None,
        channel="web",
        category="9902",
        title="夜间施工噪声",
        description="工地夜里施工太吵，我是 3 栋 502 的住户",
        reporter_name="李四光",
        reporter_phone="13900001111",
    )
    services.act(people["hj"], event.number, "comment", {"note": "内部：产权人是区里某领导亲戚"})
    services.act(people["hj"], event.number, "sign", {})
    html = Client().get(f"/track/{event.number}").content.decode()
    hj = Department.objects.get(code="440306-HJ").name
    assert "处置中" in html and hj in html  # status and department
    assert "签收" in html and "派遣" in html and "<strong>登记</strong>" in html  # named steps
    assert "内部：产权人" not in html  # the internal note stays inside
    text = re.sub(r"<[^>]+>", " ", html.split("<main>")[1].split("</main>")[0])
    for secret in ("李四光", "李**", "13900001111", "139****1111", guards.PORTAL_ACTOR):
        assert secret not in text, secret
    assert not re.search(r"\b(hj|disp)\b", text)  # staff user names stay inside too
    assert "夜间施工噪声" in text and "502" not in text  # the title, not the description


def test_an_unknown_number_is_a_friendly_404():
    r = Client().get("/track/20990101999999")
    assert r.status_code == 404
    assert "没有找到这个事件" in r.content.decode()
    assert Client().get("/track/?number=123").status_code == 302


def test_the_reporter_rates_with_the_tracking_code(filed, people):
    number = _closed(filed, people)
    client = Client()
    page = client.get(f"/track/{number}").content.decode()
    assert "评价办理结果" in page and "基本满意" in page
    wrong = client.post(f"/track/{number}/rate", {"code": "ABCDEF12", "rating": "satisfied"})
    assert wrong.status_code == 422 and "查询码不正确" in wrong.content.decode()
    assert Event.objects.get(number=number).rating == ""
    code = guards.tracking_code(number)
    ok = client.post(f"/track/{number}/rate", {"code": code.lower(), "rating": "basic"})
    assert ok.status_code == 302
    page = client.get(ok["Location"]).content.decode()
    assert "感谢您的评价" in page and "基本满意" in page and "评价办理结果" not in page
    e = Event.objects.get(number=number)
    assert e.rating == "basic"
    assert e.timeline.order_by("-pk").first().actor == guards.RATER_ACTOR
    twice = client.post(f"/track/{number}/rate", {"code": code, "rating": "satisfied"})
    assert twice.status_code == 409 and "已评价" in twice.content.decode()


def test_the_code_shown_at_filing_is_remembered_in_the_same_browser(filed, people, grid_point):
    client = Client()
    page = client.get("/").content.decode()
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    lon, lat = grid_point()
    body = {
        "ticket": ticket,
        "description": "违法搭建铁皮房",
        "category": "9802",
        "lon": lon,
        "lat": lat,
    }
    number = re.search(r'id="event-number">(\d+)<', client.post("/", body).content.decode())[1]
    walk(people, number, *CLOSE_STEPS)
    page = client.get(f"/track/{number}").content.decode()
    assert f'value="{guards.tracking_code(number)}"' in page


def test_unsatisfied_sends_it_back_and_an_open_event_cannot_be_rated(filed, people):
    number = _closed(filed, people)
    code = guards.tracking_code(number)
    r = Client().post(f"/track/{number}/rate", {"code": code, "rating": "unsatisfied"})
    assert r.status_code == 302
    assert Event.objects.get(number=number).status == "dispatched"  # 重办
    again = Client().post(f"/track/{number}/rate", {"code": code, "rating": "satisfied"})
    assert again.status_code == 409 and "不能“评价”" in again.content.decode()


def test_guessing_codes_is_stopped(filed, people):
    number = _closed(filed, people)
    client = Client()
    for _ in range(guards.CODE_FAILURE_LIMIT):
        client.post(f"/track/{number}/rate", {"code": "00000000", "rating": "satisfied"})
    right = guards.tracking_code(number)
    r = client.post(f"/track/{number}/rate", {"code": right, "rating": "satisfied"})
    assert r.status_code == 429 and Event.objects.get(number=number).rating == ""


def test_rating_needs_the_csrf_token(filed, people):
    number = _closed(filed, people)
    r = Client(enforce_csrf_checks=True).post(
        f"/track/{number}/rate", {"code": guards.tracking_code(number), "rating": "satisfied"}
    )
    assert r.status_code == 403 and Event.objects.get(number=number).rating == ""


def test_a_report_is_shown_only_to_its_reporter_and_free_text_is_starred_out(filed, people):
    """举报 is confidential (as on Open311); phones and ID numbers written into a title or a
    public note never reach the public page."""
    event = filed(None, channel="web", category="9902", title="隔壁 13812345678 噪声")
    services.act(
        people["dispatcher"],
        event.number,
        "comment",
        {"note": "已联系 440306199001011234 本人", "public": True},
    )
    html = Client().get(f"/track/{event.number}").content.decode()
    assert "13812345678" not in html and "138****5678" in html
    assert "440306199001011234" not in html and "440306********1234" in html
    # a title cut from the description (and the report entry repeating it) may end inside a
    # number too short to be recognised alone: it is starred as in the description
    said = "噪声扰民很多天了，请大家尽快处理，联系人手机 13812345678"
    short = filed(None, channel="web", category="9902", description=said)
    assert short.title.endswith(" 1381234")  # the number cut after 7 of its 11 digits
    html = Client().get(f"/track/{short.number}").content.decode()
    assert "1381234" not in html and "联系人手机 138****" in html
    report = filed(None, channel="web", category="9802", title="楼顶违建")  # 举报
    assert Client().get(f"/track/{report.number}").status_code == 404
    code = guards.tracking_code(report.number)
    assert Client().get(f"/track/{report.number}?code=WRONG123").status_code == 404
    assert Client().get(f"/track/{report.number}?code={code}").status_code == 200
    stranger = Client().post(
        f"/track/{report.number}/rate", {"code": "WRONG123", "rating": "basic"}
    )
    assert stranger.status_code == 404 and "楼顶违建" not in stranger.content.decode()
    lookup = Client().get("/track/", {"number": report.number, "code": code})
    assert lookup.status_code == 302 and f"code={code}" in lookup["Location"]


def test_a_hotline_call_or_a_grid_finding_needs_its_tracking_code(filed, people):
    """Numbers run in sequence: only what Open311 publishes (public channels, triaged, not a
    举报) may be followed by number alone. A hotline caller is told number and code."""
    call = filed("operator", channel="hotline", category="9902", title="王小明反映房东陈大文群租")
    patrol = filed("operator", channel="grid", category="9902", title="王小明家门口堆物")
    for event in (call, patrol):
        page = Client().get(f"/track/{event.number}")
        assert page.status_code == 404 and "王小明" not in page.content.decode()
        code = guards.tracking_code(event.number)
        assert Client().get(f"/track/{event.number}?code={code}").status_code == 200
    assert Client().get(f"/open311/v2/requests/{call.number}.json").status_code == 404
    public = filed(None, channel="web", category="9902", title="夜间施工噪声")
    assert Client().get(f"/track/{public.number}").status_code == 200
    # the workbench links the public page only where it opens by number
    staff = Client()
    staff.force_login(people["dispatcher"])
    for event, linked in ((call, False), (public, True)):
        page = staff.get(f"/workbench/events/{event.number}/").content.decode()
        assert (f'href="/track/{event.number}"' in page) is linked
        # a call-back repeats the code: centre staff see it on the event page
        assert guards.tracking_code(event.number) in page


def test_a_number_that_is_not_a_number_is_a_404_not_an_error():
    assert Client().get("/track/?number=a/b").status_code == 404
