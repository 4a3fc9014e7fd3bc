"""The incrementally kept rollup equals a full rebuild after any mix of changes, and a refresh
recounts only the events that changed."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from civicgrid.analytics import kpi, rollup
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


def _assert_counts_equal(got: dict, want: dict, what) -> None:
    if what[-1] == "month":  # every month of the period is shown, with or without events
        got = {m: got.get(m, kpi.empty()) for m in want}
    assert set(got) == set(want), what
    for key, w in want.items():
        g = got[key]
        for c in kpi.COUNTS:
            assert g[c] == w[c], (what, key, c)
        assert g["fastest_seconds"] == w["fastest_seconds"], (what, key)
        assert g["working_seconds"] == pytest.approx(w["working_seconds"], rel=1e-9), (what, key)


def _periods() -> list[kpi.Period]:
    """Periods of every length that matters to the pairs of deadline and closed days: a day,
    a few, just under and over ``rollup.SHORT``, and longer, ending at several days."""
    out = []
    for back in (0, 3, 9):
        last = END.date() - dt.timedelta(days=back)
        for days in (1, 2, 4, 9, rollup.SHORT - 1, rollup.SHORT, 45):
            out.append(kpi.Period(last - dt.timedelta(days=days - 1), last))
    return out


def test_the_rollup_equals_the_live_query_over_any_period(history):
    """Over periods short and long, by every grouping, also with deadlines far from the
    closing day (the pairs that can span a whole period) and after an incremental refresh."""
    from civicgrid.analytics import selectors
    from civicgrid.events.models import Event
    from civicgrid.geo.models import Region

    closed = list(Event.objects.filter(closed_at__isnull=False).order_by("id"))
    assert len(closed) > 20

    def stretch(events, days: int) -> None:
        for e in events:  # deadlines long before or after the event closed
            Event.objects.filter(pk=e.pk).update(deadline=e.closed_at + dt.timedelta(days=days))

    stretch(closed[:6], -60)
    stretch(closed[6:12], 50)
    stretch(closed[12:15], 3)
    city = Region.light.get(level="city")
    scope = selectors.Scope(city.code, city.name, city.level, city.path)
    district = Region.light.filter(level="district").order_by("code").first()
    dscope = selectors.Scope(district.code, district.name, district.level, district.path)

    def check(what: str) -> None:
        assert rollup.fresh()
        for p in _periods():
            for s, group in ((scope, ""), (scope, "community"), (scope, "department")):
                want = selectors.counts(s, p, group, live=True)
                _assert_counts_equal(selectors.counts(s, p, group), want, (what, p, group))
            for group in ("street", "month", "category"):
                want = selectors.counts(dscope, p, group, live=True)
                _assert_counts_equal(selectors.counts(dscope, p, group), want, (what, p, group))

    assert rollup.refresh()["mode"] == "full"
    assert Rollup.objects.filter(kind=9).exists() and Rollup.objects.filter(kind=8).exists()
    check("rebuilt")
    stretch(closed[15:18], -40)
    stretch(closed[:3], 2)
    stretch(closed[6:8], -1)
    assert rollup.refresh()["mode"] == "incremental"
    check("incremental")
    got = _rows()
    rollup.refresh(full=True)
    _assert_same(got, _rows())
