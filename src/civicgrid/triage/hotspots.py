"""Hot issues (热点问题): many reports about the same problem in the same place within days.

Plain functions, no ORM. Reports are taken in time order; each joins the cluster it is most
like — text likeness × nearness, the duplicate detector's own measure (``duplicates.combine``)
— against the cluster's first report and its latest few, when that likeness reaches ``LIKE``
and the cluster's first report lies within ``RADIUS_M``; otherwise it starts a cluster. Places
are bucketed in cells one radius wide, so a report is compared with nearby clusters only.

Clusters are ranked by heat = size + growth, where growth is the reports of the window's
recent half minus those of its earlier half: a problem that is big and still growing first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from civicgrid.triage import duplicates
from civicgrid.triage.similarity import bigrams, cosine

RADIUS_M = 500.0
LIKE = 0.35
MIN_SIZE = 2
COMPARE_LATEST = 3


@dataclass
class Report:
    key: str
    text: str
    lon: float | None
    lat: float | None
    at: dt.datetime
    category: str | None = None
    grams: Counter = field(default_factory=Counter, repr=False)


@dataclass
class Cluster:
    members: list[Report]
    growth: int = 0
    representative: Report | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def heat(self) -> int:
        return self.size + self.growth


def _cell(lon, lat, radius_m: float) -> tuple[int, int] | None:
    if lon is None or lat is None:
        return None
    deg = radius_m / 111_000
    wide = deg / max(math.cos(math.radians(lat)), 0.2)
    return math.floor(lon / wide), math.floor(lat / deg)


def _likeness(r: Report, other: Report, radius_m: float) -> float:
    place = duplicates.nearness(r.lon, r.lat, other.lon, other.lat, radius_m)
    if place is None:
        return 0.0
    same = r.category is not None and r.category == other.category
    return duplicates.combine(cosine(r.grams, other.grams), place[0], same)


def cluster(
    reports: list[Report],
    now: dt.datetime,
    days: int,
    *,
    radius_m: float = RADIUS_M,
    like: float = LIKE,
    min_size: int = MIN_SIZE,
) -> list[Cluster]:
    """Clusters of at least ``min_size`` reports, hottest first."""
    clusters: list[Cluster] = []
    by_cell: dict[tuple[int, int] | None, list[int]] = {}
    for r in sorted(reports, key=lambda r: r.at):
        if not r.grams:
            r.grams = bigrams(r.text)
        cell = _cell(r.lon, r.lat, radius_m)
        near: list[int] = []
        if cell is None:
            near = by_cell.get(None, [])
        else:
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    near.extend(by_cell.get((cell[0] + dx, cell[1] + dy), []))
        best, best_score = None, like
        for ci in near:
            members = clusters[ci].members
            anchor = members[0]
            s = max(_likeness(r, o, radius_m) for o in [anchor, *members[-COMPARE_LATEST:]])
            if s >= best_score:
                best, best_score = ci, s
        if best is None:
            clusters.append(Cluster([r]))
            by_cell.setdefault(cell, []).append(len(clusters) - 1)
        else:
            clusters[best].members.append(r)
    middle = now - dt.timedelta(days=days) / 2
    out = [c for c in clusters if c.size >= min_size]
    for c in out:
        recent = sum(1 for m in c.members if m.at >= middle)
        c.growth = recent - (c.size - recent)
        c.representative = _medoid(c.members)
    out.sort(key=lambda c: (-c.heat, -c.size, c.members[0].at))
    return out


def _medoid(members: list[Report]) -> Report:
    """The report most like the others: the cluster's own words for its problem."""
    sample = members[:50]
    if len(sample) <= 2:
        return sample[0]
    return max(sample, key=lambda r: sum(cosine(r.grams, o.grams) for o in sample if o is not r))
