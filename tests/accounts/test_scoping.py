"""Users of neighbouring jurisdictions see nothing of each other (DESIGN §12)."""

from __future__ import annotations

import pytest

from civicgrid.audit import services as audit
from civicgrid.geo.models import Region

pytestmark = pytest.mark.django_db

BAOAN, NANSHAN = "440306", "440305"


@pytest.fixture
def neighbours(make_user):
    return {
        "baoan": make_user("baoan_dispatcher", "dispatcher", BAOAN, "440306-ZZ"),
        "nanshan": make_user("nanshan_dispatcher", "dispatcher", NANSHAN, "440305-ZZ"),
        "baoan_grid": make_user("baoan_grid", "grid_worker", "440306017001"),
        "nanshan_grid": make_user("nanshan_grid", "grid_worker", "440305001001"),
        "city_leader": make_user("city_leader", "leader", "440300"),
        "baoan_auditor": make_user("baoan_auditor", "auditor", BAOAN),
        "nanshan_auditor": make_user("nanshan_auditor", "auditor", NANSHAN),
    }


def _usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {u["username"] for u in response.json()["items"]}


def test_user_lists_stop_at_the_jurisdiction(neighbours, api):
    baoan = _usernames(api(neighbours["baoan"]).get("/api/v1/users"))
    nanshan = _usernames(api(neighbours["nanshan"]).get("/api/v1/users"))
    city = _usernames(api(neighbours["city_leader"]).get("/api/v1/users"))
    assert {"baoan_dispatcher", "baoan_grid"} <= baoan
    assert not baoan & {"nanshan_dispatcher", "nanshan_grid", "city_leader"}
    assert {"nanshan_dispatcher", "nanshan_grid"} <= nanshan
    assert not nanshan & {"baoan_dispatcher", "baoan_grid"}
    assert {"baoan_dispatcher", "nanshan_dispatcher", "city_leader"} <= city


def test_a_neighbours_user_is_not_found_rather_than_forbidden(neighbours, api):
    response = api(neighbours["baoan"]).get("/api/v1/users/nanshan_grid")
    assert response.status_code == 404
    assert response.json() == {"detail": "用户 nanshan_grid 不存在", "errors": []}
    assert api(neighbours["baoan"]).get("/api/v1/users/baoan_grid").status_code == 200


def test_a_grid_worker_may_not_list_users(neighbours, api):
    response = api(neighbours["baoan_grid"]).get("/api/v1/users")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_departments_are_those_of_the_jurisdiction_and_above(neighbours, api):
    client = api(neighbours["baoan"])
    codes = set()
    offset = 0
    while True:
        page = client.get(f"/api/v1/departments?limit=1000&offset={offset}").json()
        codes |= {d["code"] for d in page["items"]}
        offset += 1000
        if offset >= page["count"]:
            break
    assert {"440300-ZJ", "440306-ZJ", "440306-ZZ", "440306017-ZZ", "440306017001-ZZ"} <= codes
    assert not any(c.startswith("440305") for c in codes)
    assert client.get("/api/v1/departments/440305-ZJ").status_code == 404
    assert client.get("/api/v1/departments/440306-ZJ").json()["name"] == "宝安区住房和建设局"


def test_audit_records_are_scoped_by_the_object_region(neighbours, api):
    baoan_node = Region.objects.get(code=BAOAN)
    nanshan_node = Region.objects.get(code=NANSHAN)
    audit.record("test.baoan", actor="t", obj=baoan_node)
    audit.record("test.nanshan", actor="t", obj=nanshan_node)
    seen_baoan = {
        r["action"]
        for r in api(neighbours["baoan_auditor"]).get("/api/v1/audit?limit=1000").json()["items"]
    }
    seen_nanshan = {
        r["action"]
        for r in api(neighbours["nanshan_auditor"]).get("/api/v1/audit?limit=1000").json()["items"]
    }
    assert "test.baoan" in seen_baoan and "test.nanshan" not in seen_baoan
    assert "test.nanshan" in seen_nanshan and "test.baoan" not in seen_nanshan
    # a dispatcher is not an auditor
    assert api(neighbours["baoan"]).get("/api/v1/audit").status_code == 403


def test_dapeng_is_its_own_jurisdiction(make_user, api):
    """大鹏新区's streets carry 440307 codes but sit under 440399: 龙岗 must not see them."""
    longgang = make_user("longgang_leader", "leader", "440307")
    dapeng = make_user("dapeng_leader", "leader", "440399")
    make_user("kuichong_grid", "grid_worker", "440307009001")
    assert "kuichong_grid" in _usernames(api(dapeng).get("/api/v1/users"))
    assert "kuichong_grid" not in _usernames(api(longgang).get("/api/v1/users"))
