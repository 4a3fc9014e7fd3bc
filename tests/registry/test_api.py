"""The registry over HTTP: masked for every user, hidden from other jurisdictions, revealed
only with a reason that is logged; writes audited; codes frozen when a grid is re-drawn."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditRecord
from civicgrid.registry.importers import import_file
from civicgrid.registry.models import Building, House, Person, Residence
from tests.registry.conftest import GRID, NANSHAN_GRID, id_number, write_csv
from tests.registry.test_import import HOUSE_HEADER, PERSON_HEADER

pytestmark = pytest.mark.django_db

CLEAR_ID = id_number("430102", "19880808", 77)


@pytest.fixture
def city(buildings_file, tmp_path):
    import_file("buildings", buildings_file(), actor="test")
    estate = Building.objects.get(name="宝民花园1栋")
    nanshan = Building.objects.get(name="南头城1号")
    write_csv(
        tmp_path / "h.csv",
        HOUSE_HEADER,
        [
            ["", estate.code, 5, "501", 90, "出租", "", ""],
            ["", nanshan.code, 1, "101", 25, "出租", "", ""],
        ],
    )
    import_file("houses", tmp_path / "h.csv", actor="test")
    baoan_house = House.objects.get(building=estate)
    nanshan_house = House.objects.get(building=nanshan)
    write_csv(
        tmp_path / "p.csv",
        PERSON_HEADER,
        [
            [
                CLEAR_ID,
                "欧阳娜娜",
                "13912345678",
                "非户籍",
                "独居老人",
                baoan_house.code,
                "租户",
                "2024-01-01",
            ],
            [
                id_number("440305", "19800101", 1),
                "钱七",
                "0755-12345678",
                "户籍",
                "",
                nanshan_house.code,
                "租户",
                "",
            ],
        ],
    )
    import_file("persons", tmp_path / "p.csv", actor="test")
    return {
        "estate": estate,
        "baoan_house": baoan_house,
        "nanshan_house": nanshan_house,
        "person": Person.objects.get(name="欧阳娜娜"),
        "nanshan_person": Person.objects.get(name="钱七"),
    }


@pytest.fixture
def users(make_user):
    return {
        "baoan_grid": make_user("r_grid", "grid_worker", "440306017001"),
        "baoan_dispatcher": make_user("r_disp", "dispatcher", "440306", "440306-ZZ"),
        "nanshan_dispatcher": make_user("r_ns", "dispatcher", "440305", "440305-ZZ"),
        "leader": make_user("r_leader", "leader", "440300"),
        "steward": make_user("r_steward", "steward", "440300"),
    }


def _assert_masked(body: str) -> None:
    assert CLEAR_ID not in body and "欧阳娜娜" not in body and "13912345678" not in body


@pytest.mark.parametrize("who", ["baoan_grid", "baoan_dispatcher", "leader", "steward"])
def test_persons_are_masked_for_every_user(city, users, api, who):
    client = api(users[who])
    body = client.get(f"/api/v1/persons?id_number={CLEAR_ID}")
    assert body.status_code == 200
    item = body.json()["items"][0]
    assert item["id_number"] == CLEAR_ID[:6] + "********" + CLEAR_ID[-4:]
    assert item["name"] == "欧***" and item["phone"] == "139****5678"
    assert item["tags"] == ["独居老人"] and item["residences"][0]["relation"] == "租户"
    house = client.get(f"/api/v1/houses/{city['baoan_house'].code}")
    _assert_masked(house.content.decode())
    assert house.json()["residents"][0]["name"] == "欧***"
    _assert_masked(client.get(f"/api/v1/persons/{city['person'].pk}").content.decode())


def test_a_person_imported_without_a_home_is_not_taken_over_by_a_registration(
    city, users, api, tmp_path
):
    """Only a record known by number alone (no name, kept nowhere) is completed by the first
    home; a named person without a house keeps their name and stays out of others' view."""
    from civicgrid.accounts import pii

    number = id_number("440303", "19700101", 55)
    write_csv(
        tmp_path / "p.csv",
        PERSON_HEADER,
        [[number, "李大同", "13900001111", "户籍", "社区矫正", "", "", ""]],
    )
    assert import_file("persons", tmp_path / "p.csv", actor="test").written == 1
    grid = api(users["baoan_grid"])
    url = f"/api/v1/houses/{city['baoan_house'].code}/residents"
    body = {"id_number": number, "name": "王五", "phone": "13800000000", "relation": "tenant"}
    r = grid.post(url, body, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = grid.post(url, body | {"name": "李大同"}, content_type="application/json")
    assert r.status_code == 201, r.content
    person = Person.objects.get(id_hash=pii.cipher().lookup_hash(number))
    assert (person.name, person.phone, person.grid_code) == ("李大同", "13900001111", "")
    found = grid.post(
        "/api/v1/persons/search", {"id_number": number}, content_type="application/json"
    ).json()
    assert found[0]["phone"] == "" and found[0]["tags"] == []


def test_an_owner_named_only_by_number_elsewhere_can_be_registered_here(city, users, api, tmp_path):
    """A house owner known by number alone, kept by the district of their house, has no name to
    check a registration against: their home here is added, their record left as it is."""
    from civicgrid.accounts import pii

    owner = id_number("440305", "19660606", 23)
    nanshan = city["nanshan_house"]
    write_csv(
        tmp_path / "h.csv",
        HOUSE_HEADER,
        [[nanshan.code, nanshan.building.code, 1, "101", 25, "出租", owner, ""]],
    )
    assert import_file("houses", tmp_path / "h.csv", actor="test").rejected == 0
    stub = Person.objects.get(id_hash=pii.cipher().lookup_hash(owner))
    assert (stub.name, stub.grid_code) == ("", nanshan.grid_code)
    r = api(users["baoan_grid"]).post(
        f"/api/v1/houses/{city['baoan_house'].code}/residents",
        {"id_number": owner, "name": "赵六", "relation": "tenant"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    stub.refresh_from_db()
    assert (stub.name, stub.grid_code) == ("", nanshan.grid_code)
    assert Residence.objects.filter(person=stub, house=city["baoan_house"]).exists()


def test_the_id_number_lookup_also_takes_the_number_in_a_body(city, users, api):
    """POST /persons/search answers like GET /persons?id_number=, without putting the number
    in a URL (and so in proxies' access logs)."""
    baoan, nanshan = api(users["baoan_dispatcher"]), api(users["nanshan_dispatcher"])
    found = baoan.post(
        "/api/v1/persons/search", {"id_number": CLEAR_ID}, content_type="application/json"
    )
    assert found.status_code == 200, found.content
    assert found.json() == baoan.get(f"/api/v1/persons?id_number={CLEAR_ID}").json()["items"]
    assert len(found.json()) == 1
    _assert_masked(found.content.decode())
    hidden = nanshan.post(
        "/api/v1/persons/search", {"id_number": CLEAR_ID}, content_type="application/json"
    )
    assert hidden.status_code == 200 and hidden.json() == []
    empty = baoan.post("/api/v1/persons/search", {}, content_type="application/json")
    assert empty.status_code == 422 and "id_number" in empty.content.decode()


def test_other_jurisdictions_see_nothing(city, users, api):
    nanshan = api(users["nanshan_dispatcher"])
    assert nanshan.get(f"/api/v1/persons?id_number={CLEAR_ID}").json() == {"items": [], "count": 0}
    assert nanshan.get(f"/api/v1/persons/{city['person'].pk}").status_code == 404
    assert nanshan.get(f"/api/v1/houses/{city['baoan_house'].code}").status_code == 404
    assert nanshan.get(f"/api/v1/buildings/{city['estate'].code}").status_code == 404
    assert nanshan.get(f"/api/v1/houses/{city['nanshan_house'].code}").status_code == 200
    grid = api(users["baoan_grid"])  # community level: its own grid only
    codes = {b["code"] for b in grid.get("/api/v1/buildings?limit=1000").json()["items"]}
    assert city["estate"].code in codes and all(c.startswith(GRID[:12]) for c in codes)
    assert grid.get(f"/api/v1/persons/{city['nanshan_person'].pk}").status_code == 404


def test_reveal_needs_a_reason_and_is_logged(city, users, api):
    client = api(users["baoan_dispatcher"])
    url = f"/api/v1/persons/{city['person'].pk}/reveal"
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "reason"
    short = client.post(url, {"reason": "看"}, content_type="application/json")
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "reason"
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()
    ok = client.post(url, {"reason": "核实独居老人走访信息"}, content_type="application/json")
    assert ok.json() == {"id_number": CLEAR_ID, "name": "欧阳娜娜", "phone": "13912345678"}
    log = AuditRecord.objects.get(action="pii.reveal")
    assert log.actor == "r_disp" and log.summary["reason"] == "核实独居老人走访信息"
    assert CLEAR_ID not in str(log.summary)
    # a leader may read dashboards but not reveal personal data
    denied = api(users["leader"]).post(
        url, {"reason": "想看看而已"}, content_type="application/json"
    )
    assert denied.status_code == 403
    # and a neighbour cannot even find the person
    assert (
        api(users["nanshan_dispatcher"])
        .post(url, {"reason": "核实信息"}, content_type="application/json")
        .status_code
        == 404
    )


def test_grid_worker_registers_and_ends_a_residence(city, users, api):
    client = api(users["baoan_grid"])
    newcomer = id_number("450102", "20000202", 31)
    response = client.post(
        f"/api/v1/houses/{city['baoan_house'].code}/residents",
        {
            "id_number": newcomer,
            "name": "孙八",
            "phone": "13700000000",
            "relation": "租户",
            "since": "2026-10-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    rid = response.json()["id"]
    assert AuditRecord.objects.filter(action="registry.residence.register").exists()
    bad = client.post(
        f"/api/v1/houses/{city['baoan_house'].code}/residents",
        {
            "id_number": newcomer[:-1] + "0" if newcomer[-1] != "0" else newcomer[:-1] + "1",
            "name": "孙八",
            "relation": "租户",
        },
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "id_number"
    ended = client.post(
        f"/api/v1/residences/{rid}/end", {"until": "2026-11-20"}, content_type="application/json"
    )
    assert ended.json()["until"] == "2026-11-20"
    again = client.post(f"/api/v1/residences/{rid}/end", {}, content_type="application/json")
    assert again.status_code == 409


def test_redrawing_a_grid_never_changes_a_code(city, users, api):
    estate = city["estate"]
    code = estate.code
    other_grid = GRID[:12] + "02"
    response = api(users["steward"]).patch(
        f"/api/v1/buildings/{code}", {"grid_code": other_grid}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == code and body["grid_code"] == other_grid
    assert House.objects.get(pk=city["baoan_house"].pk).code.startswith(code)
    assert House.objects.get(pk=city["baoan_house"].pk).grid_code == other_grid
    wrong = api(users["steward"]).patch(
        f"/api/v1/buildings/{code}", {"grid_code": "1"}, content_type="application/json"
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "grid_code"
    assert (
        api(users["baoan_dispatcher"])
        .patch(f"/api/v1/buildings/{code}", {"name": "x"}, content_type="application/json")
        .status_code
        == 403
    )


def test_organisation_lookup_by_credit_code(city, users, api, tmp_path):
    write_csv(
        tmp_path / "o.csv",
        ["credit_code", "name", "kind", "legal_rep", "house_code"],
        [["91350100M000100Y43", "宝民超市", "企业", "欧阳明", city["baoan_house"].code]],
    )
    import_file("organisations", tmp_path / "o.csv", actor="test")
    body = (
        api(users["baoan_dispatcher"])
        .get("/api/v1/organisations?credit_code=91350100m000100y43")
        .json()
    )
    assert body["count"] == 1 and body["items"][0]["name"] == "宝民超市"
    assert body["items"][0]["legal_rep"] == "欧**"  # a person's name: masked like any other
    assert "欧阳明" not in str(body)
    assert (
        api(users["nanshan_dispatcher"]).get("/api/v1/organisations/91350100M000100Y43").status_code
        == 404
    )


def test_registering_a_known_person_never_takes_them_from_another_district(city, users, api):
    known = city["nanshan_person"]
    nanshan_id = id_number("440305", "19800101", 1)
    baoan, nanshan = api(users["baoan_grid"]), api(users["nanshan_dispatcher"])
    reveal = f"/api/v1/persons/{known.pk}/reveal"
    body = {"reason": "核实居住信息"}
    # wholly outside the jurisdiction: not found, not revealable
    assert baoan.get(f"/api/v1/persons?id_number={nanshan_id}").json()["count"] == 0
    assert baoan.post(reveal, body, content_type="application/json").status_code == 404
    url = f"/api/v1/houses/{city['baoan_house'].code}/residents"
    # a name other than the one recorded for the number is refused, and the answer names
    # nothing of the record (it would otherwise show an outsider the recorded name)
    wrong = baoan.post(
        url,
        {"id_number": nanshan_id, "name": "某某", "phone": "13600009999", "relation": "tenant"},
        content_type="application/json",
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "name"
    assert "钱" not in wrong.content.decode()
    assert not Residence.objects.filter(person=known, house=city["baoan_house"]).exists()
    # the refusal tells a known number from an unknown one: each is on the audit trail
    (tried,) = AuditRecord.objects.filter(action="registry.residence.name_mismatch")
    assert tried.actor == users["baoan_grid"].username
    assert tried.summary["after"]["person"] == known.id_masked
    response = baoan.post(
        url,
        {"id_number": nanshan_id, "name": " 钱七", "phone": "13600009999", "relation": "tenant"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    person = Person.objects.get(pk=known.pk)
    assert (person.name, person.phone) == ("钱七", "0755-12345678")
    assert (person.district_code, person.grid_code) == ("440305", known.grid_code)
    # 南山 keeps the person; each district sees the homes in its own jurisdiction, the city both
    mine = nanshan.get(f"/api/v1/persons?id_number={nanshan_id}").json()
    assert mine["count"] == 1
    assert [r["house_code"] for r in mine["items"][0]["residences"]] == [city["nanshan_house"].code]
    city_wide = api(users["steward"]).get(f"/api/v1/persons/{known.pk}").json()
    assert {r["house_code"] for r in city_wide["residences"]} == {
        city["nanshan_house"].code,
        city["baoan_house"].code,
    }
    theirs = baoan.get(f"/api/v1/persons?id_number={nanshan_id}").json()["items"]
    assert [r["house_code"] for r in theirs[0]["residences"]] == [city["baoan_house"].code]
    # seen only through that home: name and ID masked, nothing of the record kept in 南山
    assert (theirs[0]["phone"], theirs[0]["household_type"], theirs[0]["tags"]) == ("", "", [])
    assert mine["items"][0]["phone"] == "0755-******78" and mine["items"][0]["household_type"]
    detail = baoan.get(f"/api/v1/persons/{known.pk}").json()
    assert [r["house_code"] for r in detail["residences"]] == [city["baoan_house"].code]
    assert (
        city["nanshan_house"].code not in baoan.get(f"/api/v1/persons/{known.pk}").content.decode()
    )
    # whole-jurisdiction lists go by the person's own grid (an index range; a resident from
    # elsewhere is listed under the house), exact lookups by ID number also by current home
    listed = baoan.get("/api/v1/persons?limit=1000").json()["items"]
    assert listed and known.pk not in {p["id"] for p in listed}  # 欧阳娜娜 of 宝安 is listed
    # seen through the tenancy 宝安 recorded, but registered in 南山: 宝安 cannot reveal
    refused = baoan.post(reveal, body, content_type="application/json")
    assert refused.status_code == 403 and "0755-12345678" not in refused.content.decode()
    steward = api(users["steward"]).post(reveal, body, content_type="application/json")
    assert steward.status_code == 200 and steward.json()["phone"] == "0755-12345678"


def test_a_building_moves_only_inside_the_jurisdiction_and_takes_its_residents(
    city, users, make_user, api
):
    from civicgrid.geo.models import Region
    from civicgrid.rental import services as rental

    estate, house, person = city["estate"], city["baoan_house"], city["person"]
    rental.register_rental(users["baoan_grid"], house, safety_letter=True)
    steward = api(make_user("r_ba_steward", "steward", "440306"))
    url = f"/api/v1/buildings/{estate.code}"
    away = steward.patch(url, {"grid_code": NANSHAN_GRID}, content_type="application/json")
    assert away.status_code == 422 and away.json()["errors"][0]["field"] == "grid_code"
    assert Building.objects.get(pk=estate.pk).grid_code == GRID
    # another community of the same district: the steward may, and everything follows
    other = (
        Region.objects.filter(level="grid", district_code="440306")
        .exclude(code__startswith=GRID[:12])
        .order_by("code")
        .first()
        .code
    )
    moved = steward.patch(url, {"grid_code": other}, content_type="application/json")
    assert moved.status_code == 200, moved.content
    residence = Residence.objects.get(house=house)
    assert (residence.district_code, residence.grid_code) == ("440306", other)
    assert Person.objects.get(pk=person.pk).grid_code == other
    assert House.objects.get(pk=house.pk).grid_code == other
    # the old community's worker no longer holds them, the district still does
    old_grid = api(users["baoan_grid"])
    assert old_grid.get(f"/api/v1/persons?id_number={CLEAR_ID}").json()["count"] == 0
    assert old_grid.get(f"/api/v1/rental/{house.code}").status_code == 404
    district = api(users["baoan_dispatcher"])
    found = district.get(f"/api/v1/persons?id_number={CLEAR_ID}").json()
    assert [r["house_code"] for r in found["items"][0]["residences"]] == [house.code]


@pytest.mark.parametrize(
    "change",
    [
        {"name": None},
        {"address": None},
        {"floors": None},
        {"use": None},
        {"grid_code": None},
        {"address": "  "},
        {"name": "名" * 101},
    ],
)
def test_a_building_patch_the_columns_cannot_hold_is_a_field_error(city, users, api, change):
    estate = city["estate"]
    response = api(users["steward"]).patch(
        f"/api/v1/buildings/{estate.code}", change, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == list(change)
    after = Building.objects.get(pk=estate.pk)
    assert (after.name, after.address, after.floors) == (estate.name, estate.address, estate.floors)


def test_the_service_refuses_a_building_name_longer_than_its_column(city, users):
    from civicgrid.core.errors import ServiceError
    from civicgrid.registry import services

    with pytest.raises(ServiceError) as refused:
        services.update_building(users["steward"], city["estate"], name="名" * 101)
    assert [e.field for e in refused.value.errors] == ["name"]


def test_the_keeping_jurisdiction_moves_a_person_by_registering_them_elsewhere(city, users, api):
    """A registration by whoever keeps the record (here the city) is a move, as before."""
    person = Person.objects.get(id_masked__startswith="430102")
    r = api(users["steward"]).post(
        f"/api/v1/houses/{city['nanshan_house'].code}/residents",
        {"id_number": CLEAR_ID, "name": "欧阳娜娜", "relation": "tenant"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    moved = Person.objects.get(pk=person.pk)
    assert (moved.district_code, moved.grid_code) == (
        city["nanshan_house"].district_code,
        city["nanshan_house"].grid_code,
    )


@pytest.mark.parametrize(
    ("recorded", "typed", "same"),
    [
        ("阿卜杜·热合曼", "阿卜杜•热合曼", True),
        ("阿卜杜·热合曼", "阿卜杜．热合曼", True),
        ("阿卜杜·热合曼", "阿卜杜 · 热合曼", True),
        ("JOHN SMITH", "ｊｏｈｎ smith", True),
        ("钱七", "钱 七", True),
        ("钱七", "钱八", False),
        ("", "任何人", True),  # nothing recorded to check against
    ],
)
def test_the_real_name_check_forgives_how_a_name_is_typed(recorded, typed, same):
    from civicgrid.registry.services import name_matches

    assert name_matches(Person(name=recorded), typed) is same
