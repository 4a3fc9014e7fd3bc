"""`civicgrid import regions FILE.geojson`: a city's own polygons, validated, all or nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import shapely
from django.core.management import call_command

from civicgrid.geo import selectors
from civicgrid.geo.importers import RegionImportError, import_regions
from civicgrid.geo.models import Region

pytestmark = pytest.mark.django_db

COMMUNITY = "440306017001"  # 宝民社区, 新安街道, 宝安区


def _feature(code: str, geom, name: str | None = None) -> dict:
    props = {"code": code} | ({"name": name} if name else {})
    return {
        "type": "Feature",
        "properties": props,
        "geometry": json.loads(shapely.to_geojson(geom)),
    }


def _write(tmp_path, features) -> str:
    path = tmp_path / "regions.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return str(path)


def _snapshot() -> dict:
    return {
        r.code: (r.name, bytes(r.geometry), r.synthetic)
        for r in Region.objects.filter(path__startswith="440300.440306.440306017")
    }


def test_a_real_community_polygon_replaces_the_synthetic_one_and_regrids_inside(tmp_path):
    community = Region.objects.get(code=COMMUNITY)
    real = community.shape.buffer(-0.0003)  # a slightly different, real boundary
    grids_before = sorted(community.children.values_list("code", flat=True))
    result = import_regions(_write(tmp_path, [_feature(COMMUNITY, real)]), "test")
    community = Region.objects.get(code=COMMUNITY)
    assert result.updated == [COMMUNITY] and not community.synthetic
    assert shapely.equals_exact(community.shape, real, tolerance=1e-9)
    grids = list(community.children.all())
    assert sorted(g.code for g in grids) == grids_before  # codes never change
    assert result.regenerated == len(grids)
    for g in grids:
        assert g.synthetic
        assert shapely.difference(g.shape, real).area < g.shape.area * 1e-6
    assert abs(shapely.union_all([g.shape for g in grids]).area - real.area) < real.area * 1e-6


def test_grids_can_be_added_and_locate_finds_them(tmp_path, client):
    community = Region.objects.get(code=COMMUNITY)
    left, right = community.shape.bounds[0], community.shape.bounds[2]
    mid = (left + right) / 2
    west = shapely.intersection(community.shape, shapely.box(left, -90, mid, 90))
    east = shapely.difference(community.shape, west)
    features = [
        _feature(COMMUNITY + "51", west, "宝民社区西片网格"),
        _feature(COMMUNITY + "52", east),
    ]
    result = import_regions(_write(tmp_path, features), "test")
    assert result.created == [COMMUNITY + "51", COMMUNITY + "52"]
    assert Region.objects.get(code=COMMUNITY + "52").name == "宝民社区第52网格"
    point = west.representative_point()
    body = client.get(f"/api/v1/locate?lon={point.x}&lat={point.y}").json()
    # the new grid overlaps old synthetic grids; the lowest code wins, so check it is found
    codes = selectors.locate_many([point.x], [point.y])
    assert body["grid"]["code"] == codes[0]
    assert body["path"][0]["code"] == COMMUNITY


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f["geometry"]["coordinates"][0].pop(), "未闭合"),
        (lambda f: f["properties"].update(code="44030601700"), "6/9/12/14 位数字"),
        (lambda f: f["properties"].update(code="440306999001"), "区域代码不存在"),
        (lambda f: f["properties"].update(code="44030699900101"), "不是已知社区"),
        (lambda f: f.update(geometry={"type": "Point", "coordinates": [114, 22.6]}), "Polygon"),
        (
            lambda f: f["geometry"].update(
                coordinates=[
                    [[114.0, 22.6], [114.1, 22.7], [114.1, 22.6], [114.0, 22.7], [114.0, 22.6]]
                ]
            ),
            "无效",
        ),
    ],
)
def test_a_broken_feature_is_named_and_nothing_changes(tmp_path, mutate, expected):
    good = _feature(COMMUNITY, Region.objects.get(code=COMMUNITY).shape.buffer(-0.0002))
    bad = _feature("440306017002", Region.objects.get(code="440306017002").shape)
    mutate(bad)
    before = _snapshot()
    with pytest.raises(RegionImportError) as exc:
        import_regions(_write(tmp_path, [good, bad]), "test")
    assert [p.feature for p in exc.value.problems] == [2]
    assert expected in str(exc.value)
    assert _snapshot() == before


def test_a_grid_outside_its_community_is_refused(tmp_path):
    elsewhere = Region.objects.get(code="440305001001").shape  # 南山
    before = _snapshot()
    with pytest.raises(RegionImportError, match="超出上级区域 440306017001"):
        import_regions(_write(tmp_path, [_feature(COMMUNITY + "60", elsewhere)]), "test")
    assert _snapshot() == before
    assert not Region.objects.filter(code=COMMUNITY + "60").exists()


def test_duplicate_codes_and_non_geojson(tmp_path):
    shape = Region.objects.get(code=COMMUNITY).shape
    with pytest.raises(RegionImportError, match="重复"):
        import_regions(_write(tmp_path, [_feature(COMMUNITY, shape)] * 2), "test")
    path = tmp_path / "x.geojson"
    path.write_text("not json")
    with pytest.raises(RegionImportError, match="无法读取"):
        import_regions(str(path), "test")


def test_cli_reports_problems_and_exits_1(tmp_path):
    path = _write(tmp_path, [_feature("44030699900101", shapely.box(114, 22.6, 114.01, 22.61))])
    # the command runs against the same (test) database through call_command
    with pytest.raises(SystemExit) as exc:
        call_command("import", "regions", path)
    assert exc.value.code == 1


def test_console_script_answers():
    out = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "help", "import"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "regions" in out.stdout
