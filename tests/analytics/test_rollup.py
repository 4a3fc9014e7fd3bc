"""The incrementally kept rollup equals a full rebuild after any mix of changes, and a refresh
recounts only the events that changed."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from civicgrid.analytics import rollup
from civicgrid.analytics.models import Rollup, RollupDirty

from .conftest import END, RATE

pytestmark = pytest.mark.django_db

_KEYS = ("dim", "district", "street", "community", "dkey", "kind", "d1", "d2")


def _rows() -> dict:
    out = {}
    for r in Rollup.objects.values(*_KEYS, "n", "x1", "x2", "x3", "secs", "minwall", "cnt"):
        out[tuple(r[k] for k in _KEYS)] = r
    return out


def _assert_same(got: dict, want: dict) -> None:
    assert set(got) - set(want) == set() and set(want) - set(got) == set()
    for key, w in want.items():
        g = got[key]
        for c in ("n", "x1", "x2", "x3", "cnt", "minwall"):
            assert g[c] == w[c], (key, c)
        # a sum of working seconds added in another order: equal up to rounding
        assert g["secs"] == pytest.approx(w["secs"], rel=1e-12, abs=1e-6), key


def test_incremental_refresh_equals_a_full_rebuild(history):
    from civicgrid.events.models import Category, Event, Task
    from civicgrid.simulate.history import simulate_history

    first = rollup.refresh()
    assert first["mode"] == "full" and first["rows"] > 0
    assert not RollupDirty.objects.exists()
    assert rollup.refresh()["events"] == 0  # nothing changed, nothing recounted

    rnd = random.Random(11)
    events = list(Event.objects.order_by("id").values_list("id", flat=True))
    cats = list(Category.objects.values_list("pk", flat=True))
    picked = rnd.sample(events, 30)
    # changes by every path a write can take, including ones that bypass updated_at
    for i, pk in enumerate(picked):
        e = Event.objects.get(pk=pk)
        if i % 5 == 0:
            Event.objects.filter(pk=pk).update(rating=rnd.choice(["", "satisfied", "unsatisfied"]))
        elif i % 5 == 1 and e.closed_at is None:
            closed = END - dt.timedelta(hours=rnd.randint(1, 90))
            Event.objects.filter(pk=pk).update(closed_at=closed)
        elif i % 5 == 2:
            e.category_id = rnd.choice(cats)
            e.save(update_fields=["category"])
        elif i % 5 == 3:
            Event.objects.filter(pk=pk).update(
                deadline=END - dt.timedelta(days=rnd.randint(0, 20)), reopened_count=1
            )
        else:
            Task.objects.filter(event_id=pk).delete()
    # and new intake walked through the event hub's services, two days on
    simulate_history(2, seed=23, end=END + dt.timedelta(days=2), rate=RATE)

    step = rollup.refresh()
    assert step["mode"] == "incremental" and step["events"] >= len(picked)
    got = _rows()
    rollup.refresh(full=True)
    _assert_same(got, _rows())
