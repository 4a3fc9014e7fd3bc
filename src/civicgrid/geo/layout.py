"""Deterministic synthetic boundaries for the governance tree: district → street → community → grid.

Only district boundaries are public. Street, community and grid boundaries are not, yet the
platform needs polygons at every level to route a geotagged report to its grid, draw maps and
test at city scale. This module invents plausible ones: each parent is cut into compact cells
(centroidal Voronoi / power diagrams over sample points) that cover it exactly and never overlap,
so every point of the city falls in exactly one grid, exactly as with real boundaries. The same
inputs and seed always give the same polygons, so a rebuilt database keeps its grids in place.

Pure domain code: numpy and shapely only. Geometry is lon/lat (WGS84 ≈ CGCS2000); distances for
compactness are measured in a local equirectangular frame so cells are not stretched east-west.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon, shape

from civicgrid.geo.shenzhen import DAPENG_CODE, LONGGANG_CODE

__all__ = [
    "DAPENG_CODE",
    "DAPENG_FRACTION",
    "DAPENG_STREET_OFFICES",
    "DEFAULT_GRIDS_PER_COMMUNITY",
    "LONGGANG_CODE",
    "Geom",
    "area_km2",
    "build_shenzhen",
    "carve_dapeng",
    "load_shenzhen_districts",
    "order_west_east_north_south",
    "partition",
]

Geom = Polygon | MultiPolygon

# 783 communities × 12 = 9,396 base grids city-wide: Shenzhen's order of magnitude (南山 alone
# reports 1,978 base grids over ~100 communities, ~20 each), enough to exercise the locator at
# city scale while a full synthetic build stays within seconds.
DEFAULT_GRIDS_PER_COMMUNITY = 12

# Approximate street-office locations; whatever 大鹏 polygon we carve must contain them.
DAPENG_STREET_OFFICES = ((114.425, 22.633), (114.477, 22.594), (114.535, 22.538))
# Land areas after the split (km²): 大鹏 ≈ 295, the rest of 龙岗 ≈ 388.
DAPENG_FRACTION = 295.0 / (295.0 + 388.0)

_WGS84_A_KM = 6378.137
_WGS84_E2 = 0.00669437999014
_SAMPLES_PER_CELL = 80
_MIN_SAMPLES = 600
_MAX_SAMPLES = 6000
_LLOYD_ITERATIONS = 25
_CAPACITY_SWEEPS = 40
_MOVE_TOLERANCE = 2e-3  # of a typical cell's size: Lloyd has converged for drawing purposes


# --------------------------------------------------------------------------------------------
# small geometry helpers


def _polygonal(geom: shapely.Geometry) -> Geom:
    """Keep only the areal parts of an overlay result (GEOS may add touching lines/points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    nested = [p for p in shapely.get_parts(geom) if isinstance(p, MultiPolygon)]
    for mp in nested:
        parts.extend(shapely.get_parts(mp))
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def _clean(geom: shapely.Geometry) -> Geom:
    geom = _polygonal(geom)
    if not geom.is_valid:
        geom = _polygonal(shapely.make_valid(geom))
    return geom


def area_km2(geom: shapely.Geometry) -> float:
    """Area in km² via a cylindrical equal-area projection fitted to the geometry's latitude.

    Degree² areas are not comparable between latitudes, and district/street statistics are
    quoted in km², so ratios against real figures are taken on this. The sphere's radius is the
    WGS84 ellipsoid's Gaussian radius √(MN) at the geometry's mid-latitude, which is good to
    ~0.01 % over a city (a global mean radius would be 0.25 % off at Shenzhen's latitude).
    """
    if geom.is_empty:
        return 0.0
    _, miny, _, maxy = geom.bounds
    sin2 = math.sin(math.radians((miny + maxy) / 2.0)) ** 2
    w = 1.0 - _WGS84_E2 * sin2
    radius = _WGS84_A_KM * math.sqrt(1.0 - _WGS84_E2) / w  # √(M·N)
    rad = math.pi / 180.0

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty_like(coords)
        out[:, 0] = coords[:, 0] * rad * radius
        out[:, 1] = np.sin(coords[:, 1] * rad) * radius
        return out

    return float(shapely.area(shapely.transform(geom, project)))


@dataclass(frozen=True)
class _Frame:
    """A local equirectangular frame: x = Δlon·cos(lat0), y = Δlat, both in degrees of latitude.

    It is affine, so straight edges stay straight and cells built here map back to lon/lat
    without distortion.
    """

    lon0: float
    lat0: float
    kx: float

    @classmethod
    def around(cls, geom: shapely.Geometry) -> _Frame:
        minx, miny, maxx, maxy = geom.bounds
        lat0 = (miny + maxy) / 2.0
        return cls((minx + maxx) / 2.0, lat0, math.cos(math.radians(lat0)))

    def forward(self, coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty_like(coords)
        out[:, 0] = (coords[:, 0] - self.lon0) * self.kx
        out[:, 1] = coords[:, 1] - self.lat0
        return out

    def backward(self, coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.empty_like(coords)
        out[:, 0] = coords[:, 0] / self.kx + self.lon0
        out[:, 1] = coords[:, 1] + self.lat0
        return out


def _child_seed(seed: int, key: str) -> int:
    """A stable per-node seed (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(f"{seed}/{key}".encode())


# --------------------------------------------------------------------------------------------
# partition


def _sample(poly_m: Geom, count: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """About ``count`` stratified-random points inside ``poly_m`` (metric frame).

    A jittered lattice is far more even than plain uniform sampling for the same number of
    points, so k-means sees the shape rather than sampling noise.
    """
    minx, miny, maxx, maxy = poly_m.bounds
    area = poly_m.area
    shapely.prepare(poly_m)
    step = math.sqrt(area / count)
    for _ in range(8):
        nx = max(1, math.ceil((maxx - minx) / step))
        ny = max(1, math.ceil((maxy - miny) / step))
        gx, gy = np.meshgrid(np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64))
        jitter = rng.random((2, ny, nx))
        x = (minx + (gx + jitter[0]) * step).ravel()
        y = (miny + (gy + jitter[1]) * step).ravel()
        inside = shapely.contains_xy(poly_m, x, y)
        if inside.sum() >= count // 2:
            return np.column_stack([x[inside], y[inside]])
        step /= 2.0  # thin or ragged shape: the lattice missed it, refine
    raise ValueError("could not sample points inside the polygon (degenerate geometry?)")


def _sq_dists(pts: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.float64]:
    """Squared distances minus |p|² (m × n): enough for argmin and for comparing sites.

    The |p|² term is the same for every site, so dropping it changes no assignment and no
    power-diagram margin, and the rest is one small matrix product: this is the hot loop.
    """
    return (centres * centres).sum(axis=1) - 2.0 * (pts @ centres.T)


def _kmeans_pp(pts: NDArray[np.float64], n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """k-means++ seeding: spread-out starting sites, so Lloyd converges fast and well."""
    centres = np.empty((n, 2))
    centres[0] = pts[rng.integers(len(pts))]
    best = ((pts - centres[0]) ** 2).sum(axis=1)
    for k in range(1, n):
        total = best.sum()
        if total <= 0:
            idx = int(rng.integers(len(pts)))
        else:
            idx = int(np.searchsorted(np.cumsum(best), rng.random() * total))
            idx = min(idx, len(pts) - 1)
        centres[k] = pts[idx]
        best = np.minimum(best, ((pts - centres[k]) ** 2).sum(axis=1))
    return centres


def _centroids(
    pts: NDArray[np.float64], labels: NDArray[np.intp], centres: NDArray[np.float64]
) -> NDArray[np.float64]:
    n = len(centres)
    counts = np.bincount(labels, minlength=n).astype(np.float64)
    new = centres.copy()
    has = counts > 0
    new[has, 0] = np.bincount(labels, weights=pts[:, 0], minlength=n)[has] / counts[has]
    new[has, 1] = np.bincount(labels, weights=pts[:, 1], minlength=n)[has] / counts[has]
    if not has.all():
        # An emptied site restarts on the sample point worst served by its current site.
        own = ((pts - new[labels]) ** 2).sum(axis=1)
        for k in np.flatnonzero(~has):
            far = int(np.argmax(own))
            new[k] = pts[far]
            own[far] = -1.0
    return new


def _lloyd(
    pts: NDArray[np.float64], n: int, rng: np.random.Generator, tol: float
) -> NDArray[np.float64]:
    """Plain k-means on uniform samples ≈ a centroidal Voronoi tessellation: compact cells.

    Stops once no site moves more than ``tol``: the last iterations only shuffle a few
    boundary samples, which changes nothing visible.
    """
    centres = _kmeans_pp(pts, n, rng)
    for _ in range(_LLOYD_ITERATIONS):
        labels = np.argmin(_sq_dists(pts, centres), axis=1)
        new = _centroids(pts, labels, centres)
        moved = float(np.abs(new - centres).max())
        centres = new
        if moved < tol:
            break
    return centres


def _targets(weights: Sequence[float], m: int) -> NDArray[np.intp]:
    """Sample counts proportional to the weights (largest remainder), each at least one."""
    w = np.asarray(weights, dtype=np.float64)
    raw = w / w.sum() * (m - len(w))
    t = np.floor(raw).astype(np.intp)
    rest = (m - len(w)) - int(t.sum())
    order = np.argsort(-(raw - t), kind="stable")
    t[order[:rest]] += 1
    return t + 1


def _solve_offsets(
    d2: NDArray[np.float64], targets: NDArray[np.intp], offsets: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Power-diagram offsets b so that cell i (argmin d² − b) holds ``targets[i]`` samples.

    Gauss–Seidel: each b_i in turn is set to admit exactly its quota given the others; a few
    sweeps settle it. Assigning by d² − b keeps cells convex (a power diagram), unlike
    capacity-constrained matching, so the result is still drawable as half-plane cells.
    """
    b = offsets.copy()
    n = d2.shape[1]
    for _ in range(_CAPACITY_SWEEPS):
        for i in range(n):
            e = d2 - b
            e[:, i] = np.inf
            margin = d2[:, i] - e.min(axis=1)  # the point joins i iff margin < b_i
            t = int(targets[i])
            part = np.partition(margin, (t - 1, t))
            b[i] = (part[t - 1] + part[t]) / 2.0
        counts = np.bincount(np.argmin(d2 - b, axis=1), minlength=n)
        if np.array_equal(counts, targets):
            break
    return b - b.mean()


def _capacity_lloyd(
    pts: NDArray[np.float64], weights: Sequence[float], rng: np.random.Generator, tol: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lloyd iterations under area quotas: weighted, still compact (≈ CCVT), as a power diagram."""
    n = len(weights)
    targets = _targets(weights, len(pts))
    centres = _kmeans_pp(pts, n, rng)
    offsets = np.zeros(n)
    for _ in range(_LLOYD_ITERATIONS):
        d2 = _sq_dists(pts, centres)
        offsets = _solve_offsets(d2, targets, offsets)
        labels = np.argmin(d2 - offsets, axis=1)
        new = _centroids(pts, labels, centres)
        moved = float(np.abs(new - centres).max())
        centres = new
        if moved < tol:
            break
    offsets = _solve_offsets(_sq_dists(pts, centres), targets, offsets)
    return centres, offsets


def _voronoi_cells(sites: NDArray[np.float64], box: Polygon) -> NDArray[np.object_]:
    """Voronoi cells of ``sites`` covering ``box``, in site order (GEOS: shared edges exact)."""
    mp = shapely.multipoints(sites)
    try:
        cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=box, ordered=True))
    except TypeError:  # shapely < 2.1 has no ``ordered``: match cells to sites instead
        cells = shapely.get_parts(shapely.voronoi_polygons(mp, extend_to=box))
        tree = shapely.STRtree(cells)
        site_idx, cell_idx = tree.query(shapely.points(sites), predicate="within")
        ordered = np.empty(len(sites), dtype=object)
        ordered[site_idx] = cells[cell_idx]
        cells = ordered
    if len(cells) != len(sites):
        raise ValueError("duplicate partition sites")
    return cells


def _power_cells(
    sites: NDArray[np.float64], offsets: NDArray[np.float64], box: Polygon
) -> NDArray[np.object_]:
    """Power-diagram cells {x : |x−c_i|² − b_i minimal} within ``box``, by half-plane clipping.

    Both sides of each bisector use the same two far endpoints, so neighbours share the edge.
    """
    n = len(sites)
    minx, miny, maxx, maxy = box.bounds
    centre = np.array([(minx + maxx) / 2.0, (miny + maxy) / 2.0])
    diag = math.hypot(maxx - minx, maxy - miny)
    rings = np.empty((n, n, 5, 2))
    sq = (sites**2).sum(axis=1)
    for i in range(n):
        for j in range(i + 1, n):
            a = sites[j] - sites[i]
            norm = float(np.hypot(*a))
            nhat = a / norm
            rhs = (sq[j] - sq[i] - offsets[j] + offsets[i]) / 2.0  # cell i: a·x ≤ rhs
            p0 = nhat * (rhs / norm)
            reach = 2.0 * diag + float(np.hypot(*(p0 - centre)))
            u = np.array([-nhat[1], nhat[0]]) * reach
            p, q = p0 - u, p0 + u
            away = nhat * reach
            rings[i, j] = [p, q, q - away, p - away, p]
            rings[j, i] = [p, q, q + away, p + away, p]
    cells = np.full(n, box, dtype=object)
    others = np.array([[j for j in range(n) if j != i] for i in range(n)])
    halfplanes = shapely.polygons(rings[np.arange(n)[:, None], others])
    for k in range(n - 1):
        cells = shapely.intersection(cells, halfplanes[:, k])
    return cells


def partition(
    polygon: Geom,
    n: int,
    seed: int,
    weights: Sequence[float] | None = None,
) -> list[Geom]:
    """Split ``polygon`` into ``n`` compact cells that cover it exactly without overlapping.

    Sites come from k-means (Lloyd) on stratified samples of the polygon, so cells are compact
    and of similar size; with ``weights`` a quota-constrained Lloyd plus power-diagram offsets
    makes cell *i*'s area roughly proportional to ``weights[i]``. Cells are clipped to the
    polygon, hence every cell lies inside it; a cell may be a MultiPolygon where the parent is
    ragged (islands, bays). Cell *i* corresponds to ``weights[i]``; without weights the order is
    that of the sites, use :func:`order_west_east_north_south` to number them.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if weights is not None:
        if len(weights) != n:
            raise ValueError("need exactly one weight per cell")
        if not all(math.isfinite(w) and w > 0 for w in weights):
            raise ValueError("weights must be positive and finite")
    poly = _clean(polygon)
    if poly.is_empty or poly.area <= 0:
        raise ValueError("cannot partition an empty polygon")
    if n == 1:
        return [poly]

    rng = np.random.default_rng(seed)
    frame = _Frame.around(poly)
    poly_m = shapely.transform(poly, frame.forward)
    count = min(_MAX_SAMPLES, max(_MIN_SAMPLES, _SAMPLES_PER_CELL * n))
    pts = _sample(poly_m, count, rng)
    if len(pts) < n:
        raise ValueError(f"polygon too thin to cut into {n} cells")
    minx, miny, maxx, maxy = poly_m.bounds
    pad = 0.05 * max(maxx - minx, maxy - miny)
    box = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    tol = _MOVE_TOLERANCE * math.sqrt(poly_m.area / n)

    cells: list[Geom] | None = None
    if weights is not None:
        sites, offsets = _capacity_lloyd(pts, weights, rng, tol)
        cells = _clip(_power_cells(sites, offsets, box), frame, poly)
    if cells is None:
        sites = _lloyd(pts, n, rng, tol) if weights is None else sites
        sites = _inside_sites(sites, pts, poly_m)
        cells = _clip(_voronoi_cells(sites, box), frame, poly)
    if cells is None:  # unreachable in practice: every site is strictly inside the polygon
        raise ValueError("partition produced an empty cell")
    return cells


def _inside_sites(
    sites: NDArray[np.float64], pts: NDArray[np.float64], poly_m: Geom
) -> NDArray[np.float64]:
    """Move sites lying outside the polygon (centroid of a C-shaped cluster) onto a sample.

    A Voronoi cell always contains its site, so sites strictly inside the polygon guarantee
    every clipped cell has positive area.
    """
    out = sites.copy()
    inside = shapely.contains_xy(poly_m, out[:, 0], out[:, 1])
    if inside.all():
        return out
    taken = {tuple(s) for s in out[inside]}
    d2 = _sq_dists(pts, out)
    for k in np.flatnonzero(~inside):
        for idx in np.argsort(d2[:, k], kind="stable"):
            cand = tuple(pts[idx])
            if cand not in taken:
                out[k] = pts[idx]
                taken.add(cand)
                break
    return out


def _clip(cells_m: NDArray[np.object_], frame: _Frame, poly: Geom) -> list[Geom] | None:
    """Map cells back to lon/lat and clip to the parent; None if any cell came out empty."""
    cells = shapely.intersection(shapely.transform(cells_m, frame.backward), poly)
    out = [_clean(c) for c in cells]
    floor = poly.area * 1e-12
    if any(c.is_empty or c.area <= floor for c in out):
        return None
    return out


# --------------------------------------------------------------------------------------------
# numbering


def order_west_east_north_south(
    geoms: Sequence[shapely.Geometry], row_height: float | None = None
) -> list[int]:
    """Indices in reading order: rows from north to south, west to east within a row.

    Local standards number grids "from west to east, from north to south within the community".
    Cells are irregular, so rows are formed greedily on representative points: a row starts at
    the northernmost unplaced cell and takes every cell within half a row height below it. The
    row height defaults to the typical cell size, √(mean area) (in degrees of latitude).
    """
    if len(geoms) == 0:
        return []
    arr = np.asarray(list(geoms), dtype=object)
    reps = shapely.point_on_surface(arr)
    x, y = shapely.get_x(reps), shapely.get_y(reps)
    if row_height is None:
        kx = math.cos(math.radians(float(np.mean(y)))) if np.all(np.abs(y) <= 90) else 1.0
        mean_area = float(np.mean(shapely.area(arr))) * kx
        row_height = math.sqrt(mean_area) if mean_area > 0 else 0.0
    by_north = np.lexsort((x, -y))  # north first, then west: stable for ties
    order: list[int] = []
    row: list[int] = []
    top = math.inf
    for idx in by_north:
        if row and y[idx] < top - row_height / 2.0:
            order.extend(sorted(row, key=lambda i: (x[i], -y[i], i)))
            row = []
        if not row:
            top = float(y[idx])
        row.append(int(idx))
    order.extend(sorted(row, key=lambda i: (x[i], -y[i], i)))
    return order


# --------------------------------------------------------------------------------------------
# 大鹏新区


def carve_dapeng(
    longgang: Geom,
    *,
    fraction: float = DAPENG_FRACTION,
    anchors: Sequence[tuple[float, float]] = DAPENG_STREET_OFFICES,
    tolerance: float = 0.05,
) -> tuple[Geom, Geom]:
    """Split 龙岗区 into (龙岗 proper, 大鹏新区); 大鹏 is the eastern peninsula.

    If the peninsula is already a separate part of the MultiPolygon (as in the packaged
    simplified boundaries, where 坪山 and 盐田 lie between it and 龙岗 proper) and its share of
    the area is within ``tolerance`` of the real ratio, the parts are used as they are: a real
    boundary beats any cut. Otherwise a straight cut is searched: over 72 directions, the line
    that leaves ``fraction`` of the area on the anchors' side, keeping the anchors (the three
    street offices) inside, preferring a connected peninsula and then the shortest cut (the
    peninsula's neck). The two results' union is the input.
    """
    geom = _clean(longgang)
    total = area_km2(geom)
    parts = list(shapely.get_parts(geom))
    ax = np.array([a[0] for a in anchors], dtype=np.float64)
    ay = np.array([a[1] for a in anchors], dtype=np.float64)
    holding = [p for p in parts if shapely.contains_xy(p, ax, ay).any()]
    if holding and len(holding) < len(parts):
        piece = _clean(shapely.union_all(holding))
        if (
            shapely.contains_xy(piece, ax, ay).all()
            and abs(area_km2(piece) / total - fraction) <= tolerance
        ):
            rest = [p for p in parts if not any(p is h for h in holding)]
            return _clean(shapely.union_all(rest)), piece
    dapeng = _cut_peninsula(geom, fraction, ax, ay)
    rest = _clean(shapely.difference(geom, dapeng))
    return rest, dapeng


def _cut_peninsula(
    geom: Geom, fraction: float, ax: NDArray[np.float64], ay: NDArray[np.float64]
) -> Geom:
    frame = _Frame.around(geom)
    gm = shapely.transform(geom, frame.forward)
    shapely.prepare(gm)
    coords = shapely.get_coordinates(gm)
    total = gm.area
    minx, miny, maxx, maxy = gm.bounds
    reach = 4.0 * math.hypot(maxx - minx, maxy - miny)
    anchors_m = frame.forward(np.column_stack([ax, ay]))
    best: tuple[tuple[int, float], Geom] | None = None
    for k in range(72):
        theta = 2.0 * math.pi * k / 72.0
        d = np.array([math.cos(theta), math.sin(theta)])
        u = np.array([-d[1], d[0]])
        proj = coords @ d
        lo, hi = float(proj.min()), float(proj.max())

        def side(t: float, d: NDArray[np.float64] = d, u: NDArray[np.float64] = u) -> Polygon:
            base = d * t
            p, q = base - u * reach, base + u * reach
            return Polygon([p, q, q + d * reach, p + d * reach])

        for _ in range(40):  # area beyond the line falls as t grows: bisect for the quota
            mid = (lo + hi) / 2.0
            if shapely.intersection(gm, side(mid)).area / total > fraction:
                lo = mid
            else:
                hi = mid
        t = (lo + hi) / 2.0
        if float((anchors_m @ d).min()) <= t:
            continue
        piece = _polygonal(shapely.intersection(gm, side(t)))
        if piece.is_empty or not shapely.contains_xy(piece, anchors_m[:, 0], anchors_m[:, 1]).all():
            continue
        base = d * t
        cut = shapely.intersection(gm, shapely.linestrings([base - u * reach, base + u * reach]))
        score = (len(shapely.get_parts(piece)), float(cut.length))
        if best is None or score < best[0]:
            best = (score, side(t))
    if best is None:
        raise ValueError("no straight cut keeps the 大鹏 street offices on the peninsula")
    halfplane = shapely.transform(best[1], frame.backward)
    return _clean(shapely.intersection(geom, halfplane))


# --------------------------------------------------------------------------------------------
# Shenzhen


def load_shenzhen_districts(geojson_path: str | PathLike[str]) -> dict[str, Geom]:
    """The 9 statistical districts from GeoJSON, with 大鹏新区 carved out of 龙岗: 10 entries.

    Features carry ``gb`` codes like ``156440306`` (country prefix 156 + the 6-digit code).
    """
    with open(geojson_path, encoding="utf-8") as fh:
        data = json.load(fh)
    out: dict[str, Geom] = {}
    for feature in data["features"]:
        code = str(feature["properties"]["gb"])[-6:]
        out[code] = _clean(shape(feature["geometry"]))
    if LONGGANG_CODE not in out:
        raise ValueError("the boundary file has no 龙岗区 (440307) to carve 大鹏新区 from")
    out[LONGGANG_CODE], out[DAPENG_CODE] = carve_dapeng(out[LONGGANG_CODE])
    return dict(sorted(out.items()))


def build_shenzhen(
    districts: Mapping[str, Geom],
    streets: Mapping[str, Sequence[str]],
    communities: Mapping[str, Sequence[str]],
    grids_per_community: int = DEFAULT_GRIDS_PER_COMMUNITY,
    seed: int = 0,
) -> dict[str, Geom]:
    """Geometry for every district, street, community and grid code of the city.

    Streets get areas proportional to their number of communities (a proxy for population);
    communities are similar-sized cells of their street; each community is cut into
    ``grids_per_community`` grids coded community code + ``01``…, numbered west→east,
    north→south. Communities are likewise assigned to cells in code order by the same reading
    order, so neighbouring codes sit near each other. Each node's seed derives from ``seed`` and
    its code, so one node's layout does not depend on the others.
    """
    if not 1 <= grids_per_community <= 99:
        raise ValueError("grid sequence numbers are two digits: 1..99 grids per community")
    out: dict[str, Geom] = {}
    for district in sorted(districts):
        geom = _clean(districts[district])
        out[district] = geom
        street_codes = sorted(streets.get(district, ()))
        if not street_codes:
            continue
        weights = [float(max(1, len(communities.get(s, ())))) for s in street_codes]
        cells = partition(geom, len(street_codes), _child_seed(seed, district), weights)
        for street, cell in zip(street_codes, cells, strict=True):
            out[street] = cell
            _fill_street(out, street, cell, communities, grids_per_community, seed)
    return out


def _fill_street(
    out: dict[str, Geom],
    street: str,
    geom: Geom,
    communities: Mapping[str, Sequence[str]],
    grids_per_community: int,
    seed: int,
) -> None:
    codes = sorted(communities.get(street, ()))
    if not codes:
        return
    cells = partition(geom, len(codes), _child_seed(seed, street))
    order = order_west_east_north_south(cells)
    for code, idx in zip(codes, order, strict=True):
        community = cells[idx]
        out[code] = community
        grids = partition(community, grids_per_community, _child_seed(seed, code))
        for seq, g in enumerate(order_west_east_north_south(grids), start=1):
            out[f"{code}{seq:02d}"] = grids[g]
