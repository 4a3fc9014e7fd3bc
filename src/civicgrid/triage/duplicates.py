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


def score(text: str, lon, lat, cand: Candidate, radius_m: float) -> Match | None:
    dist = None
    if radius_m > 0 and None not in (lon, lat, cand.lon, cand.lat):
        dist = distance_m(lon, lat, cand.lon, cand.lat)
        if dist > radius_m:
            return None
        nearness = 1.0 - 0.3 * (dist / radius_m)
    else:
        nearness = 0.9  # no place to compare: text alone, a little less sure
    s = text_similarity(text, cand.text) * nearness
    if not cand.same_category:
        s *= 0.85
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
