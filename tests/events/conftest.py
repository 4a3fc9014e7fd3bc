"""An event hub to test against: a small catalogue of our own (codes 98xx/99xx, so the shipped
catalogue cannot change what these tests mean), users of every role around 宝安区 新安街道
宝民社区, and a helper that files events over the API."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from civicgrid.events import catalogue_selectors
from civicgrid.events.catalogue_services import load_catalogue

HERE = Path(__file__).parent
GRID = "44030601700101"  # 宝民社区第01网格
COMMUNITY = "440306017001"
NANSHAN_GRID = "44030500100101"
# the smallest valid PNG: what a phone's photo looks like to the intake
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def small_catalogue(db):
    from civicgrid.events.models import Category

    load_catalogue("test", HERE / "catalogue_small.csv")
    # only our own leaves are live, so suggestions and routing mean what these tests say
    Category.objects.exclude(source="test").update(active=False)
    catalogue_selectors.reset()
    yield
    catalogue_selectors.reset()


@pytest.fixture
def people(make_user, small_catalogue):
    """One user per role, named by what they do."""
    return {
        "operator": make_user("op", "operator", "440300"),
        "dispatcher": make_user("disp", "dispatcher", "440306", "440306-ZZ"),
        "community": make_user("comm", "dispatcher", COMMUNITY, f"{COMMUNITY}-ZZ"),
        "cg": make_user("cg", "department", "440306", "440306-CG"),
        "zj": make_user("zj", "department", "440306", "440306-ZJ"),
        "hj": make_user("hj", "department", "440306", "440306-HJ"),
        "gzz": make_user("gzz", "department", COMMUNITY, f"{COMMUNITY}-GZZ"),
        "grid": make_user("grid", "grid_worker", COMMUNITY),
        "citizen": make_user("citizen", "citizen", None),
        "nanshan": make_user("ns", "dispatcher", "440305", "440305-ZZ"),
    }


@pytest.fixture
def clients(people, api):
    return {name: api(user) for name, user in people.items()}


@pytest.fixture
def report(clients, grid_point):
    """``report(who, **fields)`` → the response of POST /api/v1/events."""
    counter = iter(range(1, 10_000))

    def post(who: str = "operator", **fields):
        lon, lat = grid_point()
        body = {
            "channel": "hotline",
            "source_ref": f"T-{next(counter)}",
            "description": "小区门口垃圾堆积很多天没有清运",
            "lon": lon,
            "lat": lat,
        } | fields
        return clients[who].post("/api/v1/events", body, content_type="application/json")

    return post
