"""The staff registry pages: drill-down and search inside the jurisdiction, masked residents."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.registry.conftest import GRID
from tests.registry.test_api import CLEAR_ID, city, users  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_grid_worker_walks_from_grid_to_residents(city, users):  # noqa: F811
    client = _login("r_grid")
    page = client.get(f"/workbench/registry/?region={GRID}").content.decode()
    assert "宝民花园1栋" in page and "南头城1号" not in page
    page = client.get(f"/workbench/registry/buildings/{city['estate'].code}/").content.decode()
    assert city["baoan_house"].code in page
    page = client.get(f"/workbench/registry/houses/{city['baoan_house'].code}/").content.decode()
    assert "欧***" in page and CLEAR_ID[:6] + "********" + CLEAR_ID[-4:] in page
    assert "欧阳娜娜" not in page and CLEAR_ID not in page and "13912345678" not in page


def test_search_by_name_and_exact_id(city, users):  # noqa: F811
    client = _login("r_disp")
    page = client.get("/workbench/registry/?q=宝民").content.decode()
    assert "宝民花园1栋" in page
    page = client.post("/workbench/registry/", {"id_number": CLEAR_ID}).content.decode()
    assert "欧***" in page and CLEAR_ID not in page


def test_neighbours_and_anonymous_are_kept_out(city, users):  # noqa: F811
    client = _login("r_ns")
    assert client.get(f"/workbench/registry/houses/{city['baoan_house'].code}/").status_code == 404
    assert client.get("/workbench/registry/?region=440306").status_code == 404
    assert (
        "宝民"
        not in client.get("/workbench/registry/?q=宝民").content.decode().split("楼栋搜索结果")[1]
    )
    anonymous = Client().get("/workbench/registry/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_person_seen_through_a_home_here_shows_this_grid_only(city, users):  # noqa: F811
    from civicgrid.registry import services
    from tests.registry.conftest import NANSHAN_GRID, id_number

    nanshan_id = id_number("440305", "19800101", 1)
    services.register_residence(
        users["baoan_grid"], city["baoan_house"], id_number=nanshan_id, name="钱七", relation="租户"
    )
    page = _login("r_disp").post("/workbench/registry/", {"id_number": nanshan_id})
    body = page.content.decode()
    assert "钱*" in body and GRID in body
    assert NANSHAN_GRID not in body and "钱七" not in body
    # the house lists both tenants; only the one whose record 宝安 keeps shows phone and tags
    house = _login("r_disp").get(f"/workbench/registry/houses/{city['baoan_house'].code}/")
    text = house.content.decode()
    assert "钱*" in text and "0755-******78" not in text
    assert "139****5678" in text and "独居老人" in text
