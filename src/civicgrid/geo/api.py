"""Regions and locate (DESIGN §11). The governance tree is public reference data, like an
Open311 service list: anyone may read it, so the citizen portal can place a pin."""

from typing import Literal

from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from civicgrid.geo import selectors

router = Router(tags=["regions"])

LevelParam = Literal["city", "district", "street", "community", "grid"]


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None = Field(None, alias="parent_id")
    synthetic: bool


class PathItem(Schema):
    code: str
    name: str
    level: str


class RegionDetail(RegionOut):
    official_name: str
    district_code: str
    area_km2: float | None
    lon: float | None
    lat: float | None
    path: list[PathItem]
    counts: dict[str, int]


class GridRef(Schema):
    code: str
    name: str


class LocateOut(Schema):
    grid: GridRef
    path: list[PathItem]


@router.get("/regions", response=list[RegionOut], summary="区域列表")
@paginate(LimitOffsetPagination)
def list_regions(request, level: LevelParam | None = None, parent: str | None = None):
    if parent:
        selectors.get_region(parent)  # an unknown parent is a 404, not an empty list
    return selectors.regions(level=level, parent=parent)


@router.get("/regions/{code}", response=RegionDetail, summary="区域详情")
def get_region(request, code: str):
    region = selectors.get_region(code)
    region.path_items = [
        {"code": r.code, "name": r.name, "level": r.level}
        for r in reversed(selectors.ancestors(region))
    ]
    return {
        **{
            f: getattr(region, f)
            for f in (
                "code",
                "name",
                "level",
                "parent_id",
                "synthetic",
                "official_name",
                "district_code",
                "area_km2",
                "lon",
                "lat",
            )
        },
        "path": region.path_items,
        "counts": selectors.descendant_counts(region),
    }


@router.get("/regions/{code}/geojson", summary="区域及其下级的边界（GeoJSON）")
def region_geojson(request, code: str, children: bool = True):
    region = selectors.get_region(code)
    from civicgrid.geo.models import Region

    qs = Region.objects.filter(parent=region) if children else Region.objects.filter(pk=code)
    return selectors.geojson_features(qs.order_by("code"))


@router.get("/locate", response=LocateOut, summary="坐标定位到网格")
def locate(request, lon: float, lat: float, crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"):
    found = selectors.locate(lon, lat, crs)
    return {"grid": found.grid, "path": found.path}
