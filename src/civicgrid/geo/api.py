"""Regions and locate (DESIGN §11). The governance tree is public reference data, like an
Open311 service list: anyone may read it, so the citizen portal can place a pin."""

from typing import Literal

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from civicgrid.core.paging import Paged
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

    @staticmethod
    def resolve_path(obj) -> list[dict]:
        """The nodes above, parent first and city last (as in locate)."""
        return [
            {"code": r.code, "name": r.name, "level": r.level}
            for r in reversed(selectors.ancestors(obj))
        ]

    @staticmethod
    def resolve_counts(obj) -> dict[str, int]:
        return selectors.descendant_counts(obj)


class GridRef(Schema):
    code: str
    name: str


class LocateOut(Schema):
    grid: GridRef
    path: list[PathItem]


@router.get("/regions", response=list[RegionOut], summary="区域列表")
@paginate(Paged)
def list_regions(request, level: LevelParam | None = None, parent: str | None = None):
    if parent:
        selectors.get_region(parent)  # an unknown parent is a 404, not an empty list
    return selectors.regions(level=level, parent=parent)


@router.get("/regions/{code}", response=RegionDetail, summary="区域详情")
def get_region(request, code: str):
    return selectors.get_region(code)


@router.get("/regions/{code}/geojson", summary="区域及其下级的边界（GeoJSON）")
def region_geojson(request, code: str, children: bool = True):
    return selectors.region_geojson(selectors.get_region(code), children=children)


@router.get("/locate", response=LocateOut, summary="坐标定位到网格")
def locate(request, lon: float, lat: float, crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"):
    found = selectors.locate(lon, lat, crs)
    return {"grid": found.grid, "path": found.path}
