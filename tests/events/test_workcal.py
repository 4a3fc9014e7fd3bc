"""Work calendar and deadline arithmetic (events/workcal.py): official 2026 data from
chinese-calendar, estimated years beyond it, working-hour and working-day limits, and the
whole-day working time used by the 平均处置用时 KPI."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunardate import LunarDate

from civicgrid.events.workcal import (
    MAKE_UP_NAME,
    SHANGHAI,
    CalendarGapError,
    Day,
    Limit,
    WorkCalendar,
    WorkHours,
    add_limit,
    carry_over,
    days_for,
    estimated_days,
    official_days,
    statutory_holidays,
)

UTC = ZoneInfo("UTC")
KNOWS_2027 = official_days(2027) is not None
needs_unknown_2027 = pytest.mark.skipif(
    KNOWS_2027, reason="chinese_calendar now knows 2027; the default fallback is official"
)


def _pinned(year: int) -> list[Day]:
    """Official up to 2026, estimated after: stays true when chinese_calendar learns 2027."""
    days = official_days(year) if year <= 2026 else None
    return days if days is not None else estimated_days(year)


CAL = WorkCalendar(fallback=_pinned)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


# -- official 2026 ----------------------------------------------------------------------------


def test_official_2026_national_day_and_mid_autumn():
    days = {d.date: d for d in official_days(2026)}
    assert len(days) == 365 and {d.source for d in days.values()} == {"official"}
    # What chinese_calendar 1.11 says: 中秋 Fri 25 – Sun 27 Sep, 国庆 1–7 Oct, make-up days
    # Sunday 20 Sep and Saturday 10 Oct.
    for n in range(1, 8):
        d = date(2026, 10, n)
        assert chinese_calendar.is_holiday(d)
        assert (days[d].workday, days[d].name) == (False, "国庆节")
    for n in (25, 26, 27):
        assert (days[date(2026, 9, n)].workday, days[date(2026, 9, n)].name) == (False, "中秋节")
    for d in (date(2026, 9, 20), date(2026, 10, 10)):
        assert d.weekday() >= 5 and chinese_calendar.is_workday(d)
        assert (days[d].workday, days[d].name) == (True, MAKE_UP_NAME)
    assert (days[date(2026, 10, 11)].workday, days[date(2026, 10, 11)].name) == (False, "")
    assert (days[date(2026, 10, 8)].workday, days[date(2026, 10, 8)].name) == (True, "")


def test_official_days_agree_with_chinese_calendar():
    for d in official_days(2026):
        assert d.workday == chinese_calendar.is_workday(d.date)
        if d.workday and d.date.weekday() < 5:
            assert d.name == ""
    names = {d.name for d in official_days(2026)}
    assert names == {
        "",
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
        MAKE_UP_NAME,
    }


def test_official_days_unknown_years():
    assert official_days(2003) is None
    assert days_for(2003)[0].source == "estimated"


def test_one_working_day_over_national_day():
    deadline = CAL.add_working_days(at(2026, 9, 30, 10), 1)
    assert deadline.at == at(2026, 10, 8, 18)
    assert not deadline.estimated


def test_working_hours_over_national_day():
    # 1 h on 30 Sep (17:00–18:00), 3 h on Thursday 8 Oct from 08:30.
    deadline = CAL.add_working_hours(at(2026, 9, 30, 17), 4)
    assert deadline.at == at(2026, 10, 8, 11, 30)
    assert not deadline.estimated


def test_make_up_saturday_counts():
    assert CAL.is_workday(date(2026, 10, 10))
    assert CAL.day(date(2026, 10, 10)).name == MAKE_UP_NAME
    assert CAL.add_working_days(at(2026, 10, 8, 9), 2).at == at(2026, 10, 10, 18)
    assert CAL.add_working_days(at(2026, 10, 8, 9), 3).at == at(2026, 10, 12, 18)
    assert CAL.add_working_hours(at(2026, 10, 9, 17), 2).at == at(2026, 10, 10, 9, 30)
    # Fri 9 Oct 12:00 → Mon 12 Oct 12:00: Fri and the make-up Saturday count, Sunday does not.
    assert CAL.working_time_between(at(2026, 10, 9, 12), at(2026, 10, 12, 12)) == timedelta(
        hours=12 + 24 + 12
    )


# -- working days -----------------------------------------------------------------------------


def test_working_days_count_from_the_next_workday():
    friday = at(2026, 11, 20, 9)
    assert CAL.add_working_days(friday, 1).at == at(2026, 11, 23, 18)
    assert CAL.add_working_days(friday, 3).at == at(2026, 11, 25, 18)
    # The hour of receipt does not matter; a Saturday receipt is due Monday too.
    assert CAL.add_working_days(at(2026, 11, 20, 23, 59), 1).at == at(2026, 11, 23, 18)
    assert CAL.add_working_days(at(2026, 11, 21, 10), 1).at == at(2026, 11, 23, 18)


def test_zero_working_days_is_the_same_working_day():
    assert CAL.add_working_days(at(2026, 11, 20, 9), 0).at == at(2026, 11, 20, 18)
    assert CAL.add_working_days(at(2026, 11, 20, 19), 0).at == at(2026, 11, 23, 18)
    assert CAL.add_working_days(at(2026, 11, 21, 9), 0).at == at(2026, 11, 23, 18)


def test_bad_limits():
    with pytest.raises(ValueError):
        CAL.add_working_days(at(2026, 11, 20), -1)
    with pytest.raises(TypeError):
        CAL.add_working_days(at(2026, 11, 20), 1.5)
    with pytest.raises(ValueError):
        CAL.add_working_hours(at(2026, 11, 20), -0.5)
    with pytest.raises(ValueError):
        CAL.add_working_hours(at(2026, 11, 20), float("nan"))


# -- 2027: estimated --------------------------------------------------------------------------


def test_new_year_2027_is_estimated():
    jan = {d.date: d for d in estimated_days(2027) if d.date.month == 1}
    assert date(2027, 1, 1).weekday() == 4  # Friday
    assert (jan[date(2027, 1, 1)].workday, jan[date(2027, 1, 1)].name) == (False, "元旦")
    assert not jan[date(2027, 1, 2)].workday and not jan[date(2027, 1, 3)].workday
    assert jan[date(2027, 1, 4)].workday
    assert {d.source for d in jan.values()} == {"estimated"}


def test_deadline_into_2027_is_flagged_estimated():
    deadline = CAL.add_working_days(at(2026, 12, 31, 10), 1)
    assert deadline.at == at(2027, 1, 4, 18) and deadline.estimated
    inside = CAL.add_working_days(at(2026, 12, 28, 10), 2)
    assert inside.at == at(2026, 12, 30, 18) and not inside.estimated
    assert not CAL.add_working_hours(at(2026, 12, 31, 17), 1).estimated  # due 18:00 on the 31st
    assert CAL.add_working_hours(at(2026, 12, 31, 17), 1.5).at == at(2027, 1, 4, 9)
    assert CAL.add_working_hours(at(2026, 12, 31, 17), 1.5).estimated


@needs_unknown_2027
def test_default_calendar_estimates_2027():
    assert official_days(2027) is None
    assert days_for(2027)[0] == Day(date(2027, 1, 1), False, "元旦", "estimated")
    calendar = WorkCalendar()
    assert calendar.day(date(2027, 1, 1)).source == "estimated"
    deadline = calendar.add_working_days(at(2026, 12, 31, 10), 1)
    assert deadline.at == at(2027, 1, 4, 18) and deadline.estimated


def test_estimated_2027_holidays():
    days = {d.date: d for d in estimated_days(2027)}
    assert LunarDate(2027, 1, 1).to_solar_date() == date(2027, 2, 6)
    # Lunar 2026 has a 29-day 12th month, so 除夕 is 腊月廿九.
    chuxi = LunarDate.from_solar_date(2027, 2, 5)
    assert (chuxi.year, chuxi.month, chuxi.day) == (2026, 12, 29)
    holidays = {
        date(2027, 1, 1): "元旦",
        **{date(2027, 2, n): "春节" for n in (5, 6, 7, 8)},
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        LunarDate(2027, 5, 5).to_solar_date(): "端午节",
        LunarDate(2027, 8, 15).to_solar_date(): "中秋节",
        **{date(2027, 10, n): "国庆节" for n in (1, 2, 3)},
    }
    assert statutory_holidays(2027) == holidays
    for d, day in days.items():
        assert day.name == holidays.get(d, "")
        assert day.workday == (d.weekday() < 5 and d not in holidays)  # no make-up days
    assert not any(day.workday for day in days.values() if day.date.weekday() >= 5)


def test_mid_autumn_on_national_day_2028():
    assert LunarDate(2028, 8, 15).to_solar_date() == date(2028, 10, 3)
    assert statutory_holidays(2028)[date(2028, 10, 3)] == "中秋节、国庆节"
    assert len(statutory_holidays(2028)) == 12


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_holidays_are_off_in_official_years(year):
    # Under the 2025 rules every statutory day is off whatever the arrangement.
    for d in statutory_holidays(year):
        assert not chinese_calendar.is_workday(d), d


@given(st.integers(1901, 2099))
def test_chuxi_is_the_last_day_of_the_lunar_year(year):
    spring = [d for d, name in statutory_holidays(year).items() if "春节" in name]
    assert len(spring) == 4 and spring[-1] - spring[0] == timedelta(days=3)
    eve, new_year = LunarDate.from_solar_date(*spring[0].timetuple()[:3]), spring[1]
    assert (eve.month, eve.day in (29, 30), eve.is_leap_month) == (12, True, False)
    assert LunarDate.from_solar_date(*new_year.timetuple()[:3]) == LunarDate(year, 1, 1)


# -- explicit rows ----------------------------------------------------------------------------


def test_manual_row_overrides_the_fallback():
    manual = Day(date(2027, 1, 4), False, "台风停工", "manual")
    calendar = WorkCalendar([manual], fallback=_pinned)
    assert calendar.day(date(2027, 1, 4)) == manual
    assert not calendar.is_workday(date(2027, 1, 4))
    assert calendar.is_workday(date(2027, 1, 5))
    assert calendar.add_working_days(at(2026, 12, 31, 10), 1).at == at(2027, 1, 5, 18)


def test_later_rows_win_and_table_rows_beat_the_fallback():
    rows = [Day(d.date, d.workday, d.name, "official") for d in estimated_days(2027)]
    rows.append(Day(date(2027, 2, 20), True, MAKE_UP_NAME, "manual"))
    calendar = WorkCalendar(rows, fallback=None)
    assert calendar.day(date(2027, 2, 20)).source == "manual" and calendar.is_workday(
        date(2027, 2, 20)
    )
    deadline = calendar.add_working_days(at(2027, 3, 1, 9), 2)
    assert not deadline.estimated  # the rows say official, whatever the fallback would say


def test_missing_rows_without_fallback():
    calendar = WorkCalendar(official_days(2026), fallback=None)
    assert calendar.is_workday(date(2026, 12, 31))
    with pytest.raises(CalendarGapError):
        calendar.is_workday(date(2027, 1, 4))
    with pytest.raises(CalendarGapError):
        WorkCalendar([Day(date(2027, 1, 4), True)], fallback=None).is_workday(date(2027, 1, 4))


def test_day_rows_validate():
    with pytest.raises(ValueError):
        Day(date(2027, 1, 4), True, "", "guessed")
    with pytest.raises(TypeError):
        Day(at(2027, 1, 4), True)


# -- time zones -------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 11, 20, 9)
    for call in (
        lambda: CAL.add_working_hours(naive, 1),
        lambda: CAL.add_working_days(naive, 1),
        lambda: CAL.working_time_between(naive, at(2026, 11, 23)),
        lambda: CAL.working_time_between(at(2026, 11, 19), naive),
        lambda: CAL.working_days_between(naive, naive),
        lambda: CAL.working_hours_between(naive, at(2026, 11, 23)),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_other_zones_are_read_in_shanghai_time():
    # 2026-11-20 16:00 UTC is Saturday 00:00 in Shanghai: the limit counts from Monday.
    start = datetime(2026, 11, 20, 16, tzinfo=UTC)
    assert CAL.add_working_days(start, 1).at == at(2026, 11, 23, 18)
    assert CAL.add_working_hours(datetime(2026, 11, 23, 1, tzinfo=UTC), 1).at == at(
        2026, 11, 23, 10
    )
    assert CAL.day(start).date == date(2026, 11, 21)


# -- working time between (KPI, whole days) ---------------------------------------------------


def test_friday_evening_to_monday_morning():
    a, b = at(2026, 11, 20, 17), at(2026, 11, 23, 9)
    assert CAL.working_time_between(a, b) == timedelta(hours=16)
    assert CAL.working_days_between(a, b) == pytest.approx(2 / 3)


def test_working_time_simple_spans():
    assert CAL.working_time_between(at(2026, 11, 24, 9), at(2026, 11, 24, 15, 30)) == timedelta(
        hours=6, minutes=30
    )
    assert CAL.working_time_between(at(2026, 11, 21, 9), at(2026, 11, 22, 20)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 11, 24), at(2026, 11, 23)) == timedelta(0)
    # 30 Sep 00:00 → 9 Oct 00:00: only 30 Sep and 8 Oct are workdays.
    assert CAL.working_time_between(at(2026, 9, 30), at(2026, 10, 9)) == timedelta(days=2)
    # A whole year: 2026 has as many workdays as chinese_calendar says.
    workdays = sum(d.workday for d in official_days(2026))
    assert CAL.working_time_between(at(2026, 1, 1), at(2027, 1, 1)) == timedelta(days=workdays)
    assert CAL.count_workdays(date(2026, 1, 1), date(2027, 1, 1)) == workdays


def test_working_time_over_years_matches_a_day_by_day_sum():
    a, b = at(2026, 3, 7, 13), at(2028, 8, 2, 7, 15)
    expected = timedelta(0)
    d = a.date()
    while d <= b.date():
        lo = max(a, at(d.year, d.month, d.day))
        hi = min(b, at(d.year, d.month, d.day) + timedelta(days=1))
        if CAL.is_workday(d):
            expected += hi - lo
        d += timedelta(days=1)
    assert CAL.working_time_between(a, b) == expected


moments = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59),
    timezones=st.just(SHANGHAI),
).map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=300, deadline=None)
@given(st.lists(moments, min_size=3, max_size=3).map(sorted))
def test_working_time_is_additive_and_bounded(abc):
    a, b, c = abc
    ab, bc, ac = (
        CAL.working_time_between(a, b),
        CAL.working_time_between(b, c),
        CAL.working_time_between(a, c),
    )
    assert ac == ab + bc
    assert timedelta(0) <= ab <= b - a
    assert CAL.working_time_between(c, a) == timedelta(0)


# -- working hours ----------------------------------------------------------------------------


def test_working_hours_examples():
    assert CAL.add_working_hours(at(2026, 11, 20, 17), 4).at == at(2026, 11, 23, 11, 30)
    # Outside working time a limit starts at the next period.
    assert CAL.add_working_hours(at(2026, 11, 24, 12, 30), 1).at == at(2026, 11, 24, 15)
    assert CAL.add_working_hours(at(2026, 11, 24, 7), 1).at == at(2026, 11, 24, 9, 30)
    assert CAL.add_working_hours(at(2026, 11, 21, 10), 1).at == at(2026, 11, 23, 9, 30)
    # Running out exactly at a period's end is due then, not at the next period's start.
    assert CAL.add_working_hours(at(2026, 11, 24, 8, 30), 3.5).at == at(2026, 11, 24, 12)
    assert CAL.add_working_hours(at(2026, 11, 24, 8, 30), 7.5).at == at(2026, 11, 24, 18)
    assert CAL.add_working_hours(at(2026, 11, 24, 9), timedelta(minutes=90)).at == at(
        2026, 11, 24, 10, 30
    )
    assert CAL.add_working_hours(at(2026, 11, 24, 19), 0).at == at(2026, 11, 24, 19)
    # 30 working days of 7.5 h from a Monday morning: Friday 18:00 six weeks later.
    assert CAL.add_working_hours(at(2026, 11, 2, 8, 30), 30 * 7.5).at == at(2026, 12, 11, 18)


def test_custom_working_hours():
    hours = WorkHours.parse("09:00-17:00")
    assert hours.periods == ((time(9), time(17)),) and hours.per_day == timedelta(hours=8)
    calendar = WorkCalendar(hours=hours, fallback=_pinned)
    assert calendar.add_working_hours(at(2026, 11, 20, 16), 2).at == at(2026, 11, 23, 10)
    assert calendar.add_working_days(at(2026, 11, 20, 16), 1).at == at(2026, 11, 23, 17)
    assert WorkHours([[time(8), time(12)], [time(13), time(17)]]).day_end == time(17)


@pytest.mark.parametrize(
    "text", ["12:00-08:30", "08:30-12:00,11:00-18:00", "14:00-18:00,08:30-12:00", "9-17", ""]
)
def test_bad_working_hours(text):
    with pytest.raises(ValueError):
        WorkHours.parse(text)


def _in_working_time(calendar: WorkCalendar, t: datetime) -> bool:
    if not calendar.is_workday(t.date()):
        return False
    return any(start < t.time() <= end for start, end in calendar.hours.periods)


quarter_hours = st.integers(0, 4 * 8 * 25).map(lambda q: q / 4)


@settings(max_examples=300, deadline=None)
@given(moments, quarter_hours.filter(bool))
def test_working_hours_land_in_working_time(start, hours):
    deadline = CAL.add_working_hours(start, hours)
    assert deadline.at > start
    assert _in_working_time(CAL, deadline.at)
    assert CAL.working_hours_between(start, deadline.at) == timedelta(hours=hours)
    assert deadline.estimated == (deadline.at.year >= 2027)


@settings(max_examples=300, deadline=None)
@given(moments, quarter_hours, quarter_hours)
def test_working_hours_add_up(start, h1, h2):
    once = CAL.add_working_hours(start, h1 + h2).at
    assert CAL.add_working_hours(CAL.add_working_hours(start, h1).at, h2).at == once


@settings(max_examples=200, deadline=None)
@given(moments, st.integers(1, 60))
def test_working_days_land_at_day_end(start, n):
    deadline = CAL.add_working_days(start, n).at
    assert deadline.time() == time(18) and CAL.is_workday(deadline.date())
    assert CAL.count_workdays(start.date() + timedelta(days=1), deadline.date()) == n - 1


# -- carrying lines over to a changed calendar ------------------------------------------------
def _official_2027(year: int) -> list[Day]:
    """The estimate with 2027-01-04 off and Saturday 2027-01-09 worked, as a notice might say."""
    days = _pinned(year)
    if year != 2027:
        return days
    change = {date(2027, 1, 4): False, date(2027, 1, 9): True}
    return [Day(d.date, change.get(d.date, d.workday), d.name, "official") for d in days]


NEW = WorkCalendar(fallback=_official_2027)
limits = st.one_of(
    st.builds(lambda n: Limit(n, "days"), st.integers(0, 30)),
    st.builds(lambda q: Limit(q / 4, "hours"), st.integers(1, 4 * 8 * 12)),
)


@settings(max_examples=300, deadline=None)
@given(moments, limits)
def test_a_line_carried_over_is_where_the_new_calendar_puts_it(start, limit):
    """Wherever the old calendar put a limit's line, carry_over finds where the new one puts
    it (the day of receipt itself unchanged), and a calendar carried onto itself moves
    nothing."""
    line = add_limit(CAL, start, limit).at
    assert carry_over(CAL, CAL, start, line).at == line
    if CAL.is_workday(start.date()) == NEW.is_workday(start.date()):
        assert carry_over(CAL, NEW, start, line) == add_limit(NEW, start, limit)
