"""Benchmark: civicgrid's point → grid locator against a bare shapely STRtree query.

The bare ``STRtree.query(points, predicate=…)`` with the fastest point-in-polygon predicate
("intersects": it also settles points on shared edges) is the floor for any shapely-based
locator; this reports how close ``Locator.locate_many`` + ``codes_many`` (tie-breaking, code
lookup) stays to it. Against a "within" query the ratio would flatter us by about 1.4×.
The caller supplies the grid set, so the same numbers can come from the synthetic Shenzhen
layout (``civicgrid bench locate``), a database or a small fixture.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely

from civicgrid.geo.locator import PREDICATE, Locator

__all__ = ["run"]

_REPEATS = 3


def _best_of(fns: Sequence[Callable[[], Any]], repeats: int) -> list[float]:
    """Best wall time of each function, runs interleaved so drift (heat, neighbours) is shared."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def run(
    grid_codes: Sequence[str],
    grid_geoms: Sequence[shapely.Geometry],
    points: int = 1_000_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Time locating ``points`` uniform random points of the grids' bounding box.

    Returns ``name``, ``rate`` (points/s of Locator.locate_many + codes_many), ``limit_rate``
    (points/s of the bare query), ``ratio`` = rate / limit_rate, ``unit``, ``points``, ``grids``
    and ``inside`` (points that fall in some grid). Both measurements include building the
    shapely points from the coordinate arrays; neither includes building its tree.
    """
    if len(grid_codes) != len(grid_geoms) or not grid_codes:
        raise ValueError("need a non-empty grid set with one code per geometry")
    geoms = np.asarray(list(grid_geoms), dtype=object)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    lons = rng.uniform(minx, maxx, points)
    lats = rng.uniform(miny, maxy, points)

    locator = Locator(grid_codes, geoms)
    bare = shapely.STRtree(geoms)
    bare.query(shapely.points(lons[:10], lats[:10]), predicate=PREDICATE)  # build before timing
    result: dict[str, Any] = {}

    def ours() -> None:
        idx = locator.locate_many(lons, lats)
        result["codes"] = locator.codes_many(idx)
        result["idx"] = idx

    def limit() -> None:
        bare.query(shapely.points(lons, lats), predicate=PREDICATE)

    t_ours, t_limit = _best_of([ours, limit], _REPEATS)
    rate, limit_rate = points / t_ours, points / t_limit
    return {
        "name": "locate",
        "rate": rate,
        "limit_rate": limit_rate,
        "ratio": rate / limit_rate,
        "unit": "points/s",
        "points": points,
        "grids": len(grid_codes),
        "inside": int(np.count_nonzero(result["idx"] >= 0)),
    }
