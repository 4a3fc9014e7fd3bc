"""How alike two reports are: text (character bigrams, which suit Chinese without a word
segmenter and cost microseconds) and place (great-circle distance)."""

from __future__ import annotations

import math
import re
from collections import Counter

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
EARTH_RADIUS_M = 6_371_008.8


def bigrams(text: str) -> Counter[str]:
    """Characters and character pairs: pairs carry the words, single characters let a
    paraphrase (垃圾堆积很多天 / 垃圾堆了好多天) still count as close."""
    t = _NOISE.sub("", text or "").lower()
    grams = Counter(t)
    grams.update(t[i : i + 2] for i in range(len(t) - 1))
    return grams


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(n * b.get(k, 0) for k, n in a.items())
    if not dot:
        return 0.0
    na = math.sqrt(sum(n * n for n in a.values()))
    nb = math.sqrt(sum(n * n for n in b.values()))
    return dot / (na * nb)


def text_similarity(a: str, b: str) -> float:
    return cosine(bigrams(a), bigrams(b))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def degrees_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding the circle, for an indexed pre-filter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lon + dlon, lat - dlat, lat + dlat
