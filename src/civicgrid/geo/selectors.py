"""Reads of the governance tree and ``locate``: which grid (and which community, street,
district) a point lies in, served from an in-memory STRtree that each process keeps."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Q, QuerySet

from civicgrid.core.errors import FieldError, NotFound, ServiceError
from civicgrid.geo.coords import to_wgs84
from civicgrid.geo.locator import Locator
from civicgrid.geo.models import GeometryVersion, Level, Region

OUTSIDE = "该位置不在本市辖区内（outside the jurisdiction）"


def regions(*, level: str | None = None, parent: str | None = None) -> QuerySet:
    qs = Region.objects.defer("geometry")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent_id=parent)
    return qs.order_by("code")


def get_region(code: str, *, with_geometry: bool = False) -> Region:
    qs = Region.objects.all() if with_geometry else Region.objects.defer("geometry")
    region = qs.filter(code=code).first()
    if region is None:
        raise NotFound(f"区域代码 {code} 不存在")
    return region


def subtree_q(region: Region, prefix: str = "") -> Q:
    return Q(**{f"{prefix}path__startswith": region.path + "."})


def ancestors(region: Region) -> list[Region]:
    """The nodes above ``region``, city first."""
    codes = region.ancestor_codes
    found = {r.code: r for r in Region.objects.defer("geometry").filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


def descendant_counts(region: Region) -> dict[str, int]:
    rows = Region.objects.filter(subtree_q(region)).values("level").annotate(n=Count("code"))
    return {r["level"]: r["n"] for r in rows}


def children_with_counts(region: Region) -> list[dict]:
    """Each child with the number of nodes of every level below it, in a single query."""
    children = list(Region.objects.defer("geometry").filter(parent=region).order_by("code"))
    counts: dict[str, dict[str, int]] = {c.code: {} for c in children}
    depth = len(region.path.split("."))
    rows = (
        Region.objects.filter(subtree_q(region)).exclude(parent=region).values_list("path", "level")
    )
    for path, level in rows.iterator(5000):
        child = path.split(".")[depth]
        if child in counts:
            counts[child][level] = counts[child].get(level, 0) + 1
    return [{"region": c, "counts": counts[c.code]} for c in children]


def region_geojson(region: Region, *, children: bool = True) -> dict:
    """The node's children (or the node itself) as GeoJSON, for maps."""
    qs = Region.objects.filter(parent=region) if children else Region.objects.filter(pk=region.pk)
    return geojson_features(qs.order_by("code"))


def geojson_features(qs: QuerySet) -> dict:
    """A FeatureCollection of regions with their polygons, for maps."""
    rows = list(qs.values_list("code", "name", "level", "synthetic", "geometry"))
    geoms = shapely.from_wkb([bytes(r[4]) if r[4] else None for r in rows])
    texts = shapely.to_geojson(geoms) if rows else []
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": r[0], "name": r[1], "level": r[2], "synthetic": r[3]},
                "geometry": json.loads(t) if t else None,
            }
            for r, t in zip(rows, texts, strict=True)
        ],
    }


# --- locate -------------------------------------------------------------------------------
@dataclass
class _Index:
    version: str
    locator: Locator
    # code -> (name, level, parent code), for every node: answers need no database trip
    nodes: dict[str, tuple[str, str, str | None]]


_lock = threading.Lock()
_index: _Index | None = None
_checked_at = 0.0
VERSION_CHECK_SECONDS = 2.0


def _current_version() -> str:
    return GeometryVersion.objects.filter(pk=1).values_list("version", flat=True).first() or ""


def _build(version: str) -> _Index:
    grids = list(
        Region.objects.filter(level=Level.GRID)
        .exclude(geometry=None)
        .order_by("code")
        .values_list("code", "geometry")
    )
    locator = Locator([g[0] for g in grids], shapely.from_wkb([bytes(g[1]) for g in grids]))
    nodes = {
        c: (n, lv, p)
        for c, n, lv, p in Region.objects.values_list("code", "name", "level", "parent_id")
    }
    return _Index(version, locator, nodes)


def index() -> _Index:
    """The process's locator, rebuilt when polygons changed (checked every few seconds)."""
    global _index, _checked_at
    now = time.monotonic()
    if _index is not None and now - _checked_at < VERSION_CHECK_SECONDS:
        return _index
    with _lock:
        version = _current_version()
        if _index is None or _index.version != version:
            _index = _build(version)
        _checked_at = time.monotonic()
        return _index


def reset_index() -> None:
    global _index
    with _lock:
        _index = None


@dataclass
class Located:
    grid: dict
    path: list[dict]


def locate(lon: float, lat: float, crs: str = "wgs84") -> Located:
    """The grid containing the point and the nodes above it (community first, city last)."""
    try:
        wlon, wlat = to_wgs84(lon, lat, crs)
    except ValueError:
        raise ServiceError(
            "输入有误", [FieldError("crs", "坐标系须为 wgs84、gcj02 或 bd09")]
        ) from None
    idx = index()
    i = idx.locator.locate(float(wlon), float(wlat))
    if i is None:
        raise ServiceError(OUTSIDE, [FieldError("lon", OUTSIDE)], status=422)
    code = idx.locator.code(i)
    name, _, parent = idx.nodes[code]
    path = []
    while parent is not None:
        pname, plevel, pparent = idx.nodes[parent]
        path.append({"code": parent, "name": pname, "level": plevel})
        parent = pparent
    return Located(grid={"code": code, "name": name}, path=path)


def locate_many(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Grid codes for many WGS84 points at once ("" where outside the city)."""
    loc = index().locator
    return loc.codes_many(loc.locate_many(np.asarray(lons, float), np.asarray(lats, float)))
