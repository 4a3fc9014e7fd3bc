"""The event hub with a trained model: suggestions, the auto-dispatch line, reloading, and
training from the city's own closed events."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from civicgrid.triage import suggest


def _detail(clients, number):
    return clients["dispatcher"].get(f"/api/v1/events/{number}").json()


def test_above_the_models_line_the_event_is_dispatched(report, hub_model, clients):
    hub_model(0.0)
    body = report(description="楼顶有人加建铁皮房").json()
    assert body["status"] == "dispatched" and body["category"]["code"] == "9802"
    detail = _detail(clients, body["number"])
    assert detail["auto_threshold"] == 0.0
    assert detail["suggestions"][0]["code"] == "9802"
    assert detail["suggestions"][0]["name"] == "违法搭建"


def test_below_the_line_it_waits_in_triage_with_the_top_three(report, hub_model, clients):
    hub_model(1.01)
    body = report(description="楼顶有人加建铁皮房").json()
    assert body["status"] == "reported" and body["category"] is None
    detail = _detail(clients, body["number"])
    codes = [s["code"] for s in detail["suggestions"]]
    assert len(codes) == 3 and codes[0] == "9802" and len(set(codes)) == 3
    scores = [s["score"] for s in detail["suggestions"]]
    assert scores == sorted(scores, reverse=True) and scores[0] < 1.01
    # a citizen's view of the event carries no triage internals
    assert "suggestions" not in clients["citizen"].get(f"/api/v1/events/{body['number']}").json()


def test_a_retrained_model_file_is_picked_up_without_restart(report, hub_model):
    path = hub_model(1.01)
    assert report(description="工地晚上噪音扰民").json()["status"] == "reported"
    hub_model(0.0)
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))  # a visibly newer file
    sure = report(description="工地晚上噪音扰民").json()
    assert sure["status"] == "dispatched" and sure["category"]["code"] == "9902"


def test_without_a_usable_model_the_catalogue_keywords_suggest(
    report, small_catalogue, settings, tmp_path
):
    bad = tmp_path / "broken.joblib"
    bad.write_bytes(b"garbage")
    settings.TRIAGE_MODEL = str(bad)
    suggest.reset()
    try:
        body = report(description="楼下有人加建铁皮房，违建越来越大").json()
    finally:
        suggest.reset()
    assert body["category"]["code"] == "9802"  # the keywords' confident suggestion


def _closed(code: str, text: str, n: int):
    from civicgrid.events.models import Event

    now = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    return Event(
        channel="hotline",
        source_ref=f"H-{code}-{n}",
        title=text,
        description=f"{text}，请处理",
        category_id=code,
        status="closed",
        district_code="440306",
        region_path="440300.440306",
        created_at=now - dt.timedelta(hours=n),
    )


@pytest.fixture
def closed_events(small_catalogue):
    from civicgrid.events.models import Event
    from tests.triage.conftest import LEAF_TEXTS

    rows = [
        (code, f"{t}{i}" if i else t)
        for code, texts in LEAF_TEXTS.items()
        for t in texts
        for i in range(2)
    ]
    Event.objects.bulk_create([_closed(code, text, n) for n, (code, text) in enumerate(rows)])


def test_training_from_closed_events_installs_a_model_of_catalogue_leaves(closed_events, tmp_path):
    from civicgrid.triage import model as m
    from civicgrid.triage.services import train_from_events

    out = tmp_path / "active.joblib"
    result = train_from_events(out=out)
    assert result.installed and out.exists()
    model = m.load(out)
    assert model.labels == sorted(["9801", "9802", "9803", "9901", "9902"])
    assert model.meta["n_train"] == 40 and model.meta["source"] == "events"


def test_a_worse_retrained_model_keeps_the_previous_one(closed_events, tmp_path, monkeypatch):
    from civicgrid.triage import model as m
    from civicgrid.triage import services

    out = tmp_path / "active.joblib"
    assert services.train_from_events(out=out).installed
    before = out.read_bytes()
    real = m.train

    def worse(*args, **kwargs):
        model = real(*args, **kwargs)
        model.meta["scores"]["macro_f1"] = 0.01  # as if the new data had taught it nothing
        return model

    monkeypatch.setattr(m, "train", worse)
    result = services.train_from_events(out=out)
    assert not result.installed and "保留现有模型" in result.reason
    assert out.read_bytes() == before


def test_training_from_events_needs_closed_events(small_catalogue, tmp_path):
    from civicgrid.triage import model as m
    from civicgrid.triage.services import train_from_events

    with pytest.raises(m.ModelError, match="没有已结案"):
        train_from_events(out=tmp_path / "x.joblib")
