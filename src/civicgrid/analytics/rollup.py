"""Daily rollups of the KPI counts, so a city-wide query reads thousands of rows, not millions.

Every count of DESIGN §10 is a sum over events of a contribution that depends on at most two
local dates of the event, so the rollup stores, per region (community) or per district × one
dimension (department, class, channel), and per *kind* of contribution:

====  ==========================  ========================================================
kind  d1 (d2)                     n, x1, x2, x3, secs, minwall
====  ==========================  ========================================================
1     accepted day                accepted, on the spot
2     deadline day (closed day)   events, closed on time, reopened (of those closed)
3     handled day                 handled, —, —, —, working seconds, fastest seconds
4     closed day                  —, rated, satisfied
5     first dispatch day          dispatched, contacted within 24 h, lead tasks, returned
====  ==========================  ========================================================

Kind 2 keeps the pair (deadline day, closed day) because 应结案 and 结案 need both: an event is
due when either lies in the period and closed when, besides, the closed day is not after it.
With day numbers the period test is exact, so a query over the rollup equals the live query
(``selectors._sql``) and a recomputation from the export; the tests hold all three equal.

The rollup is rebuilt as a whole by a periodic job (``refresh``, every 30 s) inside one
transaction, readers keep the previous one meanwhile; the API reads it only when the build
started less than ``MAX_AGE`` ago and computes live otherwise — never staler than a minute.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction

MAX_AGE = dt.timedelta(seconds=60)
LOCK_KEY = 0x63677231  # pg advisory lock of the rebuild
DIMS = {"department": 1, "category": 2, "channel": 3}
REGION_LEVELS = ("district", "street", "community")


def _facts() -> str:
    """One row per event: its dimensions, the local day numbers and per-event measures."""
    from civicgrid.analytics.selectors import _day, _epoch, _w

    working = (
        "CASE WHEN x.eh > x.es AND cs.day IS NOT NULL AND ch.day IS NOT NULL "
        f"THEN {_w('x.eh', 'ch')} - {_w('x.es', 'cs')} ELSE 0 END"
    )
    return f"""
    SELECT x.district, x.street, x.community, x.cls, x.dept, x.channel,
      CASE WHEN x.acc IS NULL THEN NULL ELSE {_day("x.acc")} END AS da,
      CASE WHEN x.acc IS NULL OR x.dl IS NULL THEN NULL ELSE {_day("x.dl")} END AS dd,
      CASE WHEN x.cl IS NULL THEN NULL ELSE {_day("x.cl")} END AS dc,
      CASE WHEN x.es IS NULL OR x.eh IS NULL THEN NULL ELSE {_day("x.eh")} END AS dh,
      CASE WHEN x.dp IS NULL THEN NULL ELSE {_day("x.dp")} END AS dp,
      x.acc IS NOT NULL AS accepted,
      CASE WHEN x.on_spot THEN 1 ELSE 0 END AS on_spot,
      CASE WHEN x.cl IS NOT NULL AND (x.dl IS NULL OR x.eh <= x.dl) THEN 1 ELSE 0 END AS ontime,
      CASE WHEN x.cl IS NOT NULL AND x.reopened_count > 0 THEN 1 ELSE 0 END AS reo,
      CASE WHEN x.rating <> '' THEN 1 ELSE 0 END AS rated,
      CASE WHEN x.rating IN ('satisfied', 'basic') THEN 1 ELSE 0 END AS sat,
      CASE WHEN x.ct IS NOT NULL AND x.ct - x.dp <= 86400 THEN 1 ELSE 0 END AS contacted,
      x.tasks, x.returned_count,
      {working} AS work,
      x.eh - x.es AS wall
    FROM (
      SELECT e.district_code AS district,
        SUBSTR(e.region_path, 15, 9) AS street,
        SUBSTR(e.region_path, 25, 12) AS community,
        COALESCE(SUBSTR(e.category_id, 1, 2), '-') AS cls,
        COALESCE(d.code, '-') AS dept,
        e.channel,
        {_epoch("e.accepted_at")} AS acc,
        {_epoch("e.deadline")} AS dl,
        {_epoch("e.closed_at")} AS cl,
        {_epoch("COALESCE(e.resolved_at, e.closed_at)")} AS eh,
        {_epoch("COALESCE(e.dispatched_at, e.accepted_at)")} AS es,
        {_epoch("e.dispatched_at")} AS dp,
        {_epoch("e.contacted_at")} AS ct,
        e.on_spot, e.rating, e.reopened_count, e.returned_count,
        COALESCE(t.n, 0) AS tasks
      FROM events_event e
      LEFT JOIN accounts_department d ON d.id = e.department_id
      LEFT JOIN (SELECT event_id, COUNT(*) AS n FROM events_task WHERE lead GROUP BY event_id) t
        ON t.event_id = e.id
    ) x
    LEFT JOIN analytics_calendarday cs ON cs.day = {_day("x.es")}
    LEFT JOIN analytics_calendarday ch ON ch.day = {_day("x.eh")}
    """


NF = "CAST(NULL AS DOUBLE PRECISION)"  # typed, for the UNION on PostgreSQL
NI = "CAST(NULL AS INTEGER)"
# (kind, d1, d2, condition, n, x1, x2, x3, secs, minwall) over the facts ``f``
_KINDS = [
    (1, "f.da", NI, "f.da IS NOT NULL", "COUNT(*)", "SUM(f.on_spot)", "0", "0", "0.0", NF),
    (
        2,
        "f.dd",
        "f.dc",
        "f.accepted AND (f.dd IS NOT NULL OR f.dc IS NOT NULL)",
        "COUNT(*)",
        "SUM(f.ontime)",
        "SUM(f.reo)",
        "0",
        "0.0",
        NF,
    ),
    (
        3,
        "f.dh",
        NI,
        "f.dh IS NOT NULL",
        "COUNT(*)",
        "0",
        "0",
        "0",
        "SUM(f.work)",
        "MIN(f.wall)",
    ),
    (4, "f.dc", NI, "f.dc IS NOT NULL", "0", "SUM(f.rated)", "SUM(f.sat)", "0", "0.0", NF),
    (
        5,
        "f.dp",
        NI,
        "f.dp IS NOT NULL",
        "COUNT(*)",
        "SUM(f.contacted)",
        "SUM(f.tasks)",
        "SUM(f.returned_count)",
        "0.0",
        NF,
    ),
]
_COLUMNS = "dim, district, street, community, dkey, kind, d1, d2, n, x1, x2, x3, secs, minwall"


_CONST = ("''", NI, NF)


def _selects() -> list[str]:
    out = []
    groupings = [
        (0, "f.district", "f.street", "f.community", "''"),
        (4, "f.district", "f.street", "''", "''"),
        (5, "f.district", "''", "''", "''"),
        (1, "f.district", "''", "''", "f.dept"),
        (2, "f.district", "''", "''", "f.cls"),
        (3, "f.district", "''", "''", "f.channel"),
    ]
    for dim, district, street, community, dkey in groupings:
        for kind, d1, d2, cond, n, x1, x2, x3, secs, mw in _KINDS:
            keys = [c for c in (district, street, community, dkey, d1, d2) if c not in _CONST]
            out.append(
                f"SELECT {dim}, {district}, {street}, {community}, {dkey}, {kind}, {d1}, {d2}, "
                f"{n}, {x1}, {x2}, {x3}, {secs}, {mw} FROM f WHERE {cond} "
                f"GROUP BY {', '.join(keys)}"
            )
    return out


def refresh() -> dict:
    """Rebuild the rollup from the events, in one transaction; returns its size and time."""
    from civicgrid.analytics.models import RollupState
    from civicgrid.analytics.services import ensure_calendar

    ensure_calendar()
    started = time.perf_counter()
    snapshot = dt.datetime.now(dt.UTC)
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # one rebuild at a time: every server process schedules it, and two concurrent
            # DELETE + INSERT would each keep their own rows (SQLite serialises writers itself)
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cur.fetchone()[0]:
                return {"rows": 0, "seconds": 0.0, "skipped": True}
            cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("DELETE FROM analytics_rollup")
        cur.execute(
            f"INSERT INTO analytics_rollup ({_COLUMNS}) "
            f"WITH f AS {materialized}({_facts()}) " + " UNION ALL ".join(_selects()),
            {},  # with parameters, so that %% reads as % on both databases
        )
        rows = cur.rowcount
        RollupState.objects.update_or_create(pk=1, defaults={"snapshot": snapshot, "rows": rows})
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE analytics_rollup")
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 3)}


def fresh(now: dt.datetime | None = None) -> bool:
    from django.conf import settings

    from civicgrid.analytics.models import RollupState

    if not getattr(settings, "ANALYTICS_ROLLUP", True):
        return False
    snap = RollupState.objects.filter(pk=1).values_list("snapshot", flat=True).first()
    now = now or dt.datetime.now(dt.UTC)
    return snap is not None and now - snap <= MAX_AGE


def usable(scope_level: str, group: str) -> bool:
    """Whether the rollup answers this question: every region grouping; the other dimensions
    for the city or a district (they are rolled up per district)."""
    if group in ("", "month", *REGION_LEVELS):
        return True
    return scope_level in ("city", "district")


_RANK = {"city": 0, "district": 1, "street": 2, "community": 3}
_DIM_AT = {0: 5, 1: 5, 2: 4, 3: 0}  # the coarsest region rollup that still tells them apart


def _dim(scope_level: str, group: str) -> int:
    if group in DIMS:
        return DIMS[group]
    return _DIM_AT[max(_RANK.get(scope_level, 3), _RANK.get(group, 0))]


def sql(scope_level: str, group: str, months: list[tuple[str, int, int]] | None = None) -> str:
    """The counts in ``selectors._FIELDS`` order per group key; with ``months`` (label, first
    day, last day) one scan answers every month, keyed by label."""
    lo, hi = ("m.mf", "m.ml") if months else ("%(f)s", "%(l)s")

    def between(col: str) -> str:
        return f"({col} BETWEEN {lo} AND {hi})"

    due = f"({between('d1')} OR {between('d2')})"
    closed = f"{due} AND d2 <= {hi}"
    dim = _dim(scope_level, group)
    key = {"district": "district", "street": "street", "community": "community"}.get(group)
    key = "m.label" if months else key or ("dkey" if group in DIMS else "''")
    where = [f"dim = {dim}"]
    if scope_level in REGION_LEVELS:
        where.append(f"{scope_level} = %(code)s")
    source = "analytics_rollup"
    if months:
        values = " UNION ALL ".join(
            f"SELECT '{label}' AS label, {int(f)} AS mf, {int(lo_)} AS ml"
            for label, f, lo_ in months
        )
        source += f" JOIN ({values}) m ON {due}"
    else:
        where.append(due)

    def s(kind: int, cond: str, col: str) -> str:
        return f"SUM(CASE WHEN kind = {kind} AND {cond} THEN {col} ELSE 0 END)"

    a = h = c = p = between("d1")
    return f"""
    SELECT {key},
      {s(1, a, "n")}, {s(1, a, "x1")},
      {s(2, due, "n")}, {s(2, closed, "n")}, {s(2, closed, "x1")},
      {s(3, h, "n")}, {s(4, c, "x1")}, {s(4, c, "x2")}, {s(2, closed, "x2")},
      {s(5, p, "n")}, {s(5, p, "x1")}, {s(5, p, "x2")}, {s(5, p, "x3")},
      {s(3, h, "secs")},
      MIN(CASE WHEN kind = 3 AND {h} THEN minwall END)
    FROM {source}
    WHERE {" AND ".join(where)}
    {"" if key == "''" else f"GROUP BY {key}"}
    """
