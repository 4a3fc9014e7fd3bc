"""Regions and locate over HTTP, including the error shapes clients rely on."""

from __future__ import annotations

import pytest

from civicgrid.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from civicgrid.geo.models import Region

pytestmark = pytest.mark.django_db


def test_districts_listed_with_the_contract_shape(client):
    body = client.get("/api/v1/regions?level=district").json()
    assert body["count"] == 10
    first = body["items"][0]
    assert set(first) == {"code", "name", "level", "parent", "synthetic"}
    assert first == {
        "code": "440303",
        "name": "罗湖区",
        "level": "district",
        "parent": "440300",
        "synthetic": False,
    }


def test_children_of_a_node_and_paging(client):
    body = client.get("/api/v1/regions?parent=440399").json()
    assert [r["code"] for r in body["items"]] == ["440307009", "440307010", "440307011"]
    page = client.get("/api/v1/regions?level=community&limit=50&offset=50").json()
    assert page["count"] == 783 and len(page["items"]) == 50
    too_many = client.get("/api/v1/regions?limit=5000")
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"


def test_region_detail_with_path_and_counts(client):
    body = client.get("/api/v1/regions/440307009").json()
    assert body["name"] == "葵涌街道"
    assert [p["code"] for p in body["path"]] == ["440399", "440300"]
    assert body["counts"]["community"] == Region.objects.filter(parent_id="440307009").count()


def test_unknown_region_is_404(client):
    response = client.get("/api/v1/regions/449999")
    assert response.status_code == 404
    assert response.json() == {"detail": "区域代码 449999 不存在", "errors": []}
    assert client.get("/api/v1/regions?parent=449999").status_code == 404


def test_geojson_of_children(client):
    body = client.get("/api/v1/regions/440303001001/geojson").json()
    assert body["type"] == "FeatureCollection"
    assert all(len(f["properties"]["code"]) == 14 for f in body["features"])
    assert body["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def _inside(code: str) -> tuple[float, float]:
    grid = Region.objects.get(code=code)
    return grid.lon, grid.lat


def test_locate_returns_grid_and_ancestors_city_last(client):
    lon, lat = _inside("44030601700102")
    body = client.get(f"/api/v1/locate?lon={lon}&lat={lat}").json()
    assert body["grid"]["code"] == "44030601700102"
    assert [p["level"] for p in body["path"]] == ["community", "street", "district", "city"]
    assert [p["code"] for p in body["path"]] == ["440306017001", "440306017", "440306", "440300"]


@pytest.mark.parametrize(("crs", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_locate_converts_chinese_map_coordinates(client, crs, convert):
    lon, lat = _inside("44030700900103")
    clon, clat = convert(lon, lat)
    body = client.get(f"/api/v1/locate?lon={clon}&lat={clat}&crs={crs}").json()
    assert body["grid"]["code"] == "44030700900103"
    assert body["path"][2] == {"code": "440399", "name": "大鹏新区", "level": "district"}


def test_locate_rejects_a_non_number_naming_the_field(client):
    response = client.get("/api/v1/locate?lon=abc&lat=22.5")
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "lon", "message": "必须是数字"}]


def test_locate_outside_the_city(client):
    response = client.get("/api/v1/locate?lon=116.39&lat=39.9")  # Beijing
    assert response.status_code == 422
    assert "outside the jurisdiction" in response.json()["detail"]


def test_locate_unknown_crs(client):
    response = client.get("/api/v1/locate?lon=114&lat=22.6&crs=mercator")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "crs"


def test_openapi_document_is_served(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/locate" in doc["paths"] and "/api/v1/regions/{code}" in doc["paths"]
