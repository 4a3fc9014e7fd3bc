"""The simulated history: a short stretch of city life, replayed through the hub's services,
looks like the hub's own work (several channels, most closed, every step by the right role,
the side paths present), repeats exactly for a seed and adds nothing when run again."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple

import pytest
from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import User
from civicgrid.events import workflow
from civicgrid.events.models import Event, TimelineEntry
from civicgrid.simulate import history
from civicgrid.simulate.history import HistoryReport, simulate_history

pytestmark = pytest.mark.django_db

END = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DAYS, RATE, SEED = 6, 14, 3  # ~80 events; this seed shows every side path within them
# who may file a report on each channel (hall: the district centre's walk-in desk)
REPORTERS = {
    "hotline": {"operator"},
    "city_mgmt": {"operator"},
    "sensor": {"operator"},
    "upper": {"operator"},
    "open311": {"operator"},
    "web": {"citizen"},
    "miniprogram": {"citizen"},
    "grid": {"grid_worker"},
    "hall": {"dispatcher"},
}
# steps the hub takes by itself (auto-dispatch, merging, supervision, 不满意 → 重办)
SYSTEM_ONLY = {"yellow_card", "red_card", "supporter"}


class _Undo(Exception):
    pass


def _run(**kw) -> HistoryReport:
    return simulate_history(DAYS, seed=SEED, end=END, rate=RATE, **kw)


def _outcome(r: HistoryReport) -> tuple:
    return (*astuple(r)[1:-2], sorted(r.channels.items()))  # all but days, seconds, errors


def test_history_is_realistic_deterministic_and_added_once():
    with pytest.raises(_Undo), transaction.atomic():
        first = _run()
        raise _Undo  # roll the first run back, then replay the same seed
    seen: list[tuple] = []
    report = _run(progress=lambda label, done, total: seen.append((done, total)))
    assert _outcome(report) == _outcome(first)
    assert seen[-1] == (DAYS, DAYS)
    assert report.errors == []
    assert "新增" in report.summary() and "即巡即办" in report.summary()

    events = Event.objects.filter(source_ref__startswith=f"SIM-{SEED}-")
    assert events.count() == report.created >= 60
    assert set(report.channels) >= {"hotline", "grid", "city_mgmt", "web", "miniprogram"}
    assert max(report.channels, key=report.channels.get) == "hotline"
    assert report.closed > report.created * 0.6
    assert report.on_spot > 0 and report.answered > 0
    assert report.reopened >= 1 and report.returned >= 1
    assert report.merged >= 1 and report.yellow >= 1
    assert 0 < report.open < report.created * 0.5  # the last days' work is still under way
    # every event happened in the replayed days, mostly by day
    local = [timezone.localtime(e.created_at) for e in events]
    assert min(local).date() == END.date() - dt.timedelta(days=DAYS - 1)
    assert max(local) <= END
    assert sum(8 <= t.hour < 20 for t in local) > len(local) * 0.7
    assert events.filter(category=None).count() < report.created * 0.1
    reopened = events.filter(reopened_count__gt=0).first()
    actions = list(reopened.timeline.values_list("action", flat=True))
    assert actions[actions.index("reopen") - 1] == "rate"
    assert actions.count("resolve") >= 2  # handled again after 不满意

    _every_step_by_the_right_role(events)

    again = _run()
    assert again.created == 0 and again.skipped == report.created
    assert Event.objects.filter(source_ref__startswith=f"SIM-{SEED}-").count() == report.created


def _every_step_by_the_right_role(events) -> None:
    users = {
        u.pk: u
        for u in User.objects.filter(username__startswith=history.PREFIX).prefetch_related("groups")
    }
    assert users and not any(u.has_usable_password() for u in users.values())
    channel = dict(events.values_list("pk", "channel"))
    steps = TimelineEntry.objects.filter(event__in=events).order_by("at", "pk")
    for step in steps:
        if step.actor_id is None:
            assert step.actor == "system", step
            assert step.action not in ("sign", "resolve", "verify", "close", "rate"), step
            continue
        user = users[step.actor_id]
        roles = set(user.roles)
        if step.action == "report":
            allowed = REPORTERS[channel[step.event_id]]
        elif step.action == "close_on_spot":
            allowed = {"grid_worker"}
        elif step.action == "answer":
            allowed = {"operator", "dispatcher"}
        else:
            assert step.action not in SYSTEM_ONLY, step
            allowed = workflow.ACTIONS[step.action].roles
        assert roles & allowed, (step.action, user.username, roles)
        if step.action in ("sign", "resolve", "return", "contact", "request_extension"):
            assert step.department_id == user.department_id, step  # its own department's task
    # a department's steps happen in working hours (08:30–12:00, 14:00–18:00)
    worked = steps.filter(action__in=["sign", "resolve"], actor_id__isnull=False)
    hours = [timezone.localtime(s.at).time() for s in worked]
    in_hours = [dt.time(8, 30) <= h <= dt.time(18, 0) for h in hours]
    assert sum(in_hours) > len(hours) * 0.8


def test_volume_follows_the_registry_scale_with_a_floor():
    assert history.events_per_day(0.0) == history.MIN_PER_DAY
    assert history.events_per_day(0.002) == round(100_000 * 0.002 * history.HISTORY_SHARE)
    assert history.events_per_day(0.01) > history.events_per_day(0.002)
    assert simulate_history(0).created == 0
