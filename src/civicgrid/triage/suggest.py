"""A first category suggestion from the catalogue's own words (names and keywords), used when
a reporter gives no category. The trained classifier of the triage issue replaces it behind
the same signature: ``suggest(catalogue, text) -> (code, confidence) | None``."""

from __future__ import annotations

from civicgrid.events.catalogue import Catalogue

CONFIDENT = 0.75  # auto-dispatch at or above this; below, the event waits for a dispatcher


def suggest(catalogue: Catalogue, text: str) -> tuple[str, float] | None:
    scores: list[tuple[float, str]] = []
    for code, node in catalogue.nodes.items():
        if not node.leaf or not node.active:
            continue
        s = sum(len(k) for k in node.keywords if k and k in text)
        if node.name and node.name in text:
            s += 2 * len(node.name)
        if s:
            scores.append((s, code))
    if not scores:
        return None
    scores.sort(reverse=True)
    best, code = scores[0]
    second = scores[1][0] if len(scores) > 1 else 0.0
    confidence = best / (best + second) if best >= 4 else best / (best + second + 4)
    return code, round(confidence, 3)
