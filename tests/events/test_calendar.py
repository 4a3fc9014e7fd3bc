"""The work calendar table: seeded at init, official through 2026 and estimated beyond,
replaced by an official arrangement when one is imported; ``civicgrid calendar add``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from civicgrid.events import calendar_selectors, calendar_services
from civicgrid.events.models import WorkDay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_calendar():
    calendar_selectors.reset()
    yield
    calendar_selectors.reset()


def _add(capsys, start: str, duration: str) -> tuple[str, str]:
    call_command("calendar", "add", start, duration)
    at, basis = capsys.readouterr().out.strip().split("\t")
    return at, basis


def test_init_seeds_official_and_estimated_years():
    oct10 = WorkDay.objects.get(date=dt.date(2026, 10, 10))
    assert oct10.workday and oct10.source == "official"  # the make-up Saturday
    assert not WorkDay.objects.get(date=dt.date(2026, 10, 1)).workday
    new_year = WorkDay.objects.get(date=dt.date(2027, 1, 1))
    assert (new_year.workday, new_year.source, new_year.name) == (False, "estimated", "元旦")
    assert WorkDay.objects.get(date=dt.date(2027, 1, 4)).workday


def test_deadline_across_national_day_2026(capsys):
    at, basis = _add(capsys, "2026-09-30T10:00", "1d")
    assert basis.startswith("official")
    first_workday_after = calendar_selectors.calendar()
    day = dt.date(2026, 10, 1)
    while not first_workday_after.is_workday(day):
        day += dt.timedelta(days=1)
    assert at == f"{day.isoformat()}T18:00:00+08:00"


def test_deadline_into_2027_rests_on_estimated_days(capsys):
    at, basis = _add(capsys, "2026-12-31T10:00", "1d")
    assert at == "2027-01-04T18:00:00+08:00" and basis.startswith("estimated")
    at, basis = _add(capsys, "2026-12-30T09:00", "4h")
    assert at.startswith("2026-12-30T") and basis.startswith("official")


def test_an_official_arrangement_replaces_the_estimate(tmp_path, capsys):
    arrangement = tmp_path / "2027.csv"
    arrangement.write_text(
        "日期,是否上班,名称\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n2027-01-09,班,\n",
        encoding="utf-8",
    )
    call_command("calendar", "import", str(arrangement))
    assert "2027 年 3 条" in capsys.readouterr().out
    jan9 = WorkDay.objects.get(date=dt.date(2027, 1, 9))
    assert jan9.workday and jan9.source == "official" and jan9.name == "调休上班"
    assert not WorkDay.objects.filter(date__year=2027, source="estimated").exists()
    at, basis = _add(capsys, "2026-12-31T10:00", "1d")
    assert at == "2027-01-05T18:00:00+08:00" and basis.startswith("official")


def test_a_bad_arrangement_changes_nothing(tmp_path):
    before = list(WorkDay.objects.filter(date__year=2027).values_list("date", "source"))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,workday,name\n2027-01-01,休,元旦\n2027-13-01,休,x\n2027-01-05,maybe,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as exc:
        call_command("calendar", "import", str(bad))
    assert "第 3 行 date" in str(exc.value) and "第 4 行 workday" in str(exc.value)
    assert list(WorkDay.objects.filter(date__year=2027).values_list("date", "source")) == before


def test_a_manual_correction_is_used(capsys):
    calendar_services.set_day("test", dt.date(2027, 1, 4), workday=False, name="台风停工")
    calendar_selectors.reset()
    at, _ = _add(capsys, "2026-12-31T10:00", "1d")
    assert at == "2027-01-05T18:00:00+08:00"


@pytest.mark.parametrize("duration", ["3x", "1.5d", ""])
def test_bad_durations_are_explained(duration):
    with pytest.raises(CommandError, match=r"格式|整数"):
        call_command("calendar", "add", "2026-09-30T10:00", duration)


def test_reseeding_upgrades_estimates_and_adds_nothing_twice():
    WorkDay.objects.filter(date__year=2026).update(source="estimated")
    report = calendar_services.seed_years(range(2026, 2028))
    assert report.added == 0 and report.upgraded == 365
    again = calendar_services.seed_years(range(2026, 2028))
    assert (again.added, again.upgraded) == (0, 0)


def test_a_notice_listing_a_day_of_the_year_before_leaves_that_year_official(tmp_path, capsys):
    """2024's notice listed 2023-12-30: a 2027 file with 2026-12-31 must not turn 2026 back
    into a plain week (National Day, its make-up Saturday) nor drop a manual correction."""
    calendar_services.set_day("test", dt.date(2026, 9, 15), workday=False, name="台风停工")
    arrangement = tmp_path / "2027.csv"
    arrangement.write_text(
        "日期,是否上班,名称\n2026-12-31,休,元旦\n2027-01-01,休,元旦\n2027-01-04,休,元旦\n",
        encoding="utf-8",
    )
    call_command("calendar", "import", str(arrangement))
    out = capsys.readouterr().out
    assert "2026 年 1 条" in out and "2026 年只更改了文件所列日期" in out
    day = {w.date: w for w in WorkDay.objects.filter(date__year__in=(2026, 2027))}
    assert not day[dt.date(2026, 10, 1)].workday and day[dt.date(2026, 10, 1)].name
    assert day[dt.date(2026, 10, 10)].workday  # the make-up Saturday stays
    assert (day[dt.date(2026, 9, 15)].workday, day[dt.date(2026, 9, 15)].source) == (
        False,
        "manual",
    )
    assert (day[dt.date(2026, 12, 31)].workday, day[dt.date(2026, 12, 31)].source) == (
        False,
        "official",
    )
    assert not day[dt.date(2027, 1, 4)].workday
    assert day[dt.date(2027, 1, 5)].workday and day[dt.date(2027, 1, 5)].source == "official"
    assert not WorkDay.objects.filter(date__year=2027, source="estimated").exists()


def test_upgrading_estimates_is_seen_by_every_process():
    """Servers notice a calendar change by the table's stamp (count, latest updated_at)."""
    WorkDay.objects.filter(date__year=2026).update(source="estimated")
    before = calendar_selectors._stamp()
    calendar_services.seed_years(range(2026, 2027))
    assert calendar_selectors._stamp() != before


def test_a_corrected_notice_corrects_the_year_it_announces(tmp_path):
    """A notice imported again with a holiday taken out gives the day back; a single date of
    a neighbouring year, still estimated, leaves that year's other estimated holidays alone."""
    first, corrected = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("date,workday,name\n2027-01-01,休,元旦\n2027-01-05,休,元旦\n")
    corrected.write_text(
        "date,workday,name\n2027-01-01,休,元旦\n2027-10-01,休,国庆节\n2028-01-01,休,元旦\n"
    )
    calendar_services.import_arrangement(first)
    assert not WorkDay.objects.get(date=dt.date(2027, 1, 5)).workday
    report = calendar_services.import_arrangement(corrected)
    assert (report.rebuilt, report.amended) == ([2027], [2028])
    assert WorkDay.objects.get(date=dt.date(2027, 1, 5)).workday
    may_day = WorkDay.objects.get(date=dt.date(2028, 5, 1))
    assert (may_day.workday, may_day.source) == (False, "estimated")
