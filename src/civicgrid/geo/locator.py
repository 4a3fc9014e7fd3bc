"""Point → grid lookup: every geotagged report, patrol fix and sensor reading is filed under one.

A city-scale import replays millions of points, so the batch path is a single vectorised
``STRtree.query`` plus numpy bookkeeping. Points on a shared edge touch several grids; the
lowest index wins, so the answer never depends on the tree's traversal order. Inputs are WGS84
lon/lat (convert with :mod:`civicgrid.geo.coords` first).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

__all__ = ["PREDICATE", "Locator"]

# "intersects" rather than "within": a point exactly on a grid edge belongs to a grid (the
# lower-indexed one) instead of falling between two; the cost is the same.
PREDICATE = "intersects"


class Locator:
    """Find the grid containing a point among ``geoms`` (polygons, index-aligned with ``codes``)."""

    def __init__(self, codes: Sequence[str], geoms: Sequence[shapely.Geometry]) -> None:
        if len(codes) != len(geoms):
            raise ValueError("codes and geoms must have the same length")
        self._codes = list(codes)
        self._geoms = np.asarray(list(geoms), dtype=object)
        self.tree = shapely.STRtree(self._geoms)
        # One spare "" at the end: index -1 (outside) then maps to "" with no masking at all.
        self._code_table = np.array([*self._codes, ""], dtype=object)
        if len(self._geoms):
            self.tree.query(shapely.points(0.0, 0.0))  # build the tree now, not on first use

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> list[str]:
        return list(self._codes)

    def locate(self, lon: float, lat: float) -> int | None:
        """Index of the grid containing the point, or None if it is outside every grid."""
        hits = self.tree.query(shapely.points(lon, lat), predicate=PREDICATE)
        return int(hits.min()) if hits.size else None

    def locate_many(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.intp]:
        """Vectorised :meth:`locate`: an int array, -1 for points outside every grid."""
        pts = np.asarray(shapely.points(lons, lats))
        src, hit = self.tree.query(pts.ravel(), predicate=PREDICATE)
        out = np.full(pts.size, -1, dtype=np.intp)
        if src.size:
            if src.size > 1 and not bool(np.all(src[1:] >= src[:-1])):
                order = np.lexsort((hit, src))  # GEOS groups by input; never rely on it blindly
                src, hit = src[order], hit[order]
            starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
            if starts.size == src.size:  # the usual case: no point on a shared edge
                out[src] = hit
            else:
                out[src[starts]] = np.minimum.reduceat(hit, starts)
        return out.reshape(pts.shape)

    def code(self, i: int) -> str:
        """The code of grid ``i`` (as returned by :meth:`locate`)."""
        if i < 0:
            raise IndexError("no grid: the point is outside every grid")
        return self._codes[i]

    def codes_many(self, idx: ArrayLike) -> NDArray[np.object_]:
        """Codes for an index array from :meth:`locate_many`; ``""`` where the index is -1."""
        return self._code_table[np.asarray(idx, dtype=np.intp)]
