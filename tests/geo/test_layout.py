"""Synthetic boundaries: exact cover, no overlap, determinism, numbering, the full city."""

from __future__ import annotations

import json
import math
import random
import time

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from civicgrid.geo import layout, shenzhen
from civicgrid.geo.layout import DAPENG_FRACTION, DAPENG_STREET_OFFICES, DEFAULT_GRIDS_PER_COMMUNITY
from civicgrid.geo.shenzhen import DAPENG_CODE, LONGGANG_CODE

GEOJSON = shenzhen.DATA_DIR / "shenzhen_districts.geojson"

# An L-shaped district with an island: ragged enough to produce disconnected clips.
L_SHAPE = MultiPolygon(
    [
        Polygon(
            [
                (114.0, 22.5),
                (114.1, 22.5),
                (114.1, 22.53),
                (114.03, 22.53),
                (114.03, 22.6),
                (114.0, 22.6),
            ]
        ),
        box(114.12, 22.5, 114.13, 22.51),
    ]
)


def assert_tiles(parent: shapely.Geometry, cells: list, rel: float = 1e-9) -> None:
    """Cells cover ``parent`` exactly, lie inside it and do not overlap."""
    arr = np.asarray(cells, dtype=object)
    assert all(isinstance(c, Polygon | MultiPolygon) for c in cells)
    assert shapely.is_valid(arr).all()
    assert (shapely.area(arr) > 0).all()
    union = shapely.union_all(arr)
    assert shapely.symmetric_difference(union, parent).area <= rel * parent.area
    assert abs(shapely.area(arr).sum() - parent.area) <= rel * parent.area  # ⇒ no overlap
    assert shapely.area(shapely.difference(arr, parent)).max() <= rel * parent.area
    tree = shapely.STRtree(arr)
    a, b = tree.query(arr, predicate="intersects")
    pairs = a < b
    if pairs.any():
        overlap = shapely.area(shapely.intersection(arr[a[pairs]], arr[b[pairs]]))
        assert overlap.max() <= rel * parent.area


# ---------------------------------------------------------------------------------- partition


@pytest.mark.parametrize("n", [2, 3, 12, 30])
def test_partition_square_tiles(n: int) -> None:
    square = box(114.0, 22.5, 114.05, 22.55)
    cells = layout.partition(square, n, seed=1)
    assert len(cells) == n
    assert_tiles(square, cells)


def test_partition_ragged_multipolygon_tiles() -> None:
    cells = layout.partition(L_SHAPE, 9, seed=3)
    assert len(cells) == 9
    assert_tiles(L_SHAPE, cells)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(min_value=1, max_value=20), seed=st.integers(min_value=0, max_value=2**32))
def test_partition_property(n: int, seed: int) -> None:
    cells = layout.partition(L_SHAPE, n, seed=seed)
    assert len(cells) == n
    assert_tiles(L_SHAPE, cells)


def test_partition_is_deterministic() -> None:
    first = layout.partition(L_SHAPE, 7, seed=42, weights=[1, 2, 3, 1, 1, 2, 5])
    second = layout.partition(L_SHAPE, 7, seed=42, weights=[1, 2, 3, 1, 1, 2, 5])
    assert [c.wkb for c in first] == [c.wkb for c in second]
    plain = [c.wkb for c in layout.partition(L_SHAPE, 7, seed=42)]
    assert plain == [c.wkb for c in layout.partition(L_SHAPE, 7, seed=42)]
    assert plain != [c.wkb for c in layout.partition(L_SHAPE, 7, seed=43)]


def test_partition_weights_set_areas() -> None:
    square = box(114.0, 22.5, 114.1, 22.6)
    weights = [1.0, 2.0, 3.0, 4.0, 2.0, 8.0]
    cells = layout.partition(square, len(weights), seed=5, weights=weights)
    assert_tiles(square, cells)
    share = np.array([c.area for c in cells]) / square.area
    want = np.array(weights) / sum(weights)
    np.testing.assert_allclose(share, want, rtol=0.15)


def test_partition_edge_cases() -> None:
    square = box(0, 0, 1, 1)
    assert layout.partition(square, 1, seed=0)[0].equals(square)
    with pytest.raises(ValueError):
        layout.partition(square, 0, seed=0)
    with pytest.raises(ValueError):
        layout.partition(square, 2, seed=0, weights=[1.0])
    with pytest.raises(ValueError):
        layout.partition(square, 2, seed=0, weights=[1.0, 0.0])
    with pytest.raises(ValueError):
        layout.partition(Polygon(), 2, seed=0)


# ---------------------------------------------------------------------------------- numbering


def test_order_square_grid_reads_like_text() -> None:
    cells = {(r, c): box(c, -r - 1, c + 1, -r) for r in range(3) for c in range(4)}
    keys = list(cells)
    random.Random(0).shuffle(keys)
    order = layout.order_west_east_north_south([cells[k] for k in keys])
    assert [keys[i] for i in order] == [(r, c) for r in range(3) for c in range(4)]


def test_order_tolerates_jitter() -> None:
    rng = np.random.default_rng(2)
    cells, expected = [], []
    for r in range(4):
        for c in range(5):
            dx, dy = rng.uniform(-0.15, 0.15, 2)
            cells.append(box(c + dx, -r - 1 + dy, c + 1 + dx, -r + dy))
            expected.append(len(expected))
    perm = rng.permutation(len(cells))
    order = layout.order_west_east_north_south([cells[i] for i in perm])
    assert [int(perm[i]) for i in order] == expected


def assert_reading_order(geoms: list) -> None:
    """Never step more than half a row north; the first cell is in the top row."""
    arr = np.asarray(geoms, dtype=object)
    y = shapely.get_y(shapely.point_on_surface(arr))
    h = math.sqrt(float(np.mean(shapely.area(arr))) * math.cos(math.radians(float(y.mean()))))
    for i in range(len(y)):
        assert (y[i + 1 :] <= y[i] + h / 2 + 1e-12).all()


def test_order_property_on_voronoi() -> None:
    cells = layout.partition(box(114.0, 22.5, 114.04, 22.53), 40, seed=9)
    order = layout.order_west_east_north_south(cells)
    assert sorted(order) == list(range(40))
    assert_reading_order([cells[i] for i in order])


# ---------------------------------------------------------------------------------- 大鹏新区


def test_load_districts_and_carve_dapeng() -> None:
    districts = layout.load_shenzhen_districts(GEOJSON)
    assert len(districts) == 10
    assert DAPENG_CODE in districts and LONGGANG_CODE in districts
    rest, dapeng = districts[LONGGANG_CODE], districts[DAPENG_CODE]
    share = layout.area_km2(dapeng) / (layout.area_km2(dapeng) + layout.area_km2(rest))
    assert share == pytest.approx(DAPENG_FRACTION, abs=0.02)
    assert 250 < layout.area_km2(dapeng) < 340  # real: ≈ 295 km² of land
    ax, ay = np.array(DAPENG_STREET_OFFICES).T
    assert shapely.contains_xy(dapeng, ax, ay).all()
    assert not shapely.contains_xy(rest, ax, ay).any()
    # East of the rest of 龙岗, as a peninsula should be.
    assert dapeng.centroid.x > rest.centroid.x + 0.2


def _longgang() -> shapely.Geometry:
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if str(f["properties"]["gb"]).endswith("440307"))
    return shapely.geometry.shape(feature["geometry"])


def test_carve_dapeng_parts_union_is_input() -> None:
    longgang = _longgang()
    rest, dapeng = layout.carve_dapeng(longgang)
    assert rest.is_valid and dapeng.is_valid
    assert_tiles(longgang, [rest, dapeng], rel=1e-12)


def test_carve_dapeng_cuts_a_connected_peninsula() -> None:
    """With 龙岗 in one piece (a better boundary file), a straight cut is searched instead."""
    longgang = _longgang().union(box(114.25, 22.60, 114.36, 22.625))
    assert isinstance(longgang, Polygon)
    rest, dapeng = layout.carve_dapeng(longgang)
    assert_tiles(longgang, [rest, dapeng])
    share = layout.area_km2(dapeng) / layout.area_km2(longgang)
    assert share == pytest.approx(DAPENG_FRACTION, abs=0.01)
    ax, ay = np.array(DAPENG_STREET_OFFICES).T
    assert shapely.contains_xy(dapeng, ax, ay).all()


# ---------------------------------------------------------------------------------- the city


@pytest.fixture(scope="module")
def city() -> dict:
    districts = layout.load_shenzhen_districts(GEOJSON)
    streets, communities = shenzhen.children(shenzhen.load_tree())
    start = time.perf_counter()
    geoms = layout.build_shenzhen(districts, streets, communities)
    return {
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "geoms": geoms,
        "seconds": time.perf_counter() - start,
    }


def test_city_counts(city: dict) -> None:
    geoms, streets, communities = city["geoms"], city["streets"], city["communities"]
    assert len(city["districts"]) == 10
    assert sum(len(v) for v in streets.values()) == 74
    assert sum(len(v) for v in communities.values()) == 783
    assert sorted(streets[DAPENG_CODE]) == ["440307009", "440307010", "440307011"]
    by_len: dict[int, int] = {}
    for code in geoms:
        by_len[len(code)] = by_len.get(len(code), 0) + 1
    assert by_len == {6: 10, 9: 74, 12: 783, 14: 783 * DEFAULT_GRIDS_PER_COMMUNITY}
    assert city["seconds"] < 30


def test_city_grid_codes(city: dict) -> None:
    geoms, communities = city["geoms"], city["communities"]
    grid_codes = {c for c in geoms if len(c) == 14}
    assert all(c.isdigit() for c in grid_codes)
    expected = {
        f"{community}{seq:02d}"
        for members in communities.values()
        for community in members
        for seq in range(1, DEFAULT_GRIDS_PER_COMMUNITY + 1)
    }
    assert grid_codes == expected


def test_city_children_tile_parents(city: dict) -> None:
    geoms, streets, communities = city["geoms"], city["streets"], city["communities"]
    assert shapely.is_valid(np.asarray(list(geoms.values()), dtype=object)).all()
    for district, members in streets.items():
        assert_tiles(geoms[district], [geoms[s] for s in members])
        for street in members:
            assert_tiles(geoms[street], [geoms[c] for c in communities[street]])
    for members in communities.values():
        for community in members:
            grids = [f"{community}{seq:02d}" for seq in range(1, DEFAULT_GRIDS_PER_COMMUNITY + 1)]
            assert_tiles(geoms[community], [geoms[g] for g in grids])


def test_city_street_areas_follow_community_counts(city: dict) -> None:
    geoms, streets, communities = city["geoms"], city["streets"], city["communities"]
    for members in streets.values():
        if len(members) < 2:
            continue
        share = np.array([geoms[s].area for s in members])
        share /= share.sum()
        want = np.array([len(communities[s]) for s in members], dtype=float)
        want /= want.sum()
        np.testing.assert_allclose(share, want, rtol=0.3)


def test_city_grids_numbered_in_reading_order(city: dict) -> None:
    geoms, communities = city["geoms"], city["communities"]
    for members in communities.values():
        for community in members:
            grids = [
                geoms[f"{community}{seq:02d}"] for seq in range(1, DEFAULT_GRIDS_PER_COMMUNITY + 1)
            ]
            assert layout.order_west_east_north_south(grids) == list(range(len(grids)))
            assert_reading_order(grids)


def test_city_is_deterministic(city: dict) -> None:
    """Rebuilding one district's subtree (same seed) reproduces its polygons bit for bit."""
    geoms = city["geoms"]
    code = "440308"  # 盐田: small, quick
    rebuilt = layout.build_shenzhen(
        {code: city["districts"][code]},
        {code: city["streets"][code]},
        {s: city["communities"][s] for s in city["streets"][code]},
    )
    assert set(rebuilt) <= set(geoms)
    assert all(rebuilt[k].wkb == geoms[k].wkb for k in rebuilt)
