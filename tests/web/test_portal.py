"""The citizen portal `/`: file an appeal anonymously, with a map pin or a street, photos
optional; the answer is the event number and a tracking code. Bad input changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.events.models import Event, TimelineEntry
from civicgrid.web import guards
from tests.web.conftest import PNG

pytestmark = pytest.mark.django_db


def _form(client: Client) -> dict:
    page = client.get("/")
    assert page.status_code == 200
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)
    return {"ticket": ticket}


def _post(client, grid_point, **fields):
    lon, lat = grid_point()
    body = _form(client) | {
        "description": "小区门口垃圾堆积很多天没有清运，气味很大",
        "lon": str(lon),
        "lat": str(lat),
    }
    body.update(fields)
    return client.post("/", body)


def _uploads() -> set[str]:
    folder = Path(settings.DATA_DIR) / "uploads" / "events"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_the_portal_is_chinese_with_a_catalogue_picker_and_a_map(small_catalogue):
    html = Client().get("/").content.decode()
    assert "我要反映" in html and "提交诉求" in html
    assert 'list="leaves"' in html and "9802 测试市容 / 违法搭建" in html
    assert 'id="pinmap"' in html and "/static/vendor/leaflet/leaflet.js" in html
    assert "宝安区 新安街道" in html  # the street picker for people without a map
    # the region overview that used to be the landing page is one link away
    assert 'href="/regions/"' in html
    assert "深圳市" in Client().get("/regions/").content.decode()


def test_an_anonymous_appeal_gets_a_number_and_a_tracking_code(small_catalogue, grid_point):
    client = Client()
    r = _post(
        client,
        grid_point,
        title="垃圾没人清运",
        category="9801 测试市容 / 暴露垃圾",
        reporter_name="张三丰",
        reporter_phone="13812345678",
        photos=SimpleUploadedFile("a.png", PNG, "image/png"),
    )
    assert r.status_code == 201, r.content.decode()[:2000]
    html = r.content.decode()
    number = re.search(r'id="event-number">(\d+)<', html).group(1)
    code = re.search(r'id="track-code">([0-9A-F]{8})<', html).group(1)
    assert code == guards.tracking_code(number)
    assert f'href="/track/{number}"' in html
    e = Event.objects.get(number=number)
    assert (e.channel, e.category_id, e.reporter_id) == ("web", "9801", None)
    assert e.reporter_phone == "138****5678" and e.reporter_name == "张**"
    assert e.evidence and e.evidence[0]["type"] == "png"
    first = TimelineEntry.objects.filter(event=e).order_by("pk").first()
    assert first.actor == guards.PORTAL_ACTOR
    assert "13812345678" not in html and "张三丰" not in html


def test_resubmitting_the_same_form_returns_the_first_event(small_catalogue, grid_point):
    client = Client()
    lon, lat = grid_point()
    body = _form(client) | {"description": "路灯不亮", "lon": str(lon), "lat": str(lat)}
    first = client.post("/", body)
    again = client.post("/", body)
    n1 = re.search(r'id="event-number">(\d+)<', first.content.decode()).group(1)
    n2 = re.search(r'id="event-number">(\d+)<', again.content.decode()).group(1)
    assert n1 == n2 and Event.objects.filter(channel="web").count() == 1


def test_a_street_can_stand_in_for_the_pin(small_catalogue):
    client = Client()
    body = _form(client) | {
        "description": "噪声扰民，晚上施工",
        "region": "440306017",
        "address": "宝民一路 1 号",
    }
    r = client.post("/", body)
    assert r.status_code == 201
    e = Event.objects.get(channel="web")
    assert e.region_path.startswith("440300.440306.440306017") and e.address == "宝民一路 1 号"


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"lon": "", "lat": ""}, "缺少位置"),
        ({"lon": "121.47", "lat": "31.23"}, "outside the jurisdiction"),
        ({"description": "长" * 4001}, "4000"),
        ({"description": ""}, "必填"),
        ({"category": "98 测试市容"}, "不是末级事项"),
        ({"ticket": "forged"}, "表单已过期"),
        ({"lon": "东经", "lat": "22.5"}, "地图位置无效"),
    ],
)
def test_bad_input_says_what_is_wrong_and_stores_nothing(
    small_catalogue, grid_point, fields, words
):
    r = _post(Client(), grid_point, **fields)
    assert r.status_code in (422, 400), r.status_code
    assert words in r.content.decode()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "photo, words",
    [
        (
            SimpleUploadedFile("x.png", b"this is not an image", "image/png"),
            "不是 JPEG、PNG 或 WebP",
        ),
        (
            SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024), "image/jpeg"),
            "超过 5 MB",
        ),
    ],
)
def test_a_bad_or_oversized_photo_is_refused_and_nothing_is_stored(
    small_catalogue, grid_point, photo, words
):
    before = _uploads()
    r = _post(Client(), grid_point, photos=photo)
    assert r.status_code == 422
    assert words in r.content.decode()
    assert not Event.objects.exists() and _uploads() == before


def test_filing_is_limited_per_address(small_catalogue, grid_point):
    client = Client()
    for i in range(guards.SUBMIT_LIMIT):
        assert _post(client, grid_point, description=f"第 {i} 件事").status_code == 201
    r = _post(client, grid_point, description="再来一件")
    assert r.status_code == 429 and "提交过于频繁" in r.content.decode()
    assert Event.objects.count() == guards.SUBMIT_LIMIT


def test_the_portal_needs_the_csrf_token(small_catalogue, grid_point):
    client = Client(enforce_csrf_checks=True)
    lon, lat = grid_point()
    r = client.post("/", {"description": "x", "lon": lon, "lat": lat, "ticket": "t"})
    assert r.status_code == 403 and not Event.objects.exists()


def test_the_portal_in_english_when_chosen(small_catalogue):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "Report a problem" in html and "Submit" in html
    assert "Regions and grids" in html  # the project's own catalogue still applies
