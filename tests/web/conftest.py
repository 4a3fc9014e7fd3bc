"""Page tests: the event hub of tests/events (small catalogue, one user per role around
宝安区 新安街道 宝民社区) driven through Django's test client, logged in as each person."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.events import services
from tests.events.conftest import COMMUNITY, GRID, NANSHAN_GRID, PNG, people, small_catalogue

__all__ = ["COMMUNITY", "GRID", "NANSHAN_GRID", "PNG", "people", "small_catalogue"]


@pytest.fixture
def browser_for(people):
    """``browser_for(name)`` → a test client logged in as that person (None: anonymous)."""

    def login(name: str | None = None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(people[name])
        return client

    return login


@pytest.fixture
def filed(people, grid_point):
    """``filed(who=None, **fields)`` → an event filed through the services, as the portal or
    the hotline would (the pages under test then work on it)."""
    counter = iter(range(1, 10_000))

    def make(who: str | None = "operator", **fields):
        lon, lat = grid_point()
        data = {
            "channel": "hotline",
            "source_ref": f"W-{next(counter)}",
            "description": "小区门口垃圾堆积很多天没有清运",
            "lon": lon,
            "lat": lat,
        } | fields
        actor = people[who] if who else "citizen@web"
        event, _ = services.submit(actor, services.Intake(**data))
        return event

    return make


def walk(people, number: str, *steps: tuple[str, str, dict]) -> None:
    """Run workflow steps through the services: (person, action, params)."""
    for who, action, params in steps:
        services.act(people[who], number, action, params)


CLOSE_STEPS = [
    ("cg", "sign", {}),
    ("cg", "resolve", {"note": "垃圾已清运完毕"}),
    ("dispatcher", "verify", {}),
    ("dispatcher", "close", {}),
]
