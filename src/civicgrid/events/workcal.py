"""Chinese working time: the work calendar and deadline arithmetic (DESIGN §6, §10).

Appeal deadlines count working time, so they depend on which dates are workdays in mainland
China. That is decided each year by the State Council's holiday arrangement (with make-up
working weekends, 调休), which ``chinese_calendar`` carries for the years it knows. Later years
are *estimated* from the statutory holidays alone, and any deadline that relies on an
estimated date says so, because the official arrangement may still move it.

The module is pure (stdlib, ``chinese_calendar``, ``lunardate``): the database layer stores
the calendar rows and builds a :class:`WorkCalendar` from them; batch jobs reuse one instance.
All datetimes are timezone-aware and are read in Asia/Shanghai wall-clock time, which has had
no daylight saving since 1991.
"""

from __future__ import annotations

import calendar as _stdcal
import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from lunardate import LunarDate

__all__ = [
    "DEFAULT_HOURS",
    "MAKE_UP_NAME",
    "SHANGHAI",
    "SOURCES",
    "CalendarGapError",
    "Day",
    "Deadline",
    "WorkCalendar",
    "WorkHours",
    "days_for",
    "estimated_days",
    "official_days",
    "statutory_holidays",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCES = frozenset({"official", "estimated", "manual"})
MAKE_UP_NAME = "调休上班"

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
# A calendar with no workday in this many consecutive years is broken, not merely festive.
_MAX_IDLE_YEARS = 3

# chinese_calendar names holidays in English (its Holiday enum); the table keeps Chinese names.
_CHINESE_BY_MEMBER = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "national_day": "国庆节",
    "mid_autumn_festival": "中秋节",
    "anti_fascist_70th_day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
_CHINESE_NAMES: dict[str, str] = {}
for _member in chinese_calendar.Holiday:
    _chinese = _CHINESE_BY_MEMBER.get(_member.name, _member.value)
    _CHINESE_NAMES[_member.value] = _CHINESE_NAMES[_member.name] = _chinese


@dataclass(frozen=True)
class Day:
    """One row of the work calendar: whether ``date`` is a workday, and on whose word."""

    date: date
    workday: bool
    name: str = ""
    source: str = "official"

    def __post_init__(self) -> None:
        # A datetime here would silently carry a time and a zone into date arithmetic.
        if not isinstance(self.date, date) or isinstance(self.date, datetime):
            raise TypeError(f"Day.date must be a date, not {type(self.date).__name__}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown calendar source {self.source!r}")


@dataclass(frozen=True)
class Deadline:
    """When a time limit runs out, and whether an estimated calendar day went into it."""

    at: datetime
    estimated: bool


class CalendarGapError(LookupError):
    """A date the calendar has no row for (and no fallback to compute one)."""


def dates_in(year: int) -> list[date]:
    """Every date of ``year``, in order."""
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range(366 if _stdcal.isleap(year) else 365)]


@cache
def _official(year: int) -> tuple[Day, ...] | None:
    try:
        days = []
        for d in dates_in(year):
            workday = chinese_calendar.is_workday(d)
            if workday:
                name = MAKE_UP_NAME if d.weekday() >= 5 else ""
            else:
                label = chinese_calendar.get_holiday_detail(d)[1]
                name = _CHINESE_NAMES.get(label, label) if label else ""
            days.append(Day(d, workday, name, "official"))
    except NotImplementedError:  # chinese_calendar's way of saying "year not published"
        return None
    return tuple(days)


def official_days(year: int) -> list[Day] | None:
    """Every date of ``year`` as the State Council arranged it, or None if chinese_calendar does
    not know the year (not yet published, or before 2004)."""
    days = _official(year)
    return None if days is None else list(days)


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory public holidays of ``year`` (全国年节及纪念日放假办法, 2025 amendment).

    These are the days off the law fixes before any arrangement: 元旦 1, 春节 4 (除夕 to 初三),
    清明节 1, 劳动节 2, 端午节 1, 中秋节 1, 国庆节 3. When two fall on one date (中秋 on a
    国庆 day) the names are joined. Valid for 1900–2099 (the range of ``lunardate``).
    """
    names: dict[date, list[str]] = {}

    def add(d: date, name: str) -> None:
        names.setdefault(d, []).append(name)

    add(date(year, 1, 1), "元旦")
    # 除夕 is the day before lunar New Year, so no need to know whether month 12 has 29 or 30 days.
    new_year = LunarDate(year, 1, 1).to_solar_date()
    for offset in range(-1, 3):
        add(new_year + timedelta(days=offset), "春节")
    qingming = [
        d
        for d, term in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
        if term == "清明"
    ]
    if len(qingming) != 1:
        raise LookupError(f"chinese_calendar gave no 清明 solar term for {year}")
    add(qingming[0], "清明节")
    add(date(year, 5, 1), "劳动节")
    add(date(year, 5, 2), "劳动节")
    add(LunarDate(year, 5, 5).to_solar_date(), "端午节")
    add(LunarDate(year, 8, 15).to_solar_date(), "中秋节")
    for day in (1, 2, 3):
        add(date(year, 10, day), "国庆节")
    return {d: "、".join(names[d]) for d in sorted(names)}


@cache
def _estimated(year: int) -> tuple[Day, ...]:
    holidays = statutory_holidays(year)
    return tuple(
        Day(d, d.weekday() < 5 and d not in holidays, holidays.get(d, ""), "estimated")
        for d in dates_in(year)
    )


def estimated_days(year: int) -> list[Day]:
    """A stand-in for a year without an official arrangement: weekends and statutory holidays
    off, every other date a workday, and no make-up working weekends (they cannot be guessed).
    """
    return list(_estimated(year))


def days_for(year: int) -> list[Day]:
    """The best calendar we have for ``year``: official when chinese_calendar knows it."""
    days = _official(year)
    return list(days if days is not None else _estimated(year))


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"bad time of day {text!r}; expected HH:MM") from None


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


@dataclass(frozen=True)
class WorkHours:
    """The working periods of a workday, in wall-clock time; configurable per deployment."""

    periods: tuple[tuple[time, time], ...] = (
        (time(8, 30), time(12, 0)),
        (time(14, 0), time(18, 0)),
    )

    def __post_init__(self) -> None:
        periods = tuple(tuple(p) for p in self.periods)  # accept lists from settings
        object.__setattr__(self, "periods", periods)
        if not periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for period in periods:
            if len(period) != 2 or not all(isinstance(t, time) for t in period):
                raise TypeError(f"a working period is a pair of times, not {period!r}")
            start, end = period
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working periods are wall-clock times without a zone")
            if start >= end:
                raise ValueError(f"working period {start}–{end} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("working periods must be in order and must not overlap")
            previous_end = end

    @classmethod
    def parse(cls, text: str) -> WorkHours:
        """``"08:30-12:00,14:00-18:00"`` → WorkHours, for settings and command lines."""
        periods = []
        for part in text.split(","):
            start, sep, end = part.partition("-")
            if not sep:
                raise ValueError(f"bad working period {part!r}; expected HH:MM-HH:MM")
            periods.append((_parse_time(start), _parse_time(end)))
        return cls(tuple(periods))

    @property
    def day_end(self) -> time:
        """When the working day is over: working-day limits fall due then."""
        return self.periods[-1][1]

    @property
    def per_day(self) -> timedelta:
        """Working time in one full workday."""
        return sum((_offset(e) - _offset(s) for s, e in self.periods), _ZERO)


DEFAULT_HOURS = WorkHours()


class _Year:
    """One year of a calendar as flat arrays, so that counting is two lookups."""

    __slots__ = ("base", "days", "estimated", "work", "workdays")

    def __init__(self, days: list[Day]) -> None:
        self.base = days[0].date.toordinal()
        self.days = days
        self.work = bytes(d.workday for d in days)
        # workdays[i] / estimated[i]: how many of the year's first i dates are workdays / estimated.
        self.workdays = [0]
        self.estimated = [0]
        for d in days:
            self.workdays.append(self.workdays[-1] + d.workday)
            self.estimated.append(self.estimated[-1] + (d.source == "estimated"))


def _local(value: datetime) -> datetime:
    """Shanghai wall-clock time without a zone; naive input is refused, never guessed."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: give a timezone (Asia/Shanghai)")
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=SHANGHAI)


def _as_date(value: date) -> date:
    return _local(value).date() if isinstance(value, datetime) else value


class WorkCalendar:
    """Workdays and deadline arithmetic over a set of calendar rows.

    ``days`` are the stored rows (later rows win when a date repeats, so overrides can simply
    be appended). Dates without a row come from ``fallback(year)`` — by default
    :func:`days_for` — so a calendar loaded from a table that stops in 2026 still answers for
    2028, with estimated days. With ``fallback=None`` a missing date raises CalendarGapError.

    Years are turned into arrays with running workday counts on first use and cached, so one
    instance serves a batch job: the span-based methods cost O(years spanned), not O(days).
    The instance is read-only after construction; concurrent use is safe.
    """

    def __init__(
        self,
        days: Iterable[Day] = (),
        hours: WorkHours = DEFAULT_HOURS,
        fallback: Callable[[int], list[Day]] | None = days_for,
    ) -> None:
        self.hours = hours
        self.fallback = fallback
        self._given: dict[int, dict[date, Day]] = {}
        for day in days:
            if not isinstance(day, Day):
                raise TypeError(f"expected Day rows, not {type(day).__name__}")
            self._given.setdefault(day.date.year, {})[day.date] = day
        self._years: dict[int, _Year] = {}
        self._spans = tuple((_offset(s), _offset(e)) for s, e in hours.periods)
        self._per_day = hours.per_day
        self._day_end = self._spans[-1][1]

    # -- days ---------------------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = _Year(self._rows(year))
        return cached

    def _rows(self, year: int) -> list[Day]:
        dates = dates_in(year)
        rows = dict(self._given.get(year, {}))
        if len(rows) < len(dates) and self.fallback is not None:
            rows = {d.date: d for d in self.fallback(year) if d.date.year == year} | rows
        missing = [d for d in dates if d not in rows]
        if missing:
            raise CalendarGapError(
                f"no work calendar row for {missing[0]} ({len(missing)} dates of {year} missing)"
            )
        return [rows[d] for d in dates]

    def day(self, d: date) -> Day:
        """The calendar row for ``d`` (an aware datetime is read as its Shanghai date)."""
        d = _as_date(d)
        year = self._year(d.year)
        return year.days[d.toordinal() - year.base]

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        year = self._year(d.year)
        return bool(year.work[d.toordinal() - year.base])

    def _count(self, start: date, end: date, field: str) -> int:
        """Workdays (``field="workdays"``) or estimated days (``"estimated"``) in [start, end)."""
        if end <= start:
            return 0
        first = self._year(start.year)
        if start.year == end.year:
            counts = getattr(first, field)
            return counts[end.toordinal() - first.base] - counts[start.toordinal() - first.base]
        counts = getattr(first, field)
        total = counts[-1] - counts[start.toordinal() - first.base]
        for y in range(start.year + 1, end.year):
            total += getattr(self._year(y), field)[-1]
        if (end.month, end.day) != (1, 1):
            last = self._year(end.year)
            total += getattr(last, field)[end.toordinal() - last.base]
        return total

    def count_workdays(self, start: date, end: date) -> int:
        """Number of workdays in [start, end)."""
        return self._count(_as_date(start), _as_date(end), "workdays")

    def _any_estimated(self, first: date, last: date) -> bool:
        return self._count(first, last + _ONE_DAY, "estimated") > 0

    def _nth_workday_after(self, d: date, n: int) -> date:
        """The n-th workday strictly after ``d`` (n ≥ 1)."""
        year_no = d.year
        year = self._year(year_no)
        index = d.toordinal() - year.base + 1  # count from the next day
        idle = 0
        while True:
            already = year.workdays[index]  # index ≤ days in the year: always in range
            available = year.workdays[-1] - already
            if n <= available:
                # workdays[k] counts dates before index k, so the n-th workday is at k - 1.
                k = bisect_left(year.workdays, already + n)
                return date.fromordinal(year.base + k - 1)
            n -= available
            idle = idle + 1 if available == 0 else 0
            if idle > _MAX_IDLE_YEARS:
                raise CalendarGapError(f"no workday in the calendar for years after {d}")
            year_no += 1
            year = self._year(year_no)
            index = 0

    # -- deadlines ----------------------------------------------------------------------------

    def _deadline(self, start: date, at_local: datetime) -> Deadline:
        return Deadline(_aware(at_local), self._any_estimated(start, at_local.date()))

    def _consume(
        self, offset: timedelta, remaining: timedelta
    ) -> tuple[timedelta | None, timedelta]:
        """Spend ``remaining`` on a workday's periods after ``offset`` (time since midnight).

        Returns ``(when, _)`` with the offset at which the time runs out that day, or
        ``(None, left)`` when the day's periods are used up with ``left`` still to spend.
        """
        for start, end in self._spans:
            if offset >= end:
                continue
            begin = max(offset, start)
            available = end - begin
            if remaining <= available:
                return begin + remaining, _ZERO
            remaining -= available
        return None, remaining

    def add_working_hours(self, start: datetime, hours: float | timedelta) -> Deadline:
        """The moment ``hours`` of working time after ``start`` (working-hour time limits).

        Working time is the periods of :attr:`hours` on workdays; a start outside them begins
        at the next period. The limit falls due the instant the time is used up, so it can be
        a period's end (a 4 h limit from Friday 17:00 is due Monday 11:30 by default).
        Zero hours is ``start`` itself.
        """
        amount = hours if isinstance(hours, timedelta) else _hours(hours)
        if amount < _ZERO:
            raise ValueError("a time limit cannot be negative")
        local = _local(start)
        first = local.date()
        if amount == _ZERO:
            return self._deadline(first, local)
        remaining = amount
        midnight = datetime.combine(first, _MIDNIGHT)
        if self.is_workday(first):
            when, remaining = self._consume(local - midnight, remaining)
            if when is not None:
                return self._deadline(first, midnight + when)
        # Jump over the whole workdays the remainder fills, then finish on the next one.
        whole = (remaining - timedelta.resolution) // self._per_day
        d = first
        if whole:
            d = self._nth_workday_after(d, whole)
            remaining -= whole * self._per_day
        d = self._nth_workday_after(d, 1)
        when, _ = self._consume(_ZERO, remaining)  # remaining ≤ one day's worth: always fits
        assert when is not None
        return self._deadline(first, datetime.combine(d, _MIDNIGHT) + when)

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The deadline of a limit of ``days`` working days for a case received at ``start``.

        As in 12345 practice, limits count from the next working day: the day of receipt does
        not count, whatever the hour, and the limit runs to the end of the working day (the end
        of the last working period, 18:00 by default) of the ``days``-th workday after the day
        of ``start``. Received Friday with 1 working day → Monday 18:00; with 3 → Wednesday
        18:00 (if those are workdays). ``days=0`` (当日办结) means the end of the day of
        receipt if it is a workday not yet over, else the end of the next workday.
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError("working days must be an int")
        if days < 0:
            raise ValueError("a time limit cannot be negative")
        local = _local(start)
        first = local.date()
        midnight = datetime.combine(first, _MIDNIGHT)
        if days == 0 and self.is_workday(first) and local - midnight <= self._day_end:
            due = first
        else:
            due = self._nth_workday_after(first, max(days, 1))
        return self._deadline(first, datetime.combine(due, _MIDNIGHT) + self._day_end)

    # -- elapsed time -------------------------------------------------------------------------

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The part of [a, b) that falls on workdays, counting whole 24-hour days.

        This is the KPI 平均处置用时 (not working hours): dispatched Friday 17:00 and handled
        Monday 09:00 took 7 h + 9 h = 16 h when the weekend is off. Zero when b ≤ a.
        """
        la, lb = _local(a), _local(b)
        if lb <= la:
            return _ZERO
        da, db = la.date(), lb.date()
        if da == db:
            return lb - la if self.is_workday(da) else _ZERO
        total = self._count(da + _ONE_DAY, db, "workdays") * _ONE_DAY
        if self.is_workday(da):
            total += datetime.combine(da + _ONE_DAY, _MIDNIGHT) - la
        if self.is_workday(db):
            total += lb - datetime.combine(db, _MIDNIGHT)
        return total

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """:meth:`working_time_between` in days of 24 h."""
        return self.working_time_between(a, b) / _ONE_DAY

    def working_hours_between(self, a: datetime, b: datetime) -> timedelta:
        """Working-period time in [a, b): how much of a working-hour limit has been used."""
        la, lb = _local(a), _local(b)
        if lb <= la:
            return _ZERO
        da, db = la.date(), lb.date()
        a_off = la - datetime.combine(da, _MIDNIGHT)
        b_off = lb - datetime.combine(db, _MIDNIGHT)
        if da == db:
            return self._within(da, a_off, b_off)
        total = self._count(da + _ONE_DAY, db, "workdays") * self._per_day
        return total + self._within(da, a_off, _ONE_DAY) + self._within(db, _ZERO, b_off)

    def _within(self, d: date, lo: timedelta, hi: timedelta) -> timedelta:
        """Working-period time of date ``d`` between offsets lo and hi."""
        if not self.is_workday(d):
            return _ZERO
        return sum((max(_ZERO, min(hi, e) - max(lo, s)) for s, e in self._spans), _ZERO)


def _hours(value: float) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"hours must be a number or a timedelta, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"hours must be finite, not {value}")
    return timedelta(hours=value)


# -- time limits as catalogues write them ---------------------------------------------------

_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dh]|天|日|小时|工作日|工作时)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Limit:
    """A time limit: ``amount`` working days (``unit="days"``) or working hours."""

    amount: float
    unit: str

    def __str__(self) -> str:
        n = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{n}{'d' if self.unit == 'days' else 'h'}"

    def hours(self, per_day: timedelta) -> timedelta:
        """The limit as working time, a working day counting ``per_day`` (for comparisons)."""
        if self.unit == "days":
            return per_day * self.amount
        return _hours(self.amount)


def parse_limit(text: str) -> Limit:
    """``3d`` → 3 working days, ``4h`` / ``2.5h`` → working hours; Chinese units too."""
    m = _LIMIT.match(text or "")
    if not m:
        raise ValueError(f"时限格式无效：{text!r}；应为如 3d（3 个工作日）或 4h（4 个工作小时）")
    amount, unit = float(m.group(1)), m.group(2).lower()
    if unit in ("d", "天", "日", "工作日"):
        if not amount.is_integer():
            raise ValueError("工作日时限须为整数天，如 3d")
        return Limit(amount, "days")
    return Limit(amount, "hours")


def add_limit(cal: WorkCalendar, start: datetime, limit: Limit) -> Deadline:
    if limit.unit == "days":
        return cal.add_working_days(start, int(limit.amount))
    return cal.add_working_hours(start, limit.amount)


def carry_over(old: WorkCalendar, new: WorkCalendar, start: datetime, at: datetime) -> Deadline:
    """Where a line that ``old`` put at ``at`` for a case received at ``start`` falls under
    ``new`` (the official days replacing estimated ones, DESIGN §6): the same working time
    after ``start``. A line at the end of a working day — where every limit in days ends —
    stays at the end of the same count of workdays after the day of ``start``, as
    :meth:`WorkCalendar.add_working_days` counts them; any other line keeps its working
    hours. A line not after ``start`` stays where it is."""
    ls, la = _local(start), _local(at)
    if la <= ls:
        return Deadline(at, new._any_estimated(la.date(), la.date()))
    first, last = ls.date(), la.date()
    if (
        last > first
        and la - datetime.combine(last, _MIDNIGHT) == old._day_end
        and old.is_workday(last)
    ):
        return new.add_working_days(
            start, old._count(first + _ONE_DAY, last + _ONE_DAY, "workdays")
        )
    return new.add_working_hours(start, old.working_hours_between(start, at))


def rests_on_estimated(cal: WorkCalendar, start: datetime, at: datetime) -> bool:
    """Whether an estimated day lies between ``start`` and ``at`` (both included)."""
    return cal._any_estimated(_local(start).date(), _local(at).date())
