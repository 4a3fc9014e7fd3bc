"""Training the hub's model from the city's own closed events (issue 6 §3).

The label is the event's final category (a catalogue leaf), the subject its title, the body its
description. The new model replaces the active one only when it scores at least as well on the
same validation rows; otherwise the previous model stays and the report says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from civicgrid.events import workflow
from civicgrid.events.models import Event
from civicgrid.triage import model as m
from civicgrid.triage import suggest


@dataclass
class Outcome:
    model: m.TriageModel
    installed: bool
    path: Path
    previous_score: float | None
    reason: str


def closed_events(days: int | None = None, limit: int = 200_000):
    """(titles, descriptions, final leaf codes) of closed events, newest first."""
    qs = Event.objects.filter(status=workflow.Status.CLOSED, category__isnull=False)
    if days:
        qs = qs.filter(created_at__gte=timezone.now() - dt.timedelta(days=days))
    rows = list(
        qs.order_by("-created_at").values_list("title", "description", "category_id")[:limit]
    )
    titles = [t or "" for t, _, _ in rows]
    bodies = [d or "" for _, d, _ in rows]
    labels = [c for _, _, c in rows]
    return titles, bodies, labels


def train_from_events(
    out: Path | None = None, days: int | None = None, params: m.Params | None = None
) -> Outcome:
    titles, bodies, labels = closed_events(days)
    if not labels:
        raise m.ModelError(
            "没有已结案且有事项分类的事件可供训练（可先运行 civicgrid init --history-days N）"
        )
    path = Path(out) if out else suggest.active_path()
    new = m.train(titles, bodies, labels, params=params, source="events")
    new.meta["kind"] = "catalogue-leaf"
    score = new.meta["scores"]["macro_f1"]
    previous = None
    if path.exists():
        try:
            old = m.load(path)
        except m.ModelError:
            old = None  # an unreadable previous model is no rival
        if old is not None:
            # the old model on the same rows the new one was validated on
            previous = m.evaluate(old, titles, bodies, labels)["macro_f1"]
    if previous is not None and score < previous:
        return Outcome(
            new,
            False,
            path,
            previous,
            f"新模型宏F1 {score:.4f} 低于现有模型 {previous:.4f}，保留现有模型",
        )
    new.save(path)
    suggest.reset()
    return Outcome(new, True, path, previous, f"新模型宏F1 {score:.4f}，已启用：{path}")
