"""Is a new report the same problem as an open event? (DESIGN §6: text similarity + distance.)

A candidate is an open event of the same or a related category (same parent class) within the
leaf's radius and the time window. Its score is the text similarity, lowered as the distance
approaches the radius. Strong matches are merged automatically; weaker ones are shown to the
dispatcher as suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.triage.similarity import distance_m, text_similarity

STRONG = 0.6
WEAK = 0.3
WINDOW_DAYS = 7


@dataclass(frozen=True)
class Candidate:
    key: object  # the caller's handle (an event number)
    text: str
    lon: float | None
    lat: float | None
    same_category: bool


@dataclass(frozen=True)
class Match:
    key: object
    score: float
    distance_m: float | None


def nearness(lon, lat, lon2, lat2, radius_m: float) -> tuple[float, float | None] | None:
    """(factor, distance) for two places: 1 at the same spot down to 0.7 at the radius; None
    beyond it. Without places to compare, text alone counts a little less (0.9)."""
    if radius_m > 0 and None not in (lon, lat, lon2, lat2):
        dist = distance_m(lon, lat, lon2, lat2)
        if dist > radius_m:
            return None
        return 1.0 - 0.3 * (dist / radius_m), dist
    return 0.9, None


def combine(similarity: float, near: float, same_category: bool) -> float:
    """Text likeness × nearness, a little lower across categories (hot issues use it too)."""
    return similarity * near * (1.0 if same_category else 0.85)


def score(text: str, lon, lat, cand: Candidate, radius_m: float) -> Match | None:
    place = nearness(lon, lat, cand.lon, cand.lat, radius_m)
    if place is None:
        return None
    near, dist = place
    s = combine(text_similarity(text, cand.text), near, cand.same_category)
    return Match(cand.key, round(s, 3), None if dist is None else round(dist, 1))


def rank(
    text: str, lon, lat, candidates: list[Candidate], radius_m: float
) -> tuple[Match | None, list[Match]]:
    """(the strong match to merge into, if any; the weaker suggestions, best first)."""
    matches = [m for c in candidates if (m := score(text, lon, lat, c, radius_m))]
    matches = sorted((m for m in matches if m.score >= WEAK), key=lambda m: -m.score)
    if matches and matches[0].score >= STRONG:
        return matches[0], matches[1:5]
    return None, matches[:5]
