"""Shared fixtures: one database per run holding Shenzhen's tree, users per role, API clients.

The tree is loaded once per run (with fewer grids per community than the default, for speed);
each test runs in a transaction that is rolled back, so tests never see each other's changes.
"""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.accounts import services as accounts

TEST_GRIDS_PER_COMMUNITY = 4
PASSWORD = "Test-password-2026"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from civicgrid.core.setup import initialise

    with django_db_blocker.unblock():
        initialise(migrate=False, grids_per_community=TEST_GRIDS_PER_COMMUNITY)


@pytest.fixture(autouse=True)
def _fresh_locator():
    from civicgrid.geo.selectors import reset_index

    reset_index()
    yield
    reset_index()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _quick_passwords(request, settings):
    """Users are made for almost every test; Argon2 (about 0.1 s a hash, by design) would buy
    nothing there. Tests marked ``argon2`` keep the production hasher."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    def make(username: str, role: str, region: str | None, department: str | None = None):
        return accounts.save_user(
            "test",
            username,
            role=role,
            region_code=region,
            department_code=department,
            password=PASSWORD,
        ).user

    return make


@pytest.fixture
def api(db):
    """``api(user)`` → a test client that sends the user's bearer token on every request."""

    def client_for(user=None) -> Client:
        if user is None:
            return Client()
        _, clear = accounts.issue_token("test", user)
        return Client(headers={"Authorization": f"Bearer {clear}"})

    return client_for


@pytest.fixture
def grid_point():
    """``grid_point(code)`` → (lon, lat) inside that grid (宝民社区第01网格 by default)."""
    from civicgrid.geo.models import Region

    def point(code: str = "44030601700101") -> tuple[float, float]:
        g = Region.objects.get(code=code)
        return g.lon, g.lat

    return point


@pytest.fixture
def village_building(db, grid_point):
    """``village_building(grid)`` → a six-storey urban-village building No. 77 in that grid
    (宝民社区第01网格 by default), for tests that need rooms to point at."""
    from civicgrid.registry.models import Building

    def make(grid: str = "44030601700101") -> Building:
        lon, lat = grid_point(grid)
        return Building.objects.create(
            code=f"{grid}00077",
            name="宝民村77号",
            address="宝安区新安街道宝民村77号",
            lon=lon,
            lat=lat,
            use="residential",
            form="urban_village",
            floors=6,
            district_code=grid[:6],
            grid_code=grid,
        )

    return make
