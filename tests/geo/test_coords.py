"""WGS84 / GCJ-02 / BD-09 conversions: round trips, offset size, vectorisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.geo import coords

# Shenzhen's bounding box, where the platform's points come from.
lons = st.floats(min_value=113.7, max_value=114.7, allow_nan=False)
lats = st.floats(min_value=22.4, max_value=22.9, allow_nan=False)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough for offsets of a few hundred metres."""
    dx = (lon2 - lon1) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 110_574.0
    return math.hypot(dx, dy)


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_gcj02_round_trip_is_exact(lon: float, lat: float) -> None:
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back) < 0.01
    again = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *again) < 0.01


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_bd09_round_trips(lon: float, lat: float) -> None:
    assert metres(lon, lat, *coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))) < 0.01
    assert metres(lon, lat, *coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))) < 0.01
    assert metres(lon, lat, *coords.to_wgs84(*coords.wgs84_to_bd09(lon, lat), "bd09")) < 0.01


@settings(max_examples=100, deadline=None)
@given(lons, lats)
def test_gcj02_offset_in_shenzhen_is_about_half_a_kilometre(lon: float, lat: float) -> None:
    shift = metres(lon, lat, *coords.wgs84_to_gcj02(lon, lat))
    assert 500.0 < shift < 650.0
    # BD-09 adds roughly as much again on top of GCJ-02.
    assert 1000.0 < metres(lon, lat, *coords.wgs84_to_bd09(lon, lat)) < 1400.0


def test_gcj02_shift_direction_in_shenzhen() -> None:
    """In Shenzhen GCJ-02 moves points east and south (a well-known ~+0.005°, −0.003°)."""
    lon, lat = coords.wgs84_to_gcj02(114.0579, 22.5431)
    assert 0.004 < lon - 114.0579 < 0.006
    assert -0.0035 < lat - 22.5431 < -0.002


def test_wgs84_is_identity() -> None:
    assert coords.to_wgs84(114.05, 22.55, "wgs84") == (114.05, 22.55)
    x = np.array([114.0, 114.1])
    y = np.array([22.5, 22.6])
    ox, oy = coords.to_wgs84(x, y, "WGS84")
    np.testing.assert_array_equal(ox, x)
    np.testing.assert_array_equal(oy, y)
    assert ox is not x  # a copy: callers may mutate it


def test_crs_names() -> None:
    assert coords.to_wgs84(114.06, 22.54, "GCJ-02") == coords.gcj02_to_wgs84(114.06, 22.54)
    assert coords.to_wgs84(114.06, 22.54, "bd_09") == coords.bd09_to_wgs84(114.06, 22.54)
    with pytest.raises(ValueError):
        coords.to_wgs84(114.06, 22.54, "epsg:3857")


def test_scalars_give_floats() -> None:
    for fn in (
        coords.wgs84_to_gcj02,
        coords.gcj02_to_wgs84,
        coords.gcj02_to_bd09,
        coords.bd09_to_gcj02,
        coords.wgs84_to_bd09,
        coords.bd09_to_wgs84,
    ):
        x, y = fn(114.0, 22.5)
        assert type(x) is float and type(y) is float


def test_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(113.7, 114.7, 300)
    y = rng.uniform(22.4, 22.9, 300)
    for fn in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.bd09_to_wgs84):
        vx, vy = fn(x, y)
        assert vx.shape == x.shape
        for i in range(0, 300, 37):
            sx, sy = fn(float(x[i]), float(y[i]))
            assert vx[i] == pytest.approx(sx, abs=1e-12)
            assert vy[i] == pytest.approx(sy, abs=1e-12)
    gx, gy = coords.wgs84_to_gcj02(x.reshape(20, 15), y.reshape(20, 15))
    assert gx.shape == (20, 15) and gy.shape == (20, 15)


def test_outside_china_untouched() -> None:
    """The published algorithm only obfuscates inside (a rough box around) China."""
    assert coords.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert coords.gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)
