"""Point → grid lookup: scalar and batch agree, edges resolve deterministically, bench runs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from civicgrid.bench import locate as bench
from civicgrid.geo import layout
from civicgrid.geo.locator import Locator
from tests.geo.test_layout import L_SHAPE

# A small "street": the layout tests' L-shaped polygon with an island, cut into 40 grids.
STREET = L_SHAPE


@pytest.fixture(scope="module")
def grids() -> tuple[list[str], list[shapely.Geometry]]:
    cells = layout.partition(STREET, 40, seed=11)
    order = layout.order_west_east_north_south(cells)
    return [f"440304001001{k + 1:02d}" for k in range(40)], [cells[i] for i in order]


@pytest.fixture(scope="module")
def locator(grids: tuple[list[str], list[shapely.Geometry]]) -> Locator:
    return Locator(*grids)


def test_representative_points_find_their_grid(locator: Locator, grids: tuple) -> None:
    _, geoms = grids
    reps = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    lons, lats = shapely.get_x(reps), shapely.get_y(reps)
    np.testing.assert_array_equal(locator.locate_many(lons, lats), np.arange(len(geoms)))
    for i in range(len(geoms)):
        assert locator.locate(float(lons[i]), float(lats[i])) == i


def test_outside_points(locator: Locator) -> None:
    assert locator.locate(114.2, 22.55) is None
    assert locator.locate(114.05, 22.58) is None  # in the bay of the L
    idx = locator.locate_many(np.array([114.2, 114.05, 114.01]), np.array([22.55, 22.58, 22.51]))
    assert idx[0] == -1 and idx[1] == -1 and idx[2] >= 0
    codes = locator.codes_many(idx)
    assert codes[0] == "" and codes[1] == ""
    assert codes[2] == locator.code(int(idx[2]))
    with pytest.raises(IndexError):
        locator.code(-1)


def test_batch_equals_scalar(locator: Locator) -> None:
    rng = np.random.default_rng(3)
    lons = rng.uniform(113.99, 114.14, 2000)
    lats = rng.uniform(22.49, 22.61, 2000)
    batch = locator.locate_many(lons, lats)
    scalar = [locator.locate(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    np.testing.assert_array_equal(batch, [-1 if s is None else s for s in scalar])
    assert (batch >= 0).any() and (batch == -1).any()
    # Shapes are preserved for gridded input.
    assert locator.locate_many(lons.reshape(40, 50), lats.reshape(40, 50)).shape == (40, 50)


def test_codes_many(locator: Locator, grids: tuple) -> None:
    codes, _ = grids
    out = locator.codes_many(np.array([0, -1, 39, 5]))
    assert list(out) == [codes[0], "", codes[39], codes[5]]
    assert locator.code(7) == codes[7]
    assert len(locator) == 40


def test_shared_edge_goes_to_lowest_index() -> None:
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    below = box(0, -1, 1, 0)
    for geoms in ([left, right, below], [right, below, left]):
        loc = Locator(["a", "b", "c"], geoms)
        on_edge = (1.0, 0.5)  # left|right
        corner = (1.0, 0.0)  # left, right and below meet
        for point in (on_edge, corner):
            want = min(i for i, g in enumerate(geoms) if g.intersects(shapely.Point(point)))
            assert loc.locate(*point) == want
            assert (
                loc.locate_many(np.array([point[0]] * 3), np.array([point[1]] * 3)).tolist()
                == [want] * 3
            )


def test_overlapping_polygons_lowest_index_in_batch() -> None:
    """Even with genuinely overlapping inputs, every hit resolves to the lowest index."""
    geoms = [box(0, 0, 2, 2), box(1, 1, 3, 3), box(0.5, 0.5, 1.5, 1.5)]
    loc = Locator(["x", "y", "z"], geoms[::-1])  # indices: z=0, y=1, x=2
    lons = np.array([1.2, 2.5, 0.2, 1.7, 5.0])
    lats = np.array([1.2, 2.5, 0.2, 1.7, 5.0])
    assert loc.locate_many(lons, lats).tolist() == [0, 1, 2, 1, -1]
    assert [loc.locate(x, y) for x, y in zip(lons, lats, strict=True)] == [0, 1, 2, 1, None]


def test_empty_inputs(locator: Locator) -> None:
    assert locator.locate_many(np.array([]), np.array([])).shape == (0,)
    assert Locator([], []).locate(114.0, 22.5) is None


def test_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        Locator(["a"], [])


def test_bench_runs_on_small_grid_set(grids: tuple) -> None:
    codes, geoms = grids
    report = bench.run(codes, geoms, points=10_000, seed=1)
    assert set(report) == {
        "name",
        "rate",
        "limit_rate",
        "ratio",
        "unit",
        "points",
        "grids",
        "inside",
    }
    assert report["name"] == "locate" and report["unit"] == "points/s"
    assert report["points"] == 10_000 and report["grids"] == 40
    assert report["rate"] > 0 and report["limit_rate"] > 0 and report["ratio"] > 0
    assert 0 < report["inside"] < 10_000
    total = sum(g.area for g in geoms)
    bbox = shapely.total_bounds(np.asarray(geoms, dtype=object))
    expect = total / ((bbox[2] - bbox[0]) * (bbox[3] - bbox[1]))
    assert report["inside"] / 10_000 == pytest.approx(expect, abs=0.03)
