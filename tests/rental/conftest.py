"""Rental houses to grade: one village building in 宝民社区第01网格 with let rooms, people of
the roles that work with them, and helpers for inspections over the API."""

from __future__ import annotations

import pytest

from civicgrid.registry.codes import id_check_char
from civicgrid.registry.models import House

GRID = "44030601700101"  # 宝民社区第01网格
COMMUNITY = "440306017001"

NANSHAN_GRID = "44030500100101"


def id_number(seq: int = 123, area: str = "440306", birth: str = "19900101") -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + id_check_char(body)


@pytest.fixture(autouse=True)
def _fresh_rules():
    from civicgrid.rental import selectors

    selectors.reset()
    yield
    selectors.reset()


@pytest.fixture(autouse=True)
def _qr_key(monkeypatch):
    monkeypatch.setenv("CIVICGRID_QR_KEYS", "k2:test-qr-key-number-two-0123456789")


@pytest.fixture
def people(make_user):
    return {
        "grid": make_user("rgrid", "grid_worker", COMMUNITY),
        "steward": make_user("rsteward", "steward", "440300"),
        "nanshan": make_user("rns", "grid_worker", "440305001001"),
        "leader": make_user("rleader", "leader", "440300"),
    }


@pytest.fixture
def clients(people, api):
    return {name: api(user) for name, user in people.items()} | {"anon": api(None)}


@pytest.fixture
def building(village_building):
    return village_building(GRID)


@pytest.fixture
def make_house(building):
    counter = iter(range(1, 999))

    def make(use: str = "rent", area: float | None = 30.0) -> House:
        n = next(counter)
        return House.objects.create(
            code=f"{building.code}{n:06d}",
            building=building,
            floor=1 + n // 10,
            room=f"{100 + n}",
            area=area,
            use=use,
            district_code="440306",
            grid_code=GRID,
        )

    return make


@pytest.fixture
def rental(people, make_house):
    """A let house with a signed safety letter: green under the default rules."""
    from civicgrid.rental import services

    house = make_house()
    profile, _ = services.register_rental(people["grid"], house, safety_letter=True)
    return profile


@pytest.fixture
def inspect(clients):
    def post(code: str, who: str = "grid", **findings):
        return clients[who].post(
            f"/api/v1/rental/{code}/inspections",
            {"findings": findings},
            content_type="application/json",
        )

    return post
