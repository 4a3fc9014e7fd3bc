"""``civicgrid import regions FILE.geojson``: a city's own polygons replace synthetic ones.

The file is a FeatureCollection; each feature carries ``code`` (and optionally ``name``) and a
Polygon or MultiPolygon in WGS84/CGCS2000. Existing nodes get the new polygon; features with a
new 14-digit grid code under a known community add grids. Synthetic nodes below a replaced
polygon are generated again inside it (keeping their codes). Any problem is reported per
feature and nothing is changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.db import transaction

from civicgrid.audit import services as audit
from civicgrid.geo import layout, shenzhen
from civicgrid.geo.models import Level, Region
from civicgrid.geo.services import bump_geometry_version, geometry_fields

CODE_LEVELS = {6: Level.DISTRICT, 9: Level.STREET, 12: Level.COMMUNITY, 14: Level.GRID}
# A boundary may stray this share of its own area outside its parent (survey noise), no more.
INSIDE_TOLERANCE = 0.005


@dataclass
class Problem:
    feature: int  # 1-based position in the file
    code: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.feature} 个要素（{self.code or '无代码'}）：{self.message}"


@dataclass
class ImportResult:
    updated: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    regenerated: int = 0


class RegionImportError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class _Feature:
    index: int
    code: str
    name: str
    geom: shapely.Geometry


def _ring_problems(coords, where: str) -> list[str]:
    out = []
    for i, ring in enumerate(coords):
        if not isinstance(ring, list) or len(ring) < 4:
            out.append(f"{where}第 {i + 1} 个环少于 4 个点")
        elif ring[0] != ring[-1]:
            out.append(f"{where}第 {i + 1} 个环未闭合（首尾坐标不同）")
    return out


def _parse_geometry(raw) -> tuple[shapely.Geometry | None, list[str]]:
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        return None, ["几何类型须为 Polygon 或 MultiPolygon"]
    coords = raw.get("coordinates")
    if not isinstance(coords, list) or not coords:
        return None, ["缺少坐标"]
    polys = [coords] if raw["type"] == "Polygon" else coords
    problems = []
    for i, poly in enumerate(polys):
        where = f"第 {i + 1} 个多边形" if raw["type"] == "MultiPolygon" else ""
        if not isinstance(poly, list):
            return None, ["坐标结构无效"]
        problems += _ring_problems(poly, where)
    if problems:
        return None, problems
    try:
        geom = shapely.from_geojson(json.dumps(raw))
    except Exception as exc:
        return None, [f"几何无法解析：{exc}"]
    if not geom.is_valid:
        return None, [f"多边形无效：{shapely.is_valid_reason(geom)}"]
    if geom.is_empty or geom.area <= 0:
        return None, ["多边形面积为零"]
    return geom, []


def read_features(path: Path) -> tuple[list[_Feature], list[Problem]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegionImportError([Problem(0, "", f"无法读取 GeoJSON 文件：{exc}")]) from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise RegionImportError([Problem(0, "", "文件须为 GeoJSON FeatureCollection")])
    features, problems, seen = [], [], {}
    for i, feat in enumerate(data["features"], start=1):
        props = (feat or {}).get("properties") or {}
        code = str(props.get("code", "")).strip()
        if not re.fullmatch(r"\d+", code) or len(code) not in CODE_LEVELS:
            problems.append(Problem(i, code, "code 须为 6/9/12/14 位数字（区/街道/社区/网格）"))
            continue
        if code in seen:
            problems.append(Problem(i, code, f"代码与第 {seen[code]} 个要素重复"))
            continue
        seen[code] = i
        geom, geom_problems = _parse_geometry((feat or {}).get("geometry"))
        problems += [Problem(i, code, m) for m in geom_problems]
        if geom is not None:
            features.append(_Feature(i, code, str(props.get("name", "")).strip(), geom))
    return features, problems


def _check_codes(features: list[_Feature], nodes: dict[str, Region]) -> list[Problem]:
    problems = []
    for f in features:
        if len(f.code) == 14:
            community = nodes.get(f.code[:12])
            if community is None or community.level != Level.COMMUNITY:
                problems.append(
                    Problem(f.index, f.code, f"网格代码的前 12 位 {f.code[:12]} 不是已知社区")
                )
            elif f.code[12:] == "00":
                problems.append(Problem(f.index, f.code, "网格序号须为 01–99"))
        elif f.code not in nodes:
            problems.append(
                Problem(f.index, f.code, "区域代码不存在（只能新增网格，不能新增区/街道/社区）")
            )
        elif f.code == shenzhen.CITY_CODE:
            problems.append(Problem(f.index, f.code, "全市边界由各区边界合成，不能直接导入"))
    return problems


def _outside_share(child, parent) -> float:
    return shapely.difference(child, parent).area / child.area


@transaction.atomic
def import_regions(path: Path, actor=None, *, seed: int = 0) -> ImportResult:
    features, problems = read_features(path)
    nodes = {r.code: r for r in Region.objects.all()}
    problems += _check_codes(features, nodes)
    if problems:
        raise RegionImportError(problems)

    result = ImportResult()
    new_geoms: dict[str, shapely.Geometry] = {f.code: f.geom for f in features}

    # polygons as they will be: the file's, else the stored ones
    def geom_of(code: str):
        return new_geoms[code] if code in new_geoms else nodes[code].shape

    def parent_of(code: str) -> str | None:
        return code[:12] if code not in nodes else nodes[code].parent_id

    for f in features:
        parent = parent_of(f.code)
        if parent and parent != shenzhen.CITY_CODE:
            share = _outside_share(f.geom, geom_of(parent))
            if share > INSIDE_TOLERANCE:
                problems.append(
                    Problem(f.index, f.code, f"有 {share:.1%} 的面积超出上级区域 {parent} 的边界")
                )
    if problems:
        raise RegionImportError(problems)

    in_file = set(new_geoms)
    for f in sorted(features, key=lambda f: len(f.code)):
        if f.code in nodes:
            node = nodes[f.code]
            for key, value in geometry_fields(f.geom).items():
                setattr(node, key, value)
            node.synthetic = False
            if f.name:
                node.name = f.name
            node.save()
            result.updated.append(f.code)
        else:
            community = nodes[f.code[:12]]
            seq = int(f.code[12:])
            node = Region.objects.create(
                code=f.code,
                name=f.name or shenzhen.grid_name(community.name, seq),
                level=Level.GRID,
                parent=community,
                path=f"{community.path}.{f.code}",
                district_code=community.district_code,
                synthetic=False,
                **geometry_fields(f.geom),
            )
            nodes[f.code] = node
            result.created.append(f.code)

    # Regenerate synthetic nodes below each replaced polygon, top-down, keeping their codes.
    children: dict[str, list[Region]] = {}
    for node in nodes.values():
        if node.parent_id:
            children.setdefault(node.parent_id, []).append(node)
    queue = sorted((c for c in in_file if c in nodes), key=len)
    done: set[str] = set()
    while queue:
        code = queue.pop(0)
        if code in done:
            continue
        done.add(code)
        kids = sorted(children.get(code, []), key=lambda r: r.code)
        fixed = [k for k in kids if k.code in in_file or not k.synthetic]
        free = [k for k in kids if k not in fixed]
        area = geom_of(code)
        for k in fixed:
            if k.code not in in_file and _outside_share(k.shape, area) > INSIDE_TOLERANCE:
                problems.append(Problem(0, k.code, f"已导入的真实边界超出新的上级区域 {code}"))
        if free:
            if fixed:
                area = shapely.difference(area, shapely.union_all([geom_of(k.code) for k in fixed]))
            try:
                cells = layout.partition(area, len(free), seed=seed)
            except ValueError as exc:
                problems.append(Problem(0, code, f"无法在新边界内重新生成下级区域：{exc}"))
                continue
            order = layout.order_west_east_north_south(cells)
            for k, i in zip(free, order, strict=True):
                new_geoms[k.code] = cells[i]
                for key, value in geometry_fields(cells[i]).items():
                    setattr(k, key, value)
                k.save()
                result.regenerated += 1
                queue.append(k.code)
        queue.extend(k.code for k in fixed if k.code in in_file)
    if problems:
        raise RegionImportError(problems)
    if any(len(c) == 6 for c in in_file):  # the city is the union of its districts
        city = nodes[shenzhen.CITY_CODE]
        districts = [geom_of(r.code) for r in children.get(city.code, [])]
        for key, value in geometry_fields(shapely.union_all(districts)).items():
            setattr(city, key, value)
        city.save()
    bump_geometry_version()
    audit.record(
        "geo.regions.import",
        actor=actor,
        object_type="geo.region",
        object_id=Path(path).name[:64],
        region_path=shenzhen.CITY_CODE,
        extra={
            "updated": result.updated,
            "created": result.created,
            "regenerated": result.regenerated,
        },
    )
    return result
