"""The KPIs of DESIGN §10 as plain functions over raw event rows — the definition.

This module knows nothing of the ORM or the web. The database query in ``selectors`` computes
the same numbers set-based; the tests hold the two equal over the rows that ``civicgrid export
events`` writes, so anyone can recompute a dashboard from the export with this file alone.

Where §10 leaves a choice, it is made here and said once:

* An event with no deadline (closed on the spot, a consultation answered at intake) cannot be
  late: it counts as closed on time when it is closed.
* 发回重办率 counts events, not re-handlings: closed events that were ever reopened ÷ closed.
* 退单率 counts lead tasks: returned lead tasks (``returned_count``) ÷ lead tasks dispatched
  (``tasks``), over events first dispatched in the period.
* 响应率: events first dispatched in the period whose handler contacted the citizen within 24
  h of that dispatch ÷ those dispatched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DAYS = 5 * 366  # a period longer than 5 years is refused
DAY = dt.timedelta(days=1)
CONTACT_WITHIN = dt.timedelta(hours=24)
SATISFIED = ("satisfied", "basic")

# the numbers of one metrics row, in the order of the API and the XLSX sheets
COUNTS = (
    "accepted",
    "on_spot",
    "due",
    "closed",
    "closed_on_time",
    "handled",
    "rated",
    "satisfied",
    "reopened",
    "dispatched",
    "contacted",
    "tasks",
    "returned",
)
RATES = (
    "completion_rate",
    "on_time_rate",
    "avg_working_days",
    "fastest_seconds",
    "satisfaction_rate",
    "response_rate",
    "returned_rate",
    "reopened_rate",
)
LABELS = {
    "accepted": "受理量",
    "on_spot": "自行处置数",
    "due": "应结案数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "completion_rate": "结案率",
    "on_time_rate": "按期结案率",
    "avg_working_days": "平均处置用时（工作日）",
    "fastest_seconds": "最快用时（秒）",
    "satisfaction_rate": "满意率",
    "response_rate": "响应率",
    "returned_rate": "退单率",
    "reopened_rate": "发回重办率",
}


@dataclass(frozen=True)
class Period:
    """Local dates (Asia/Shanghai), both ends included."""

    first: dt.date
    last: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(0), SHANGHAI)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period."""
        return dt.datetime.combine(self.last + DAY, dt.time(0), SHANGHAI)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, t: dt.datetime | None) -> bool:
        return t is not None and self.start <= t < self.end

    def previous(self) -> Period:
        """The same number of days just before."""
        return Period(self.first - self.days * DAY, self.first - DAY)

    def last_year(self) -> Period:
        return Period(_year_before(self.first), _year_before(self.last))

    def months(self) -> list[tuple[str, Period]]:
        """The calendar months the period touches, each clipped to the period."""
        out = []
        d = self.first
        while d <= self.last:
            nxt = dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)
            out.append((f"{d:%Y-%m}", Period(d, min(self.last, nxt - DAY))))
            d = nxt
        return out


def _year_before(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


FIRST_YEAR, LAST_YEAR = 2000, 2099  # periods outside have no events and no calendar


def check_period(first: dt.date, last: dt.date) -> str | None:
    """Why a period is refused, or None."""
    if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
        return f"日期须在 {FIRST_YEAR} 年至 {LAST_YEAR} 年之间"
    if first > last:
        return "起始日期不能晚于结束日期"
    if (last - first).days + 1 > MAX_DAYS:
        return "统计区间不能超过 5 年"
    return None


def start_of(row: Mapping) -> dt.datetime | None:
    return row.get("dispatched_at") or row.get("accepted_at")


def handled_of(row: Mapping) -> dt.datetime | None:
    return row.get("resolved_at") or row.get("closed_at")


def empty() -> dict:
    return {k: 0 for k in COUNTS} | {"working_seconds": 0.0, "fastest_seconds": None}


def add(acc: dict, row: Mapping, p: Period) -> None:
    """Add one raw event row's contributions in period ``p`` to the counts ``acc``.

    ``row`` has the export's fields as aware datetimes (or None), ``rating`` text, counts as
    ints, and ``working_seconds`` (``start`` → ``handled`` on workdays) when handled.
    """
    accepted_at, closed_at, deadline = row["accepted_at"], row["closed_at"], row["deadline"]
    start, handled = start_of(row), handled_of(row)
    if p.contains(accepted_at):
        acc["accepted"] += 1
        acc["on_spot"] += 1 if row.get("on_spot") else 0
    if accepted_at is not None and (p.contains(deadline) or p.contains(closed_at)):
        acc["due"] += 1
        if closed_at is not None and closed_at < p.end:
            acc["closed"] += 1
            acc["reopened"] += 1 if row["reopened_count"] else 0
            if deadline is None or handled <= deadline:
                acc["closed_on_time"] += 1
    if start is not None and p.contains(handled):
        acc["handled"] += 1
        acc["working_seconds"] += row["working_seconds"]
        wall = (handled - start).total_seconds()
        best = acc["fastest_seconds"]
        acc["fastest_seconds"] = wall if best is None else min(best, wall)
    if p.contains(closed_at) and row.get("rating"):
        acc["rated"] += 1
        acc["satisfied"] += 1 if row["rating"] in SATISFIED else 0
    dispatched_at = row.get("dispatched_at")
    if p.contains(dispatched_at):
        acc["dispatched"] += 1
        contacted = row.get("contacted_at")
        if contacted is not None and contacted - dispatched_at <= CONTACT_WITHIN:
            acc["contacted"] += 1
        acc["tasks"] += row.get("tasks") or 0
        acc["returned"] += row["returned_count"]


def _rate(num: float, den: float) -> float | None:
    return None if not den else num / den


def finish(acc: Mapping) -> dict:
    """Counts → the published row: counts plus rates (None on a zero denominator)."""
    out = {k: int(acc[k]) for k in COUNTS}
    fastest = acc.get("fastest_seconds")
    out |= {
        "completion_rate": _rate(acc["closed"], acc["due"]),
        "on_time_rate": _rate(acc["closed_on_time"], acc["due"]),
        "avg_working_days": _rate(acc["working_seconds"] / 86400.0, acc["handled"]),
        "fastest_seconds": None if fastest is None else round(float(fastest), 3),
        "satisfaction_rate": _rate(acc["satisfied"], acc["rated"]),
        "response_rate": _rate(acc["contacted"], acc["dispatched"]),
        "returned_rate": _rate(acc["returned"], acc["tasks"]),
        "reopened_rate": _rate(acc["reopened"], acc["closed"]),
    }
    return out


def compute(
    rows: Iterable[Mapping],
    p: Period,
    key: Callable[[Mapping], str | None] = lambda r: "",
) -> dict[str, dict]:
    """{group key: metrics row} over raw rows; rows whose key is None are left out."""
    groups: dict[str, dict] = {}
    for row in rows:
        k = key(row)
        if k is None:
            continue
        add(groups.setdefault(k, empty()), row, p)
    return {k: finish(v) for k, v in groups.items()}


def working_seconds(working_days_between: Callable, row: Mapping) -> float:
    """Workday seconds from start to handled (0 when not handled), by the given calendar."""
    start, handled = start_of(row), handled_of(row)
    if start is None or handled is None:
        return 0.0
    return working_days_between(start, handled) * 86400.0
