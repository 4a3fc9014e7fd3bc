"""A house's grade over the API: inspections re-grade at once or step by step, with reasons;
intervals follow grades; hazards become events; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from civicgrid.events.models import Event
from civicgrid.rental.models import GradeChange, RentalProfile

TODAY = timezone.localdate


def test_a_new_rental_starts_at_the_grade_its_indicators_allow(clients, make_house):
    house = make_house()
    r = clients["grid"].put(f"/api/v1/rental/{house.code}", {}, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    # no safety letter signed yet: at most yellow, and it says so
    assert body["grade"] == "yellow" and body["scheme"] == "default3"
    assert any("安全责任书" in x for x in body["history"][0]["reasons"])
    assert body["next_inspection_due"] == str(TODAY() + dt.timedelta(days=30))


def test_severe_finding_red_at_once_then_two_clean_inspections_move_up_one_step(
    clients, rental, inspect
):
    code = rental.house_code
    assert clients["grid"].get(f"/api/v1/rental/{code}").json()["grade"] == "green"

    r = inspect(code, escape_route_blocked=True)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grade"] == "red" and body["let_allowed"] is False
    assert body["next_inspection_due"] == str(TODAY() + dt.timedelta(days=7))
    change = body["history"][0]
    assert (change["from"], change["to"], change["actor"]) == ("green", "red", "rgrid")
    assert any("逃生通道堵塞" in x for x in change["reasons"])
    # the hazard is an event in the hub, linked to the house, from the grid channel
    [number] = body["inspection"]["events"]
    event = Event.objects.get(number=number)
    assert (event.channel, event.house_code, event.category_id) == ("grid", code, "070301")
    assert body["indicators"]["open_hazards"] == 1

    fixed = {"escape_route_blocked": False}
    once = inspect(code, **fixed).json()
    assert once["grade"] == "red" and once["clean_streak"] == 1
    twice = inspect(code, **fixed).json()
    # one step only, and the hazard event still open keeps it at yellow at best
    assert twice["grade"] == "yellow"
    assert twice["next_inspection_due"] == str(TODAY() + dt.timedelta(days=30))
    up = twice["history"][0]
    assert (up["from"], up["to"]) == ("red", "yellow")
    assert "连续 2 次检查合格" in up["reasons"][0]
    assert GradeChange.objects.filter(profile=rental).count() == 3  # register, down, up


def test_an_open_hazard_found_again_is_not_filed_twice(rental, inspect):
    inspect(rental.house_code, ebike_indoor_charging=True)
    inspect(rental.house_code, ebike_indoor_charging=True)
    assert Event.objects.filter(house_code=rental.house_code).count() == 1


def test_more_residents_than_registered_caps_at_yellow_and_files_an_event(rental, inspect):
    body = inspect(rental.house_code, observed=3).json()
    assert body["grade"] == "yellow"
    assert any("登记居住人数少于实住人数" in x for x in body["history"][0]["reasons"])
    [number] = body["inspection"]["events"]
    assert Event.objects.get(number=number).category_id == "070401"


def test_a_refused_inspection_counts(rental, inspect):
    body = inspect(rental.house_code, refused=True).json()
    assert body["indicators"]["refused_inspections"] == 1
    assert body["grade"] == "yellow"


def test_unknown_indicator_is_a_422_naming_it_and_changes_nothing(rental, inspect):
    r = inspect(rental.house_code, escape_blocked=True, observed=1)
    assert r.status_code == 422
    body = r.json()
    assert "escape_blocked" in body["detail"]
    assert body["errors"][0]["field"] == "findings.escape_blocked"
    r = inspect(rental.house_code, observed="many")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "findings.observed"
    rental.refresh_from_db()
    assert rental.observed is None and rental.inspections.count() == 0


def test_inspections_are_for_grid_workers_of_the_jurisdiction(rental, inspect):
    assert inspect(rental.house_code, who="nanshan", observed=1).status_code == 404
    assert inspect(rental.house_code, who="leader", observed=1).status_code == 403
    assert inspect(rental.house_code, who="anon", observed=1).status_code == 401
    assert rental.inspections.count() == 0


def test_a_grade_is_read_in_the_jurisdiction_only(clients, rental):
    assert clients["leader"].get(f"/api/v1/rental/{rental.house_code}").status_code == 200
    assert clients["nanshan"].get(f"/api/v1/rental/{rental.house_code}").status_code == 404


def test_personal_data_is_masked_in_the_profile(clients, make_house):
    house = make_house()
    r = clients["grid"].put(
        f"/api/v1/rental/{house.code}",
        {"manager_name": "王小明", "manager_phone": "13812345678"},
        content_type="application/json",
    )
    manager = r.json()["manager"]
    assert manager == {"name": "王**", "phone": "138****5678"}
    assert "13812345678" not in r.content.decode()


def test_an_invalid_rule_set_is_refused_and_the_old_stays_in_force(clients, rental):
    from civicgrid.rental.grading import shipped

    broken = shipped("longgang")
    broken["rules"][0]["when"] = {"escape_blocked": True}
    r = clients["steward"].post(
        "/api/v1/rental/rules", {"config": broken}, content_type="application/json"
    )
    assert r.status_code == 422
    assert "未知指标 'escape_blocked'" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "config"
    assert clients["grid"].get("/api/v1/rental/rules").json()["scheme"] == "default3"
    # and only a steward may load rules at all
    ok = clients["grid"].post(
        "/api/v1/rental/rules", {"config": shipped("longgang")}, content_type="application/json"
    )
    assert ok.status_code == 403


def test_four_level_scheme_in_force_sets_its_intervals(clients, rental, inspect):
    from civicgrid.rental.grading import shipped

    r = clients["steward"].post(
        "/api/v1/rental/rules", {"config": shipped("longgang")}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert clients["grid"].get("/api/v1/rental/rules").json()["scheme"] == "longgang4"
    body = inspect(rental.house_code, observed=4).json()
    assert body["grade"] == "orange" and body["scheme"] == "longgang4"
    assert body["next_inspection_due"] == str(TODAY() + dt.timedelta(days=7))
    assert RentalProfile.objects.get(pk=rental.pk).rules_version == r.json()["version"]


def test_inspection_photos_are_kept_and_go_with_the_hazard_event(clients, rental):
    import base64

    from tests.events.conftest import PNG

    r = clients["grid"].post(
        f"/api/v1/rental/{rental.house_code}/inspections",
        {
            "findings": {"illegal_use": True},
            "photos": [base64.b64encode(PNG).decode()],
            "note": "一楼作仓库并住人",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    inspection = rental.inspections.get()
    assert inspection.photos[0]["type"] == "png" and inspection.note == "一楼作仓库并住人"
    [number] = r.json()["inspection"]["events"]
    assert Event.objects.get(number=number).evidence[0]["sha256"] == inspection.photos[0]["sha256"]
    bad = clients["grid"].post(
        f"/api/v1/rental/{rental.house_code}/inspections",
        {"findings": {}, "photos": [base64.b64encode(b"not an image").decode()]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "photos.0"
    assert rental.inspections.count() == 1


def _person(seq: int, district: str, grid: str):
    from civicgrid.accounts import pii
    from civicgrid.registry.models import Person

    from .conftest import id_number

    number = id_number(seq, district, "19700101")
    cipher = pii.cipher()
    Person.objects.create(
        id_hash=cipher.lookup_hash(number),
        id_enc=cipher.encrypt(number),
        id_masked=pii.mask_id_number(number),
        name="欧阳锋",
        phone="13511112222",
        sex="M",
        birth_date=dt.date(1970, 1, 1),
        district_code=district,
        grid_code=grid,
    )
    return number


def test_a_landlord_elsewhere_is_linked_but_not_named(clients, rental):
    """Landlords often live in another district: they are found city-wide, and shown to a
    viewer who cannot see them in the registry by the masked ID number only."""
    from .conftest import GRID, NANSHAN_GRID, id_number

    url = f"/api/v1/rental/{rental.house_code}"

    def put(number: str):
        return clients["grid"].put(
            url, {"landlord_id_number": number}, content_type="application/json"
        )

    elsewhere = put(_person(777, "440305", NANSHAN_GRID))
    assert elsewhere.status_code == 200, elsewhere.content
    assert elsewhere.json()["landlord"]["name"] == ""
    assert elsewhere.json()["landlord"]["id"].startswith("440305")
    assert RentalProfile.objects.get(pk=rental.pk).landlord_person_id is not None
    # a number the registry does not know answers exactly like one kept elsewhere (the form
    # is no oracle of who is registered) and is recorded by the number alone, kept nowhere
    number = id_number(778, "440305", "19700101")
    unknown = put(number)
    assert unknown.status_code == 200, unknown.content
    assert unknown.json()["landlord"] == {
        **elsewhere.json()["landlord"],
        "id": unknown.json()["landlord"]["id"],
    }
    assert unknown.json()["landlord"]["id"] == number[:6] + "********" + number[-4:]
    stub = RentalProfile.objects.get(pk=rental.pk).landlord_person
    assert (stub.name, stub.grid_code, stub.district_code) == ("", "", "")
    # the first home registered for them makes the record whole, kept where they live
    r = clients["grid"].post(
        f"/api/v1/houses/{rental.house_code}/residents",
        {"id_number": number, "name": "黄药师", "relation": "owner"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    stub.refresh_from_db()
    assert (stub.name, stub.grid_code) == ("黄药师", GRID)
    here = put(_person(779, "440306", GRID))
    assert here.status_code == 200, here.content
    assert here.json()["landlord"]["name"] == "欧**"


def test_only_a_city_level_steward_may_replace_the_grading_rules(clients, make_user, api):
    from civicgrid.rental.grading import shipped
    from civicgrid.rental.models import RuleSetVersion

    before = list(RuleSetVersion.objects.values_list("version", "active"))
    district = api(make_user("rba_steward", "steward", "440306"))
    r = district.post(
        "/api/v1/rental/rules", {"config": shipped("longgang")}, content_type="application/json"
    )
    assert r.status_code == 403
    assert list(RuleSetVersion.objects.values_list("version", "active")) == before
    assert clients["grid"].get("/api/v1/rental/rules").json()["scheme"] == "default3"


def test_a_count_beyond_any_house_is_a_field_error_and_changes_nothing(rental, inspect):
    for value in (10**20, 10_001, -1):
        r = inspect(rental.house_code, observed=value)
        assert r.status_code == 422, r.content
        assert r.json()["errors"][0]["field"] == "findings.observed"
    r = inspect(rental.house_code, incidents_12m=2**63)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "findings.incidents_12m"
    rental.refresh_from_db()
    assert rental.observed is None and rental.inspections.count() == 0
    assert inspect(rental.house_code, observed=10_000).status_code == 201
