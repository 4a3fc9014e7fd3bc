"""`/track/<number>`: the public timeline without internal notes or personal data, and a rating
that only the holder of the tracking code (the reporter) can give."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from civicgrid.events import services
from civicgrid.events.models import Event
from civicgrid.web import guards
from tests.web.conftest import CLOSE_STEPS, walk

pytestmark = pytest.mark.django_db


def _closed(filed, people):
    event = filed(
        None,
        channel="web",
        category="9802",
        reporter_name="李四",
        reporter_phone="13900001111",
    )
    walk(people, event.number, *CLOSE_STEPS)
    return event.number


def test_the_public_timeline_hides_internal_notes_and_personal_data(filed, people):
    event = filed(
        None,
        channel="web",
        category="9802",
        title="楼顶违建",
        description="楼顶加建铁皮房，我是 3 栋 502 的住户",
        reporter_name="李四光",
        reporter_phone="13900001111",
    )
    services.act(people["cg"], event.number, "comment", {"note": "内部：产权人是区里某领导亲戚"})
    services.act(people["cg"], event.number, "sign", {})
    html = Client().get(f"/track/{event.number}").content.decode()
    assert "处置中" in html and "宝安区城市管理和综合执法局" in html  # status and department
    assert "签收" in html and "派遣" in html and "<strong>登记</strong>" in html  # named steps
    assert "内部：产权人" not in html  # the internal note stays inside
    text = re.sub(r"<[^>]+>", " ", html.split("<main>")[1].split("</main>")[0])
    for secret in ("李四光", "李**", "13900001111", "139****1111", guards.PORTAL_ACTOR):
        assert secret not in text, secret
    assert not re.search(r"\b(cg|disp)\b", text)  # staff user names stay inside too
    assert "楼顶违建" in text and "502" not in text  # the title, not the description


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
