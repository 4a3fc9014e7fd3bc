"""One intake for every channel: idempotent by channel + source_ref, located to a grid,
linked to the registry, checked field by field, masked, and closed at once where practice
allows (即巡即办, a consultation answered on the phone)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.events.models import Event, Outbox, TimelineEntry
from civicgrid.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from tests.events.conftest import GRID, PNG

pytestmark = pytest.mark.django_db


def _fields(resp) -> dict[str, str]:
    return {e["field"]: e["message"] for e in resp.json()["errors"]}


def test_a_known_category_is_accepted_and_dispatched_at_once(report):
    r = report(category="9802", description="楼顶加建铁皮房")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "dispatched"
    # the number carries the city's local day (Asia/Shanghai), whatever zone the time is shown in
    local = timezone.localtime(dt.datetime.fromisoformat(body["created_at"]))
    assert body["number"].startswith(f"{local:%Y%m%d}")
    assert body["category"] == {"code": "9802", "name": "违法搭建"}
    assert body["department"]["code"] == "440306-CG"  # district:CG for 违法搭建
    assert body["grid_code"] == GRID and body["district_code"] == "440306"
    assert body["deadline"] is not None
    actions = [t.action for t in TimelineEntry.objects.filter(event__number=body["number"])]
    assert actions == ["report", "accept", "dispatch"]


def test_a_retry_returns_the_same_event_and_adds_nothing(report):
    first = report(source_ref="HL-2026-1", category="9802")
    again = report(source_ref="HL-2026-1", category="9802", description="（重发）")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert Event.objects.filter(source_ref="HL-2026-1").count() == 1
    # the same reference from another channel is another event
    other = report(source_ref="HL-2026-1", channel="web", category="9802")
    assert other.status_code == 201 and other.json()["number"] != first.json()["number"]


def test_a_retry_never_shows_someone_elses_event(report):
    """Reference numbers are guessable: a key held by an event outside the caller's scope is
    refused with 409 and nothing of that event, for staff elsewhere and for citizens alike."""
    first = report(source_ref="HL-2026-7", category="9802", description="楼顶加建铁皮房")
    assert first.status_code == 201
    for who in ("nanshan", "citizen"):
        again = report(who, source_ref="HL-2026-7", description="x", lon=1, lat=1)
        assert again.status_code == 409, (who, again.content)
        assert _fields(again) == {"source_ref": "已被使用，请换一个来源编号"}
        assert first.json()["number"] not in again.content.decode()
        assert "铁皮房" not in again.content.decode()
    assert Event.objects.filter(source_ref="HL-2026-7").count() == 1


def test_without_category_a_confident_suggestion_dispatches_else_triage(report):
    sure = report(description="楼下有人加建铁皮房，违建越来越大")
    assert sure.json()["category"]["code"] == "9802"
    assert sure.json()["status"] == "dispatched"
    unsure = report(description="请帮忙看看这个情况")
    assert unsure.json()["status"] == "reported"
    assert unsure.json()["category"] is None and unsure.json()["department"] is None


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"category": "9999"}, "category", "9999"),
        ({"category": "98"}, "category", "不是末级"),
        ({"lon": None, "lat": None}, "location", "缺少位置"),
        ({"lon": 116.40, "lat": 39.90}, "lon", "outside the jurisdiction"),
        ({"description": "很" * 4001}, "description", "过长"),
        ({"channel": "fax"}, "channel", "hotline"),
        ({"crs": "mars"}, "crs", "wgs84"),
        (
            {"house_code": "4403060170010000000000001", "lon": None, "lat": None},
            "house_code",
            "不存在",
        ),
    ],
)
def test_bad_input_is_refused_by_field_and_changes_nothing(report, fields, field, words):
    before = Event.objects.count()
    r = report(**fields)
    assert r.status_code == 422, r.content
    assert words in _fields(r)[field]
    assert Event.objects.count() == before


def test_chinese_map_coordinates_are_converted_before_locating(report, grid_point):
    lon, lat = grid_point()
    for crs, convert in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        clon, clat = convert(lon, lat)
        body = report(crs=crs, lon=clon, lat=clat, category="9802").json()
        assert body["grid_code"] == GRID
        assert abs(body["lon"] - lon) < 1e-5 and abs(body["lat"] - lat) < 1e-5


def test_reporter_personal_data_is_masked_in_every_answer(report, clients):
    body = report(reporter_name="张三丰", reporter_phone="13812345678", category="9802").json()
    assert body["reporter_name"] == "张**" and body["reporter_phone"] == "138****5678"
    detail = clients["dispatcher"].get(f"/api/v1/events/{body['number']}").content.decode()
    assert "13812345678" not in detail and "张三丰" not in detail
    stored = Event.objects.get(number=body["number"])
    assert "13812345678" not in stored.reporter_phone_enc  # encrypted at rest


def test_grid_worker_closes_a_minor_event_on_the_spot_with_a_photo(report):
    photo = base64.b64encode(PNG).decode()
    r = report("grid", channel="grid", category="9801", on_spot=True, photos=[photo])
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "closed" and body["on_spot"] is True
    assert body["evidence"][0]["type"] == "png"
    assert not Outbox.objects.filter(event__number=body["number"]).exists()
    # without a photo, for an item that is not on-the-spot, or by someone else: refused
    assert "photos" in _fields(report("grid", category="9801", on_spot=True))
    assert "on_spot" in _fields(report("grid", category="9802", on_spot=True, photos=[photo]))
    assert "on_spot" in _fields(report("operator", category="9801", on_spot=True, photos=[photo]))


def test_a_consultation_answered_on_the_phone_closes_at_intake(report):
    body = report(category="9901", description="社保断缴怎么补", answer="可在社保局窗口补缴").json()
    assert body["status"] == "closed" and body["answer"] == "可在社保局窗口补缴"
    r = report(category="9802", answer="这个不归我们管")
    assert r.status_code == 422 and "answer" in _fields(r)


@pytest.mark.parametrize(
    "photo, status",
    [
        ("不是base64!!", 422),
        ("data:", 422),  # a data URL with nothing after it
        (base64.b64encode(b"GIF89a not allowed").decode(), 422),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * (6 * 1024 * 1024)).decode(), 422),
    ],
)
def test_malformed_or_oversized_photos_are_refused(report, photo, status):
    r = report("grid", category="9801", photos=[photo])
    assert r.status_code == status
    assert any(f.startswith("photos") for f in _fields(r))


def test_a_house_code_links_the_event_to_the_registry(report, tmp_path):
    from civicgrid.geo.models import Region
    from civicgrid.registry.importers import import_file
    from civicgrid.registry.models import House
    from tests.registry.conftest import BUILDING_HEADER, write_csv

    g = Region.objects.get(code=GRID)
    write_csv(
        tmp_path / "b.csv",
        BUILDING_HEADER,
        [
            [
                "",
                GRID,
                "宝民花园1栋",
                "宝民一路1号",
                g.lon,
                g.lat,
                "住宅",
                "商品住宅小区",
                10,
                2005,
                "A",
            ]
        ],
    )
    import_file("buildings", tmp_path / "b.csv", actor="test")
    from civicgrid.registry.models import Building

    b = Building.objects.get()
    write_csv(
        tmp_path / "h.csv",
        ["code", "building_code", "floor", "room", "area", "use"],
        [["", b.code, 5, "501", 90, "出租"]],
    )
    import_file("houses", tmp_path / "h.csv", actor="test")
    house = House.objects.get()
    body = report(house_code=house.code, lon=None, lat=None, category="9802").json()
    assert body["house_code"] == house.code and body["grid_code"] == GRID
    assert body["building_code"] == b.code
    # an address that the registry knows in that grid links the building too
    by_address = report(address="宝民一路1号", category="9802").json()
    assert by_address["building_code"] == b.code


def test_a_body_beyond_the_upload_limit_is_413(report):
    huge = base64.b64encode(PNG + b"0" * (40 * 1024 * 1024)).decode()
    r = report("grid", category="9801", photos=[huge])
    assert r.status_code == 413 and r.json()["detail"]


def test_reporter_details_are_revealed_only_with_a_reason_and_logged(report, clients):
    from civicgrid.audit.models import AuditRecord

    number = report(reporter_name="张三丰", reporter_phone="13812345678", category="9802").json()[
        "number"
    ]
    url = f"/api/v1/events/{number}/reveal"
    no_reason = clients["dispatcher"].post(url, {"reason": ""}, content_type="application/json")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    for who in ("operator", "hj"):  # a department of the district it is not dispatched to
        assert (
            clients[who]
            .post(url, {"reason": "回访核实情况"}, content_type="application/json")
            .status_code
            == 403
        )
    assert (
        clients["nanshan"]
        .post(url, {"reason": "回访核实情况"}, content_type="application/json")
        .status_code
        == 404
    )
    ok = clients["dispatcher"].post(
        url, {"reason": "回访核实情况"}, content_type="application/json"
    )
    assert ok.json() == {"name": "张三丰", "phone": "13812345678"}
    log = AuditRecord.objects.get(
        action="pii.reveal", object_id__isnull=False, summary__event=number
    )
    assert log.summary["reason"] == "回访核实情况" and "13812345678" not in str(log.summary)


def test_the_handling_department_may_call_the_reporter_back(report, clients):
    """The handler contacts the citizen within 24 hours (DESIGN §6): once the event is
    dispatched to their department, they reveal the reporter with a reason, logged, and read
    the event's words as written; a department without a task on it may not, and lists star
    the words for handlers too."""
    from civicgrid.audit.models import AuditRecord

    said = "楼道堆放杂物，可联系物业 13900001111"
    number = report(
        reporter_name="张三丰", reporter_phone="13812345678", category="9802", description=said
    ).json()["number"]
    url = f"/api/v1/events/{number}/reveal"
    reason = {"reason": "联系诉求人了解情况"}

    def reveal(who):
        return clients[who].post(url, reason, content_type="application/json")

    assert clients["cg"].get(f"/api/v1/events/{number}").json()["department"]["code"] == (
        "440306-CG"  # dispatched at intake by the routing table
    )
    assert reveal("cg").json() == {"name": "张三丰", "phone": "13812345678"}
    assert AuditRecord.objects.filter(action="pii.reveal", actor="cg").count() == 1
    assert clients["cg"].get(f"/api/v1/events/{number}").json()["description"] == said
    listed = clients["cg"].get("/api/v1/events").json()["items"]
    assert [e["description"] for e in listed if e["number"] == number] == [
        "楼道堆放杂物，可联系物业 139****1111"
    ]
    assert reveal("hj").status_code == 403  # same district, not their task
    assert "13900001111" not in clients["hj"].get(f"/api/v1/events/{number}").json()["description"]
    # once 城管 has returned it (not theirs) and it went to 环境 instead, 城管 no longer may
    act = "/api/v1/events/{}/actions/{}".format
    for who, action, body in (
        ("cg", "return", {"reason": "territory"}),
        ("dispatcher", "dispatch", {"department": "440306-HJ"}),
    ):
        r = clients[who].post(act(number, action), body, content_type="application/json")
        assert r.status_code == 200, r.content
    assert reveal("cg").status_code == 403 and reveal("hj").status_code == 200
    assert "13900001111" not in clients["cg"].get(f"/api/v1/events/{number}").json()["description"]


def test_a_failure_after_intake_loses_nothing_and_the_relay_finishes_it(report, monkeypatch):
    from civicgrid.events import services

    def broken(event):
        raise RuntimeError("routing table unreachable")

    with monkeypatch.context() as m:
        m.setattr(services, "_triage", broken)
        r = report(category="9802")
    assert r.status_code == 201 and r.json()["status"] == "reported"  # saved, not yet routed
    number = r.json()["number"]
    assert Outbox.objects.filter(event__number=number, done_at=None).exists()
    assert services.relay() == 1
    assert Event.objects.get(number=number).status == "dispatched"


def test_a_citizen_files_only_through_citizen_channels(report):
    r = report("citizen", channel="hotline", category="9802")
    assert r.status_code == 422 and "channel" in _fields(r)
    assert report("citizen", channel="miniprogram", category="9802").status_code == 201


def test_on_the_spot_closure_only_inside_the_workers_own_jurisdiction(report, grid_point):
    """Closed on patrol counts in that grid's figures: another community is not the worker's."""
    lon, lat = grid_point("44030500100101")  # 南山, not the worker's community
    photo = base64.b64encode(PNG).decode()
    r = report(
        "grid", channel="grid", category="9801", on_spot=True, photos=[photo], lon=lon, lat=lat
    )
    assert r.status_code == 422 and _fields(r) == {"location": "即巡即办只能在本人辖区内"}


def test_a_rule_routing_outside_the_events_area_leaves_it_for_the_dispatcher(report):
    """A city-wide rule naming a district's department cannot task it with another district's
    event: the event is accepted and waits at the desk, with the reason on its timeline."""
    from civicgrid.accounts.models import Department
    from civicgrid.events import catalogue_selectors
    from civicgrid.events.models import Category, RoutingRule

    RoutingRule.objects.create(
        category=Category.objects.get(code="9802"),
        department=Department.objects.get(code="440305-ZJ"),
    )
    catalogue_selectors.reset()
    r = report(category="9802", description="楼顶加建铁皮房")
    assert r.status_code == 201 and r.json()["status"] == "accepted", r.content
    event = Event.objects.get(number=r.json()["number"])
    assert not event.tasks.exists()
    assert "未能自动派遣" in event.timeline.filter(action="comment").get().note
    assert not Outbox.objects.filter(event=event, done_at=None).exists()


def test_the_intake_answer_carries_the_tracking_code_for_the_citizen(report):
    """A hotline call is not public: the caller follows it with number and code, which the
    system that filed it (12345, a mini-program) passes on."""
    from django.test import Client

    from civicgrid.web import guards

    body = report("operator", category="9802").json()
    assert body["tracking_code"] == guards.tracking_code(body["number"])
    assert Client().get(f"/track/{body['number']}").status_code == 404
    assert Client().get(f"/track/{body['number']}?code={body['tracking_code']}").status_code == 200


def test_a_nul_character_is_a_field_error_on_every_database(report, clients):
    """PostgreSQL cannot store NUL in text: refused up front, with the field, not a 500."""
    r = report("grid", category="9801", description="井盖\x00丢失")
    assert r.status_code == 422, r.content
    assert r.json()["errors"] == [{"field": "description", "message": "不能包含空字符（NUL）"}]
    q = clients["dispatcher"].get("/api/v1/events", {"category": "98\x00"})
    assert q.status_code == 422 and q.json()["errors"][0]["field"] == "category"
    path = clients["dispatcher"].get("/api/v1/events/2026%00")
    assert path.status_code == 400 and path.json()["errors"][0]["field"] == "path"
    from django.test import Client

    page = Client().get("/track/2026%00")
    assert page.status_code == 400 and "空字符" in page.content.decode()
