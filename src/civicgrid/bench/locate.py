"""Benchmark: civicgrid's point → grid locator against a bare shapely STRtree query.

The bare ``STRtree.query(points, predicate="within")`` is the floor for any shapely-based
locator; this reports how close ``Locator.locate_many`` + ``codes_many`` (tie-breaking, code
lookup) stays to it. The caller supplies the grid set, so the same numbers can come from the
synthetic Shenzhen layout, a database or a small fixture. ``python -m civicgrid.bench.locate``
runs it on the packaged Shenzhen data.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from civicgrid.geo.layout import (
    DEFAULT_GRIDS_PER_COMMUNITY,
    build_shenzhen,
    load_shenzhen_districts,
    load_shenzhen_tree,
)
from civicgrid.geo.locator import Locator

__all__ = ["run", "shenzhen_grids"]

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
    bare.query(shapely.points(lons[:10], lats[:10]), predicate="within")  # build before timing
    result: dict[str, Any] = {}

    def ours() -> None:
        idx = locator.locate_many(lons, lats)
        result["codes"] = locator.codes_many(idx)
        result["idx"] = idx

    def limit() -> None:
        bare.query(shapely.points(lons, lats), predicate="within")

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


def shenzhen_grids(
    data_dir: str | Path,
    grids_per_community: int = DEFAULT_GRIDS_PER_COMMUNITY,
    seed: int = 0,
) -> tuple[list[str], list[shapely.Geometry]]:
    """The synthetic Shenzhen grid set (codes, polygons) from a directory laid out like
    ``shared/data``: ``boundaries/shenzhen_districts.geojson`` and ``regions/*.csv``."""
    root = Path(data_dir)
    districts = load_shenzhen_districts(root / "boundaries" / "shenzhen_districts.geojson")
    streets, communities = load_shenzhen_tree(
        root / "regions" / "shenzhen_streets.csv", root / "regions" / "shenzhen_communities.csv"
    )
    layout = build_shenzhen(districts, streets, communities, grids_per_community, seed)
    codes = sorted(code for code in layout if len(code) == 14)
    return codes, [layout[c] for c in codes]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="directory with boundaries/ and regions/")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grids-per-community", type=int, default=DEFAULT_GRIDS_PER_COMMUNITY)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    codes, geoms = shenzhen_grids(args.data_dir, args.grids_per_community, args.seed)
    build_s = time.perf_counter() - start
    report = run(codes, geoms, points=args.points, seed=args.seed)
    report["build_seconds"] = build_s
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
