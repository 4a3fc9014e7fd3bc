"""Changes to the governance tree: loading Shenzhen, replacing polygons. Each is audited and
bumps the geometry version so every process rebuilds its locator."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import shapely
from django.db import transaction

from civicgrid.audit import services as audit
from civicgrid.geo import layout, shenzhen
from civicgrid.geo.models import GeometryVersion, Level, Region

Progress = Callable[[str, int, int], None]  # (step label, done, total)


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())


def geometry_fields(geom) -> dict:
    """Stored form of a polygon: WKB, area in km², a point inside it for labels and tests."""
    point = geom.representative_point()
    return {
        "geometry": shapely.to_wkb(geom),
        "area_km2": layout.area_km2(geom),
        "lon": round(point.x, 7),
        "lat": round(point.y, 7),
    }


def bump_geometry_version() -> None:
    GeometryVersion.objects.update_or_create(pk=1, defaults={"version": uuid.uuid4().hex})


def shenzhen_geometry(
    grids_per_community: int = layout.DEFAULT_GRIDS_PER_COMMUNITY, seed: int = 0
) -> dict:
    """Polygons for every code of Shenzhen's tree: real districts, synthetic below them."""
    districts = layout.load_shenzhen_districts(shenzhen.DATA_DIR / "shenzhen_districts.geojson")
    streets, communities = shenzhen.children(shenzhen.load_tree())
    return layout.build_shenzhen(
        districts, streets, communities, grids_per_community=grids_per_community, seed=seed
    )


@transaction.atomic
def load_shenzhen(
    actor=None,
    *,
    grids_per_community: int = layout.DEFAULT_GRIDS_PER_COMMUNITY,
    seed: int = 0,
    progress: Progress | None = None,
) -> LoadReport:
    """Create every node of Shenzhen's tree that is missing, with synthetic polygons.

    Existing nodes are left untouched (a city may have imported real polygons or renamed
    them), so running it again adds nothing twice.
    """
    report = LoadReport()
    specs = shenzhen.load_tree()
    existing = set(Region.objects.values_list("code", flat=True))
    communities_with_grids = set(
        Region.objects.filter(level=Level.GRID).values_list("parent_id", flat=True).distinct()
    )
    missing = [s for s in specs if s.code not in existing]
    grid_less = [
        s for s in specs if s.level == "community" and s.code not in communities_with_grids
    ]
    if not missing and not grid_less:
        return report

    def step(label: str, done: int, total: int) -> None:
        if progress:
            progress(label, done, total)

    step("生成区域边界", 0, 1)
    geoms = shenzhen_geometry(grids_per_community, seed)
    districts = {c: g for c, g in geoms.items() if len(c) == 6}
    city_geom = shapely.union_all(list(districts.values()))
    step("生成区域边界", 1, 1)

    paths = dict(Region.objects.values_list("code", "path"))
    rows: list[Region] = []
    for s in missing:
        path = s.code if s.parent is None else f"{paths[s.parent]}.{s.code}"
        paths[s.code] = path
        geom = city_geom if s.level == "city" else geoms[s.code]
        rows.append(
            Region(
                code=s.code,
                name=s.name,
                official_name=s.official_name,
                level=s.level,
                parent_id=s.parent,
                path=path,
                district_code=s.district,
                synthetic=s.level in ("street", "community")
                or s.code in (shenzhen.DAPENG_CODE, shenzhen.LONGGANG_CODE),
                **geometry_fields(geom),
            )
        )
        report.created[s.level] = report.created.get(s.level, 0) + 1
    names = {s.code: s.name for s in specs}
    for s in grid_less:
        seq = 1
        while (code := shenzhen.grid_code(s.code, seq)) in geoms:
            rows.append(
                Region(
                    code=code,
                    name=shenzhen.grid_name(names[s.code], seq),
                    level=Level.GRID,
                    parent_id=s.code,
                    path=f"{paths[s.code]}.{code}",
                    district_code=s.district,
                    synthetic=True,
                    **geometry_fields(geoms[code]),
                )
            )
            seq += 1
            report.created["grid"] = report.created.get("grid", 0) + 1
    batch = 1000
    for start in range(0, len(rows), batch):
        Region.objects.bulk_create(rows[start : start + batch])
        step("写入区域", min(start + batch, len(rows)), len(rows))
    bump_geometry_version()
    audit.record(
        "geo.tree.load",
        actor=actor,
        object_type="geo.region",
        object_id=shenzhen.CITY_CODE,
        region_path=shenzhen.CITY_CODE,
        extra={"created": report.created, "grids_per_community": grids_per_community, "seed": seed},
    )
    return report


def name_problem(name: str) -> str:
    """Why a display name cannot be used ("" when it can): names end up in the maps and
    tables of every page, so markup characters are refused along with empty or long ones."""
    limit = Region._meta.get_field("name").max_length
    if not name.strip():
        return "必填"
    if len(name.strip()) > limit:
        return f"不能超过 {limit} 个字"
    if "<" in name or ">" in name:
        return "不能包含 < 或 >"
    return ""


@transaction.atomic
def rename_region(actor, region: Region, name: str) -> Region:
    """Change a node's display name (codes never change)."""
    from civicgrid.core.errors import FieldError, ServiceError

    name = name.strip()
    problem = name_problem(name)
    if problem:
        raise ServiceError(f"名称无效：{problem}", [FieldError("name", problem)])
    before = region.name
    Region.objects.filter(pk=region.pk).update(name=name)
    region.name = name
    audit.record(
        "geo.region.rename", actor=actor, obj=region, before={"name": before}, after={"name": name}
    )
    return region
