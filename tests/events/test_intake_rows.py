"""The intake's timeline and outbox rows are written without building model instances:
they must be exactly what the models would have written."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from civicgrid.events.models import Outbox, TimelineEntry
from civicgrid.events.services import _record, _row


def test_a_timeline_row_is_what_the_model_would_write():
    values = dict(
        at=timezone.now(),
        actor="热线",
        actor_id=7,
        action="report",
        from_status="",
        to_status="reported",
        note="小区门口垃圾堆积",
        public=True,
    )
    assert json.loads(_row(TimelineEntry, **values)) == json.loads(_record(TimelineEntry(**values)))


def test_an_outbox_row_is_what_the_model_would_write_its_time_the_insert():
    row = json.loads(_row(Outbox, kind="intake"))
    model = json.loads(_record(Outbox(kind="intake")))
    made = [dt.datetime.fromisoformat(r.pop("created_at")) for r in (row, model)]
    assert row == model
    assert abs(made[0] - made[1]) < dt.timedelta(seconds=5)


def test_a_misspelt_field_is_an_error_not_a_default():
    with pytest.raises(TypeError, match="tiltle"):
        _row(TimelineEntry, tiltle="x")
