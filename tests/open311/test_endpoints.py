"""Every GeoReport v2 endpoint and every error of the specification, in JSON and XML:
discovery, services, definitions, POST (realtime), tokens, GET requests with their filters,
paging and extensions, GET request by id; api keys; personal data never shown back."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.events import services as events
from civicgrid.events.models import Event
from civicgrid.open311.models import ApiKey, ServiceRequest

pytestmark = pytest.mark.django_db


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)


def errors_of(response) -> list[tuple[int, str]]:
    if response["Content-Type"].startswith("application/json"):
        return [(e["code"], e["description"]) for e in response.json()]
    root = xml(response)
    assert root.tag == "errors"
    return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]


# --- discovery, services, definitions -------------------------------------------------------


def test_discovery_in_both_formats_names_the_v2_endpoint(client):
    body = client.get("/open311/discovery.json").json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/type") == "production"


def test_services_are_the_catalogue_leaves(client, attributes):
    services = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == ["9801", "9802", "9803", "9901", "9902"]
    by = {s["service_code"]: s for s in services}
    assert by["9801"] | {"description": ""} == {
        "service_code": "9801",
        "service_name": "暴露垃圾",
        "description": "",
        "metadata": True,  # it has questions; the others do not
        "type": "realtime",
        "keywords": "垃圾, 乱扔, 堆积, 清运",
        "group": "测试市容",
    }
    assert "4 个工作小时" in by["9801"]["description"]
    assert by["9803"]["metadata"] is False
    root = xml(client.get("/open311/v2/services.xml"))
    assert [s.findtext("service_code") for s in root.findall("service")] == list(by)
    assert root.find("service/metadata").text == "true"


def test_service_definition_lists_its_attributes(client, attributes):
    body = client.get("/open311/v2/services/9801.json").json()
    assert body["service_code"] == "9801"
    assert [(a["code"], a["order"], a["required"]) for a in body["attributes"]] == [
        ("SIZE", 1, True),
        ("KIND", 2, False),
        ("NOTE", 3, False),
    ]
    assert body["attributes"][0]["values"] == [
        {"key": "S", "name": "一袋以内"},
        {"key": "L", "name": "一车以上"},
    ]
    assert body["attributes"][2]["variable"] is False
    root = xml(client.get("/open311/v2/services/9801.xml"))
    assert root.tag == "service_definition"
    keys = [v.findtext("key") for v in root.findall("attributes/attribute/values/value")]
    assert keys == ["S", "L", "BUILD", "HOME"]
    assert client.get("/open311/v2/services/9803.json").json()["attributes"] == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_a_404_with_an_errors_array(client, small_catalogue, fmt):
    r = client.get(f"/open311/v2/services/7777.{fmt}")
    assert r.status_code == 404
    assert errors_of(r) == [(404, "service_code 7777 was not found")]
    # a 大类 is not a service either
    assert client.get(f"/open311/v2/services/98.{fmt}").status_code == 404


def test_jurisdiction_id_may_be_left_out_and_must_be_ours_when_given(client, small_catalogue):
    assert client.get("/open311/v2/services.json?jurisdiction_id=440300").status_code == 200
    assert client.get("/open311/v2/services.json?jurisdiction_id=").status_code == 200
    r = client.get("/open311/v2/services.xml?jurisdiction_id=nyc.gov")
    assert r.status_code == 404 and errors_of(r) == [(404, "jurisdiction_id nyc.gov was not found")]


def test_an_unknown_format_or_method_answers_in_the_spec_error_shape(client, small_catalogue):
    r = client.get("/open311/v2/services.html")
    assert r.status_code == 404 and "use .xml or .json" in errors_of(r)[0][1]
    r = client.delete("/open311/v2/requests.json")
    assert r.status_code == 400 and "DELETE" in errors_of(r)[0][1]


# --- POST requests ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_answers_the_event_number_at_once(post311, fmt):
    r = post311(fmt, first_name="三", last_name="张", phone="13812345678", email="zs@qq.com")
    assert r.status_code == 200, r.content
    if fmt == "json":
        (answer,) = r.json()
        number = answer["service_request_id"]
        assert "token" not in answer  # realtime: the id, never a token as well
    else:
        root = xml(r)
        assert root.tag == "service_requests"
        number = root.findtext("request/service_request_id")
        assert root.find("request/token") is None
        assert "办理时限" in root.findtext("request/service_notice")
    event = Event.objects.get(number=number)
    assert (event.channel, event.category_id) == ("open311", "9803")
    # personal data kept as the hub keeps it: masked copy, encrypted original
    assert event.reporter_name == "张*" and event.reporter_phone == "138****5678"
    assert "13812345678" not in event.reporter_phone_enc
    extra = ServiceRequest.objects.get(event=event)
    assert extra.email == "z***@qq.com" and "zs@qq.com" not in extra.email_enc
    assert event.source_ref == extra.token


def test_post_carries_attributes_address_id_less_and_media_url(post311, attributes, client):
    r = post311(
        service_code="9801",
        description="路口一大堆建筑垃圾",
        address_string="宝民一路与新湖路交汇处",
        media_url="https://img.example.org/p/1.jpg",
        **{"attribute[SIZE]": "L", "attribute[KIND][]": ["BUILD", "HOME"]},
    )
    assert r.status_code == 200, r.content
    number = r.json()[0]["service_request_id"]
    body = client.get(f"/open311/v2/requests/{number}.json?extensions=true").json()[0]
    assert body["address"] == "宝民一路与新湖路交汇处"
    assert body["media_url"] == "https://img.example.org/p/1.jpg"
    assert body["attributes"] == [
        {"code": "SIZE", "label": "垃圾堆有多大？", "value": "L"},
        {"code": "KIND", "label": "有哪些垃圾？", "value": "BUILD, HOME"},
    ]


def test_a_note_cut_inside_a_number_shows_none_of_its_digits(post311, client):
    """The report entry repeats the title, cut from the description at 30 characters: a number
    cut short there is starred as in the description, as on the tracking page."""
    text = "我家电话13812345678，身份证号440306199001011236，门口井盖缺失"
    number = post311(description=text).json()[0]["service_request_id"]
    body = client.get(f"/open311/v2/requests/{number}.json?extensions=true").json()[0]
    notes = " ".join(n["description"] for n in body["notes"])
    assert "4403061990" not in notes and "13812345678" not in notes, notes
    assert "138****5678" in notes


def _count() -> int:
    return Event.objects.count() + ServiceRequest.objects.count()


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "o311_not-a-key"}, 403, "api_key is not valid"),
        ({"service_code": None}, 400, "service_code was not provided"),
        ({"service_code": "7777"}, 404, "service_code 7777 was not found"),
        ({"lat": None, "long": None}, 400, "a location is required"),
        ({"lat": None}, 400, "lat and long must be sent together"),
        ({"lat": None, "long": None, "address_string": "宝民一路"}, 400, "address_id"),
        ({"lat": "31.23", "long": "121.47"}, 400, "outside the jurisdiction"),  # Shanghai
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"description": "坑" * 4001}, 400, "longer than 4000 characters"),
        ({"description": "<script>alert(1)</script>"}, 400, "plain text"),
        ({"email": "not-an-address"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"address_id": "4403060170010000000000000", "lat": None, "long": None}, 400, "房屋"),
        ({"jurisdiction_id": "sf.gov"}, 404, "jurisdiction_id sf.gov was not found"),
        ({"description": "井盖\x00缺失"}, 400, "description: must not contain a NUL"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_posts_are_refused_as_specified_and_store_nothing(post311, fields, status, says, fmt):
    before = _count()
    r = post311(fmt, **fields)
    assert r.status_code == status, r.content
    codes_and_text = errors_of(r)
    assert codes_and_text[0][0] == status
    assert any(says in text for _, text in codes_and_text), codes_and_text
    assert _count() == before


def test_exactly_4000_characters_is_accepted(post311):
    assert post311(description="坑" * 4000).status_code == 200


def test_required_and_listed_attributes_are_enforced(post311, attributes):
    r = post311(service_code="9801")
    assert r.status_code == 400
    assert errors_of(r) == [(400, "attribute[SIZE] is required (垃圾堆有多大？)")]
    r = post311(service_code="9801", **{"attribute[SIZE]": "XL", "attribute[COLOUR]": "red"})
    texts = [t for _, t in errors_of(r)]
    assert "attribute[COLOUR]: this service has no such attribute" in texts
    assert "attribute[SIZE]: not an option: XL" in texts


def test_a_revoked_key_no_longer_posts(post311, api_key):
    from civicgrid.open311 import services

    services.revoke_key("test", ApiKey.objects.get())
    r = post311()
    assert r.status_code == 403 and "not valid" in errors_of(r)[0][1]


def test_the_apikey_command_prints_a_working_key(client, small_catalogue, grid_point, capsys):
    call_command("apikey", "深圳市民通")
    clear = capsys.readouterr().out.strip()
    lon, lat = grid_point()
    body = {"api_key": clear, "service_code": "9803", "lat": lat, "long": lon}
    assert client.post("/open311/v2/requests.json", body).status_code == 200
    key = ApiKey.objects.get(name="深圳市民通")
    assert key.digest != clear and clear not in key.digest and key.last_used_at is not None
    call_command("apikey", "深圳市民通", "--list")
    assert key.prefix in capsys.readouterr().out
    call_command("apikey", "深圳市民通", "--revoke", key.prefix)
    assert client.post("/open311/v2/requests.json", body).status_code == 403


# --- tokens ----------------------------------------------------------------------------------


def test_token_answers_the_request_id(post311, client):
    number = post311().json()[0]["service_request_id"]
    token = ServiceRequest.objects.get(event__number=number).token
    assert client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": number, "token": token}
    ]
    root = xml(client.get(f"/open311/v2/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == number
    r = client.get("/open311/v2/tokens/nope.json")
    assert r.status_code == 404 and errors_of(r) == [(404, "token nope was not found")]


# --- GET requests ----------------------------------------------------------------------------


def test_get_request_by_id_in_both_formats_shows_no_personal_data(post311, client):
    r = post311(
        description="井盖没了，联系我 13812345678",
        first_name="三",
        last_name="张",
        phone="13812345678",
        email="zs@qq.com",
    )
    number = r.json()[0]["service_request_id"]
    (body,) = client.get(f"/open311/v2/requests/{number}.json").json()
    event = Event.objects.get(number=number)
    assert body["service_request_id"] == number
    assert body["status"] == "open"
    assert body["service_code"] == "9803" and body["service_name"] == "井盖缺失"
    assert body["agency_responsible"] == event.department.name  # the lead department
    deadline = timezone.localtime(event.deadline).replace(microsecond=0)
    assert body["expected_datetime"] == deadline.isoformat()
    assert body["requested_datetime"].endswith("+08:00")
    assert (body["lat"], body["long"]) == (event.lat, event.lon)
    assert body["description"] == "井盖没了，联系我 138****5678"
    raw = client.get(f"/open311/v2/requests/{number}.xml?extensions=true").content.decode()
    for secret in ("13812345678", "张三", "zs@qq.com", "张*"):
        assert secret not in raw
    root = ET.fromstring(raw)
    assert root.findtext("request/service_request_id") == number
    assert root.findtext("request/expected_datetime") == body["expected_datetime"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_id_is_a_404(client, small_catalogue, fmt):
    r = client.get(f"/open311/v2/requests/20991231999.{fmt}")
    assert r.status_code == 404
    assert errors_of(r) == [(404, "service_request_id 20991231999 was not found")]


def test_status_closed_after_the_loop_and_notes_are_public_steps_only(post311, client):
    number = post311().json()[0]["service_request_id"]
    events.act("test", number, "comment", {"note": "内部：该路段归属有争议", "public": False})
    for action, params in [
        ("sign", {}),
        ("resolve", {"note": "已补装井盖"}),
        ("verify", {}),
        ("close", {}),
    ]:
        events.act("test", number, action, params)
    (body,) = client.get(f"/open311/v2/requests/{number}.json?extensions=true").json()
    event = Event.objects.get(number=number)
    assert body["status"] == "closed" and body["status_notes"] == "已结案"
    closed_at = timezone.localtime(event.closed_at).replace(microsecond=0)
    assert body["updated_datetime"] == closed_at.isoformat()
    notes = [(n["type"], n["description"]) for n in body["notes"]]
    assert ("处置完成", "已补装井盖") in notes and notes[-1][0] == "结案"
    assert all("内部" not in d for _, d in notes)  # internal notes stay inside
    assert body["notes"][0]["type"] == "登记"
    assert "notes" not in client.get(f"/open311/v2/requests/{number}.json").json()[0]


def _numbers(response) -> list[str]:
    return [r["service_request_id"] for r in response.json()]


def test_filters_by_id_code_status_and_dates(post311, client, attributes):
    a = post311().json()[0]["service_request_id"]
    rubbish = {"service_code": "9801", "description": "路边一袋生活垃圾", "attribute[SIZE]": "S"}
    b = post311(**rubbish).json()[0]["service_request_id"]
    c = post311().json()[0]["service_request_id"]
    if Event.objects.get(number=c).status != "merged":  # the same spot and words: merged
        events.act("test", c, "merge", {"master": a, "note": "同一井盖"})
    url = "/open311/v2/requests.json"
    assert set(_numbers(client.get(url))) >= {a, b, c}
    assert _numbers(client.get(f"{url}?service_request_id={a},{b}")) == [b, a]
    # service_request_id overrides every other filter
    assert _numbers(client.get(f"{url}?service_request_id={b}&service_code=9803")) == [b]
    assert set(_numbers(client.get(f"{url}?service_code=9801"))) == {b}
    assert set(_numbers(client.get(f"{url}?service_code=9801,9803"))) >= {a, b, c}
    closed = client.get(f"{url}?status=closed").json()
    assert [r["service_request_id"] for r in closed] == [c]
    assert "同一井盖" not in closed[0]["status_notes"] and a in closed[0]["status_notes"]
    assert c not in _numbers(client.get(f"{url}?status=open"))
    assert set(_numbers(client.get(f"{url}?status=open,closed"))) >= {a, b, c}
    # an old report is outside the default 90 days, inside an explicit window
    old = timezone.now() - dt.timedelta(days=120)
    Event.objects.filter(number=a).update(created_at=old)
    assert a not in _numbers(client.get(url))
    start = (old - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (old + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _numbers(client.get(f"{url}?start_date={start}&end_date={end}")) == [a]
    assert _numbers(client.get(f"{url}?start_date={start}")) == [a]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
        ("start_date=yesterday", "start_date"),
        ("end_date=0001-01-01", "end_date: out of range"),
        ("start_date=9999-12-31", "start_date: out of range"),
        ("status=pending", "status must be open or closed"),
        ("page=0", "page must be a positive integer"),
        ("page_size=ten", "page_size"),
    ],
)
def test_bad_queries_are_400(client, small_catalogue, query, says):
    for fmt in ("json", "xml"):
        r = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert r.status_code == 400
        assert says in errors_of(r)[0][1]


def test_page_and_page_size(post311, client):
    made = [post311().json()[0]["service_request_id"] for _ in range(5)]
    url = "/open311/v2/requests.json?service_code=9803&page_size=2"
    pages = [_numbers(client.get(f"{url}&page={p}")) for p in (1, 2, 3, 4)]
    assert pages[0] == made[::-1][:2] and pages[1] == made[::-1][2:4]
    assert pages[2] == made[:1] and pages[3] == []
    root = xml(client.get("/open311/v2/requests.xml?service_code=9803&page_size=2&page=3"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == made[:1]


def test_whistle_blowing_reports_are_not_public_but_their_client_reads_them(
    post311, client, api_key
):
    number = post311(service_code="9802", description="有人加建铁皮房").json()[0][
        "service_request_id"
    ]
    assert client.get(f"/open311/v2/requests/{number}.json").status_code == 404
    assert number not in _numbers(client.get("/open311/v2/requests.json"))
    mine = client.get(f"/open311/v2/requests/{number}.json?api_key={api_key}")
    assert mine.status_code == 200 and mine.json()[0]["service_code"] == "9802"
    assert number in _numbers(client.get(f"/open311/v2/requests.json?api_key={api_key}"))
    bad = client.get("/open311/v2/requests.json?api_key=wrong")
    assert bad.status_code == 403


def test_only_public_reports_are_served_and_never_a_house_code(
    client, small_catalogue, grid_point, village_building
):
    """The portal's reports are public like Open311's own; a hotline call, a grid worker's
    note or an untriaged report is not; no answer ever names the flat (house code)."""
    from civicgrid.registry.models import House
    from tests.events.conftest import GRID

    lon, lat = grid_point(GRID)
    building = village_building(GRID)
    room = House.objects.create(
        code=f"{building.code}000301",
        building=building,
        floor=3,
        room="301",
        use="rent",
        district_code="440306",
        grid_code=GRID,
    )

    def filed(channel: str, category: str | None, ref: str):
        event, _ = events.submit(
            "op",
            events.Intake(
                channel=channel,
                source_ref=ref,
                description="井盖缺失，来电人李四 13900001111",
                category=category,
                lon=lon,
                lat=lat,
                house_code=room.code,
                reporter_name="李四",
                reporter_phone="13900001111",
            ),
        )
        return event

    web = filed("web", "9803", "o-web")
    raw = client.get(f"/open311/v2/requests/{web.number}.xml").content.decode()
    assert f"<service_request_id>{web.number}</service_request_id>" in raw
    assert "<service_code>9803</service_code>" in raw
    assert "13900001111" not in raw and "139****1111" in raw
    assert room.code not in raw and "<address_id />" in raw
    listed = client.get("/open311/v2/requests.json").json()
    for private in (filed("hotline", "9803", "o-tel"), filed("grid", "9803", "o-grid")):
        assert client.get(f"/open311/v2/requests/{private.number}.json").status_code == 404
        assert private.number not in {r["service_request_id"] for r in listed}
    untriaged = filed("web", None, "o-new")
    assert client.get(f"/open311/v2/requests/{untriaged.number}.json").status_code == 404


def test_a_photo_sent_as_media_is_kept_with_the_event(post311):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.events.conftest import PNG

    photo = SimpleUploadedFile("manhole.png", PNG, content_type="image/png")
    r = post311(media=photo)
    assert r.status_code == 200, r.content
    event = Event.objects.get(number=r.json()[0]["service_request_id"])
    assert [p["type"] for p in event.evidence] == ["png"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"GIF89a not a photo we take", "不是 JPEG、PNG 或 WebP 图片"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), "larger than 5 MB"),
    ],
)
def test_a_malformed_or_oversized_photo_is_refused_and_nothing_stored(post311, content, says):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _count()
    r = post311("xml", media=SimpleUploadedFile("x.png", content))
    assert r.status_code == 400
    text = errors_of(r)[0][1]
    assert text.startswith("media") and says in text
    assert _count() == before
