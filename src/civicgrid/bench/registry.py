"""The benchmarks ``civicgrid bench`` knows. Each takes the scale and returns a dict with at
least name, rate, limit_rate, ratio and unit."""

from __future__ import annotations

from collections.abc import Callable


def _locate(scale: float) -> dict:
    from civicgrid.bench import locate
    from civicgrid.geo.services import shenzhen_geometry

    geoms = shenzhen_geometry()  # the full grid set at default density
    grid_codes = sorted(c for c in geoms if len(c) == 14)
    points = max(1000, int(1_000_000 * scale))
    return locate.run(grid_codes, [geoms[c] for c in grid_codes], points=points)


def _import(scale: float) -> dict:
    from civicgrid.bench import importbench

    return importbench.run(scale)


def _intake(scale: float) -> dict:
    from civicgrid.bench import intake

    return intake.run(scale)


def _regrade(scale: float) -> dict:
    from civicgrid.rental import bench

    return bench.run(scale)


def _classify(scale: float) -> dict:
    from civicgrid.triage import bench

    return bench.run(scale)


def _dashboard(scale: float) -> dict:
    from civicgrid.bench import dashboard

    return dashboard.run(scale)


BENCHMARKS: dict[str, tuple[str, Callable[[float], dict]]] = {
    "classify": ("20,000 appeals (× scale) through the triage model vs. bare sklearn", _classify),
    "dashboard": ("10 M events (× scale): metrics per group_by over 90 days vs DuckDB", _dashboard),
    "import": ("F × Shenzhen generated to CSV and imported, vs. bare COPY/executemany", _import),
    "intake": ("60 s of POST /api/v1/events over HTTP vs. a bare endpoint, same server", _intake),
    "locate": ("1,000,000 random points (× scale) located in the full grid set", _locate),
    "regrade": ("every let house of F × Shenzhen re-graded set-based vs. in memory", _regrade),
}
