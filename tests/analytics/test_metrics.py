"""The metrics API equals a recomputation from ``civicgrid export events`` (DESIGN §10), and
refuses what it should."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from civicgrid.analytics import exporting, kpi, rollup

from .conftest import END, assert_rows_equal

pytestmark = pytest.mark.django_db

LAST = END.date()
FIRST = LAST - dt.timedelta(days=29)
KEYS = {
    "district": lambda r: r["district_code"],
    "street": lambda r: r["street_code"],
    "community": lambda r: r["community_code"],
    "department": lambda r: r["department"] or "-",
    "category": lambda r: r["category"][:2] or "-",
    "channel": lambda r: r["channel"],
}


def _get(client, **params):
    return client.get("/api/v1/metrics", {k.rstrip("_"): v for k, v in params.items()})


def test_every_district_over_30_days_equals_the_export(
    history, leader, api, export_rows, tmp_path, make_user
):
    assert history.created > 150
    rows = export_rows()
    p = kpi.Period(FIRST, LAST)
    client = api(leader)
    body = _every_grouping_equals(client, rows, p)
    # the same from the daily rollup, once built (and not once it is over a minute old)
    built = rollup.refresh()
    assert built["rows"] > 0 and rollup.fresh()
    assert not rollup.fresh(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    body = _every_grouping_equals(client, rows, p)
    total = kpi.compute(rows, p)[""]
    assert_rows_equal(body["total"], total)
    # the numbers are not trivially zero: the history closes, rates and times events
    assert total["due"] > 50 and 0 < total["completion_rate"] <= 1
    assert total["avg_working_days"] > 0 and total["fastest_seconds"] >= 0
    assert total["satisfaction_rate"] is not None and total["returned_rate"] is not None
    assert body["previous"]["accepted"] == kpi.compute(rows, p.previous())[""]["accepted"]
    _a_district_by_month(rows, leader, api)
    _a_district_leader_by_street(rows, make_user, api, export_rows)
    _the_cli_writes_the_raw_rows(history, tmp_path)


def _every_grouping_equals(client, rows, p):
    for group, key in KEYS.items():
        resp = _get(client, region="440300", from_=p.first, to=p.last, group_by=group)
        assert resp.status_code == 200, resp.content
        body = resp.json()
        expected = kpi.compute(rows, p, key)
        got = {r["key"]: r for r in body["items"]}
        assert set(got) == set(expected), group
        for k, want in expected.items():
            assert_rows_equal(got[k], want)
        if group == "district":
            assert len(got) >= 8  # the simulation reaches most of the city
            assert all(r["name"] and r["name"] != r["key"] for r in body["items"])
    return body


def _a_district_by_month(rows, leader, api):
    code = max(
        {r["district_code"] for r in rows}, key=lambda c: sum(r["district_code"] == c for r in rows)
    )
    mine = [r for r in rows if r["district_code"] == code]
    first = LAST - dt.timedelta(days=40)  # spans two months
    body = _get(api(leader), region=code, from_=first, to=LAST, group_by="month").json()
    months = kpi.Period(first, LAST).months()
    assert [r["key"] for r in body["items"]] == [m for m, _ in months]
    for row, (_, sub) in zip(body["items"], months, strict=True):
        assert_rows_equal(row, kpi.compute(mine, sub)[""])
    assert_rows_equal(body["total"], kpi.compute(mine, kpi.Period(first, LAST))[""])


def _a_district_leader_by_street(rows, make_user, api, export_rows):
    """A district's leader: their default region, their streets only, equal to the export
    scoped to them."""
    code = max(
        {r["district_code"] for r in rows}, key=lambda c: sum(r["district_code"] == c for r in rows)
    )
    user = make_user("district_leader", "leader", code)
    mine = export_rows(user)
    assert mine and all(r["district_code"] == code for r in mine)
    assert len(mine) == sum(r["district_code"] == code for r in rows)
    body = _get(api(user), from_=FIRST, to=LAST, group_by="street").json()
    assert body["region"]["code"] == code
    expected = kpi.compute(mine, kpi.Period(FIRST, LAST), KEYS["street"])
    assert {r["key"] for r in body["items"]} == set(expected) and expected
    for r in body["items"]:
        assert_rows_equal(r, expected[r["key"]])


def _the_cli_writes_the_raw_rows(history, tmp_path):
    path = tmp_path / "e.csv"
    call_command("export", "events", str(path))
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    for column in (
        "number", "channel", "category", "district_code", "street_code", "community_code",
        "department", "status", "created_at", "accepted_at", "dispatched_at", "deadline",
        "resolved_at", "closed_at", "rating", "returned_count", "reopened_count",
    ):  # fmt: skip
        assert column in header
    rows = exporting.read(path)
    assert len(rows) == history.created
    assert all(r["created_at"].utcoffset() == dt.timedelta(hours=8) for r in rows)


def test_departments_are_named_by_their_names(make_user, api, grid_point, monkeypatch):
    """Grouped by department, the metrics (live and from the rollup) and the 考评 ranking name
    each department, not just its code."""
    from civicgrid.events import services

    monkeypatch.setattr(
        services, "_now", lambda: dt.datetime(2026, 11, 23, 10, tzinfo=kpi.SHANGHAI)
    )
    lon, lat = grid_point()
    filed = api(make_user("op", "operator", "440300")).post(
        "/api/v1/events",
        {"channel": "hotline", "source_ref": "D-1", "description": "楼顶加建铁皮房",
         "category": "010102", "lon": lon, "lat": lat},
        content_type="application/json",
    )  # fmt: skip
    assert filed.status_code == 201, filed.content
    dept = filed.json()["department"]
    assert dept["code"] == "440306017-JD" and dept["name"] == "新安街道办事处"
    client = api(make_user("leader", "leader", "440300"))
    period = {"from_": "2026-11-01", "to": "2026-11-30"}
    want = [(dept["code"], "新安街道办事处", 1)]
    live = _get(client, group_by="department", **period).json()["items"]
    assert [(r["key"], r["name"], r["accepted"]) for r in live] == want
    rollup.refresh()
    assert rollup.fresh()
    rolled = _get(client, group_by="department", **period).json()["items"]
    assert [(r["key"], r["name"], r["accepted"]) for r in rolled] == want
    card = client.get(
        "/api/v1/scorecards", {"by": "department", "from": "2026-11-01", "to": "2026-11-30"}
    ).json()
    names = {c["key"]: c["name"] for c in card["items"]}
    assert names[dept["code"]] == "新安街道办事处"
    assert all(name != key for key, name in names.items())  # the assisting department too


def test_a_leader_sees_only_their_subtree(make_user, api):
    baoan = api(make_user("baoan", "leader", "440306"))
    ok = _get(baoan, region="440306017", group_by="community")
    assert ok.status_code == 200
    assert all(r["key"].startswith("440306017") for r in ok.json()["items"])
    assert _get(baoan).json()["region"]["code"] == "440306"  # default: the jurisdiction
    outside = _get(baoan, region="440305")
    assert outside.status_code == 404
    assert _get(baoan, region="440300").status_code == 404
    assert api(None).get("/api/v1/metrics").status_code == 401


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from_": "2026-11-20", "to": "2026-11-01"}, "from"),
        ({"from_": "2020-01-01", "to": "2026-11-01"}, "to"),
        ({"region": "999999"}, "region"),
        ({"group_by": "planet"}, "group_by"),
        ({"from_": "2026-13-01"}, "from"),
        ({"from_": "0001-01-01", "to": "0001-01-02"}, "from"),  # no year-1 arithmetic
        ({"from_": "2026-11-01", "to": "9999-12-31"}, "to"),
    ],
)
def test_bad_parameters_are_named(leader, api, params, field):
    resp = _get(api(leader), **params)
    assert resp.status_code == 422, resp.content
    assert field in [e["field"] for e in resp.json()["errors"]]


def test_the_dashboard_page_is_for_staff_within_their_jurisdiction(make_user):
    from django.test import Client

    anonymous = Client().get("/dashboard/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client = Client()
    client.force_login(make_user("baoan_page", "leader", "440306"))
    page = client.get("/dashboard/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "宝安区 治理驾驶舱" in text and "超期未办结" in text and "问题工单" in text
    assert 'data-child-level="street"' in text  # the map drills into the district's streets
    assert client.get("/dashboard/?region=440306017").status_code == 200
    assert client.get("/dashboard/?region=440305").status_code == 404  # 南山: not theirs
