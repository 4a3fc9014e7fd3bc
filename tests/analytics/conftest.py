"""A simulated month of city life (through the event hub's own services) to measure."""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.analytics import exporting, kpi
from civicgrid.events.calendar_selectors import calendar

END = dt.datetime(2026, 11, 20, 21, 0, tzinfo=kpi.SHANGHAI)
DAYS, RATE, SEED = 24, 12, 5  # ~250 events over every district


@pytest.fixture
def history(db):
    from civicgrid.simulate.history import simulate_history

    return simulate_history(DAYS, seed=SEED, end=END, rate=RATE)


@pytest.fixture
def leader(make_user):
    return make_user("leader", "leader", "440300")


@pytest.fixture
def export_rows(tmp_path):
    """``export_rows(user=None)`` → the rows of ``civicgrid export events``, read back, with
    each event's working time from the work calendar (the recomputation's only other input)."""

    def read(user=None) -> list[dict]:
        path = tmp_path / "events.csv"
        exporting.export_events(path, user=user, actor="test")
        rows = exporting.read(path)
        cal = calendar()
        for r in rows:
            r["working_seconds"] = kpi.working_seconds(cal.working_days_between, r)
        return rows

    return read


def assert_rows_equal(api_row: dict, expected: dict) -> None:
    for k in kpi.COUNTS:
        assert api_row[k] == expected[k], k
    for k in kpi.RATES:
        if expected[k] is None:
            assert api_row[k] is None, k
        else:
            assert api_row[k] == pytest.approx(expected[k], rel=1e-9, abs=1e-6), k
