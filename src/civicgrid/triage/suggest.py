"""Category suggestions for reports that come without a category (DESIGN §6 dispatch).

With an active trained model (``civicgrid triage train --from-events`` puts it at
``DATA_DIR/triage/active.joblib``; the ``TRIAGE_MODEL`` setting may point elsewhere) the hub
asks it for the three likeliest catalogue leaves and auto-dispatches only at or above the
threshold stored in the model (chosen on validation data for ≥ 95 % precision). Without one,
or when the model knows none of the live leaves, the catalogue's own words (names and
keywords) suggest, with the fixed threshold ``CONFIDENT``.

Each process loads the model once and reloads it when the file changes (checked at most once a
second, by modification time and size): retraining needs no restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from civicgrid.events.catalogue import Catalogue

CONFIDENT = 0.75  # the keyword suggester's auto-dispatch line
CHECK_EVERY = 1.0  # seconds between looks at the model file
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestions:
    top: list[tuple[str, float]]  # (leaf code, confidence), best first, at most three
    threshold: float  # auto-dispatch at or above this
    source: str  # "model" or "keywords"

    @property
    def best(self) -> tuple[str, float]:
        return self.top[0]

    @property
    def sure(self) -> bool:
        return self.top[0][1] >= self.threshold

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "threshold": self.threshold,
            "top": [{"code": c, "score": s} for c, s in self.top],
        }


def active_path() -> Path:
    from django.conf import settings

    custom = getattr(settings, "TRIAGE_MODEL", None)
    return Path(custom) if custom else Path(settings.DATA_DIR) / "triage" / "active.joblib"


class _Loaded:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.stamp: tuple[float, int] | None = None
        self.model = None
        self.checked = 0.0

    def get(self):
        path = active_path()
        now = time.monotonic()
        if path == self.path and now - self.checked < CHECK_EVERY:
            return self.model
        with self.lock:
            self.checked = now
            try:
                st = path.stat()
                stamp = (st.st_mtime, st.st_size)
            except OSError:
                self.path, self.stamp, self.model = path, None, None
                return None
            if path != self.path or stamp != self.stamp:
                from civicgrid.triage.model import ModelError, load

                try:
                    self.model = load(path)
                except ModelError as exc:
                    log.error("分类模型不可用，改用关键词建议：%s", exc)
                    self.model = None
                self.path, self.stamp = path, stamp
            return self.model

    def reset(self) -> None:
        with self.lock:
            self.path, self.stamp, self.model, self.checked = None, None, None, 0.0


_loaded = _Loaded()


def active_model():
    """The active trained model, or None."""
    return _loaded.get()


def reset() -> None:
    _loaded.reset()


def suggestions(catalogue: Catalogue, title: str, description: str = "") -> Suggestions | None:
    """The likeliest live leaves for a report, or None when nothing fits at all."""
    model = active_model()
    if model is not None:
        live = {c for c, n in catalogue.nodes.items() if n.leaf and n.active}
        if live.intersection(model.labels):
            pred = model.predict([title], [description], top=len(model.labels))[0]
            top = [(c, s) for c, s in pred.top if c in live][:3]
            if top:
                return Suggestions(top, model.threshold, "model")
            return None
    top = _keyword_scores(catalogue, f"{title} {description}")
    return Suggestions(top, CONFIDENT, "keywords") if top else None


def _keyword_scores(catalogue: Catalogue, text: str) -> list[tuple[str, float]]:
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
        return []
    scores.sort(reverse=True)
    out = []
    for i, (s, code) in enumerate(scores[:3]):
        rival = scores[1][0] if i == 0 and len(scores) > 1 else scores[0][0] if i else 0.0
        conf = s / (s + rival) if s >= 4 else s / (s + rival + 4)
        out.append((code, round(conf, 3)))
    return out


def suggest(catalogue: Catalogue, text: str) -> tuple[str, float] | None:
    """The best suggestion alone (the signature the hub used before the trained model)."""
    found = suggestions(catalogue, text)
    return found.best if found else None
