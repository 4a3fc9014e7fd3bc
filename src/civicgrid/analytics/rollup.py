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

A periodic job (``refresh``, every 30 s) keeps it up to date in one transaction, readers keep
the previous state meanwhile; the API reads it only when the refresh started less than
``MAX_AGE`` ago and computes live otherwise — never staler than a minute. The first refresh
(and any after the work calendar changed) rebuilds it in full and keeps every event's facts in
``analytics_rollupfact``; later ones recount only the events that database triggers marked in
``analytics_rollupdirty`` (triggers, because ``QuerySet.update`` and ``save(update_fields=)``
leave ``updated_at`` alone): their kept facts are subtracted, their present ones added. Counts
and sums are exact; the working-seconds sum may differ from a rebuild in the last float bits.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction

MAX_AGE = dt.timedelta(seconds=60)
LOCK_KEY = 0x63677231  # pg advisory lock of the rebuild
DIMS = {"department": 1, "category": 2, "channel": 3}
REGION_LEVELS = ("district", "street", "community")


def _facts(ids: str = "") -> str:
    """One row per event: its dimensions, the local day numbers and per-event measures; with
    ``ids`` (a subquery of event ids) only those events."""
    from civicgrid.analytics.selectors import _day, _epoch, _w

    working = (
        "CASE WHEN x.eh > x.es AND cs.day IS NOT NULL AND ch.day IS NOT NULL "
        f"THEN {_w('x.eh', 'ch')} - {_w('x.es', 'cs')} ELSE 0 END"
    )
    only = f"AND e.id IN ({ids})" if ids else ""
    only_t = f"AND event_id IN ({ids})" if ids else ""
    return f"""
    SELECT x.id AS event_id, x.district, x.street, x.community, x.cls, x.dept, x.channel,
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
      SELECT e.id, e.district_code AS district,
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
      LEFT JOIN (
        SELECT event_id, COUNT(*) AS n FROM events_task WHERE lead {only_t} GROUP BY event_id
      ) t ON t.event_id = e.id
      WHERE 1 = 1 {only}
    ) x
    LEFT JOIN analytics_calendarday cs ON cs.day = {_day("x.es")}
    LEFT JOIN analytics_calendarday ch ON ch.day = {_day("x.eh")}
    """


NF = "CAST(NULL AS DOUBLE PRECISION)"  # typed, for the UNION on PostgreSQL
NI = "CAST(NULL AS INTEGER)"
# The facts ``f`` carry a sign ``sg``: +1 for a contribution, -1 for one taken back, so the
# same statements build the rollup (all +1) and the delta of an incremental refresh.
CNT = "SUM(f.sg)"


def _sum(col: str) -> str:
    return f"SUM(f.sg * f.{col})"


_MIN = "MIN(CASE WHEN f.sg > 0 THEN f.wall END)"
# (kind, d1, d2, condition, n, x1, x2, x3, secs, minwall)
_KINDS = [
    (1, "f.da", NI, "f.da IS NOT NULL", CNT, _sum("on_spot"), "0", "0", "0.0", NF),
    (
        2,
        "f.dd",
        "f.dc",
        "f.accepted AND (f.dd IS NOT NULL OR f.dc IS NOT NULL)",
        CNT,
        _sum("ontime"),
        _sum("reo"),
        "0",
        "0.0",
        NF,
    ),
    (3, "f.dh", NI, "f.dh IS NOT NULL", CNT, "0", "0", "0", _sum("work"), _MIN),
    (4, "f.dc", NI, "f.dc IS NOT NULL", "0", _sum("rated"), _sum("sat"), "0", "0.0", NF),
    (
        5,
        "f.dp",
        NI,
        "f.dp IS NOT NULL",
        CNT,
        _sum("contacted"),
        _sum("tasks"),
        _sum("returned_count"),
        "0.0",
        NF,
    ),
]
_COLUMNS = "dim, district, street, community, dkey, kind, d1, d2, n, x1, x2, x3, secs, minwall, cnt"
_KEYS = ("dim", "district", "street", "community", "dkey", "kind", "d1", "d2")
_FACT_COLUMNS = (
    "event_id, district, street, community, cls, dept, channel, da, dd, dc, dh, dp, accepted, "
    "on_spot, ontime, reo, rated, sat, contacted, tasks, returned_count, work, wall"
)

_CONST = ("''", NI, NF)
# (dim, district, street, community, dkey) of each rollup
_GROUPINGS = [
    (0, "f.district", "f.street", "f.community", "''"),
    (4, "f.district", "f.street", "''", "''"),
    (5, "f.district", "''", "''", "''"),
    (1, "f.district", "''", "''", "f.dept"),
    (2, "f.district", "''", "''", "f.cls"),
    (3, "f.district", "''", "''", "f.channel"),
]


def _selects(delta: bool = False) -> list[str]:
    """The rollup rows from the facts ``f``; with ``delta`` also the least wall time taken
    back per bucket (``oldmin``), which tells where the minimum must be recomputed."""
    out = []
    for dim, district, street, community, dkey in _GROUPINGS:
        for kind, d1, d2, cond, n, x1, x2, x3, secs, mw in _KINDS:
            old = ", MIN(CASE WHEN f.sg < 0 THEN f.wall END)" if kind == 3 else f", {NF}"
            keys = [c for c in (district, street, community, dkey, d1, d2) if c not in _CONST]
            out.append(
                f"SELECT {dim}, {district}, {street}, {community}, {dkey}, {kind}, {d1}, {d2}, "
                f"{n}, {x1}, {x2}, {x3}, {secs}, {mw}, {CNT}{old if delta else ''} "
                f"FROM f WHERE {cond} "
                f"GROUP BY {', '.join(keys)}"
            )
    return out


def _key(col: str) -> str:
    """A rollup key column made comparable with ``=`` (no key is NULL but the days: ``d1`` of a
    kind-2 row without deadline, ``d2``), so that PostgreSQL can hash-join:
    ``IS NOT DISTINCT FROM`` does not allow it."""
    return f"COALESCE({col}, -1)" if col.endswith(("d1", "d2")) else col


def _same(a: str, b: str) -> str:
    return f"{_key(a)} = {_key(b)}"


def refresh(full: bool = False) -> dict:
    """Bring the rollup up to date in one transaction: incrementally from the events marked
    changed since the last refresh, or rebuilt in full the first time, when the work calendar
    changed or when asked. Returns its size, time and how many events were recounted."""
    from civicgrid.analytics.models import CalendarStamp, RollupState
    from civicgrid.analytics.services import ensure_calendar

    ensure_calendar()
    started = time.perf_counter()
    snapshot = dt.datetime.now(dt.UTC)
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # one refresh at a time: every server process schedules it, and two concurrent
            # ones would each apply the same changes (SQLite serialises writers itself)
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cur.fetchone()[0]:
                return {"rows": 0, "seconds": 0.0, "skipped": True}
            cur.execute("SET LOCAL work_mem = '256MB'")
        stamp = CalendarStamp.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""
        state = RollupState.objects.filter(pk=1).first()
        if full or state is None or state.calendar != stamp:
            changed = _rebuild(cur)
            mode = "full"
        else:
            changed = _apply_changes(cur)
            mode = "incremental"
        rows = RollupState.objects.filter(pk=1).values_list("rows", flat=True).first() or 0
        if mode == "full":
            cur.execute("SELECT COUNT(*) FROM analytics_rollup")
            rows = cur.fetchone()[0]
        RollupState.objects.update_or_create(
            pk=1, defaults={"snapshot": snapshot, "rows": rows, "calendar": stamp}
        )
    if connection.vendor == "postgresql" and mode == "full":
        with connection.cursor() as cur:
            cur.execute("ANALYZE analytics_rollup")
            cur.execute("ANALYZE analytics_rollupfact")
    return {
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 3),
        "mode": mode,
        "events": changed,
    }


def _rebuild(cur) -> int:
    """The whole rollup from every event; the change marks up to now are then consumed."""
    cur.execute("SELECT MAX(id) FROM analytics_rollupdirty")
    top = cur.fetchone()[0]
    cur.execute("DELETE FROM analytics_rollupfact")
    cur.execute(
        f"INSERT INTO analytics_rollupfact ({_FACT_COLUMNS}) SELECT {_FACT_COLUMNS} "
        f"FROM ({_facts()}) y",
        {},  # with parameters, so that %% reads as % on both databases
    )
    events = cur.rowcount
    if top is not None:
        # marks by transactions still running now are kept and recounted next time (harmless)
        cur.execute("DELETE FROM analytics_rollupdirty WHERE id <= %s", [top])
    cur.execute("DELETE FROM analytics_rollup")
    cur.execute(
        f"INSERT INTO analytics_rollup ({_COLUMNS}) "
        f"WITH f AS (SELECT *, 1 AS sg FROM analytics_rollupfact) " + " UNION ALL ".join(_selects())
    )
    return events


def _apply_changes(cur) -> int:
    """Recount the marked events: take out their previous contributions (kept in
    ``analytics_rollupfact``), add their present ones, recompute the 最快 minimum of the day
    buckets they touched. Exactly what a full rebuild would give for the same events."""
    cur.execute("SELECT id, event_id FROM analytics_rollupdirty")
    marks = cur.fetchall()
    if not marks:
        return 0
    ids = sorted({e for _i, e in marks})
    cur.execute("CREATE TEMP TABLE rollup_ids (id BIGINT PRIMARY KEY)")
    cur.executemany("INSERT INTO rollup_ids (id) VALUES (%s)", [(i,) for i in ids])
    cur.execute(
        f"CREATE TEMP TABLE rollup_new AS SELECT {_FACT_COLUMNS} "
        f"FROM ({_facts('SELECT id FROM rollup_ids')}) y",
        {},
    )
    cols = _FACT_COLUMNS
    cur.execute(
        f"CREATE TEMP TABLE rollup_delta AS WITH f AS ("
        f"SELECT {cols}, 1 AS sg FROM rollup_new UNION ALL "
        f"SELECT {cols}, -1 AS sg FROM analytics_rollupfact "
        f"WHERE event_id IN (SELECT id FROM rollup_ids)), d ({_COLUMNS}, oldmin) AS ("
        f"{' UNION ALL '.join(_selects(delta=True))}) SELECT * FROM d"
    )

    if connection.vendor == "postgresql":
        cur.execute("ANALYZE rollup_delta")  # temporary tables have no statistics otherwise

    def d(col: str) -> str:
        return f"rollup_delta.{col}"

    match = " AND ".join(_same(f"analytics_rollup.{k}", d(k)) for k in _KEYS)
    lower = (
        f"minwall = CASE WHEN analytics_rollup.minwall IS NULL OR {d('minwall')} < "
        f"analytics_rollup.minwall THEN {d('minwall')} ELSE analytics_rollup.minwall END, "
    )
    sets = lower + ", ".join(
        f"{c} = analytics_rollup.{c} + {d(c)}" for c in ("n", "x1", "x2", "x3", "secs", "cnt")
    )
    cur.execute(f"UPDATE analytics_rollup SET {sets} FROM rollup_delta WHERE {match}")
    cur.execute(
        f"INSERT INTO analytics_rollup ({_COLUMNS}) SELECT "
        + ", ".join(d(c) for c in _COLUMNS.split(", "))
        + f" FROM rollup_delta WHERE NOT EXISTS (SELECT 1 FROM analytics_rollup WHERE {match})"
    )
    cur.execute("DELETE FROM analytics_rollup WHERE cnt <= 0")
    # the facts now hold the present contributions
    cur.execute("DELETE FROM analytics_rollupfact WHERE event_id IN (SELECT id FROM rollup_ids)")
    cur.execute(f"INSERT INTO analytics_rollupfact ({cols}) SELECT {cols} FROM rollup_new")
    # a minimum cannot be taken back: recompute it where the least wall time taken back was
    # the bucket's minimum (and no new one is lower)
    for dim, district, street, community, dkey in _GROUPINGS:
        g = {"district": district, "street": street, "community": community, "dkey": dkey}
        conds = " AND ".join(_same(f"analytics_rollup.{k}", v) for k, v in g.items() if v != "''")
        cur.execute(
            "UPDATE analytics_rollup SET minwall = ("
            f"SELECT MIN(f.wall) FROM analytics_rollupfact f "
            f"WHERE f.dh = analytics_rollup.d1 AND {conds}) "
            f"WHERE analytics_rollup.dim = {dim} AND analytics_rollup.kind = 3 AND EXISTS ("
            f"SELECT 1 FROM rollup_delta WHERE {match} "
            f"AND rollup_delta.oldmin <= analytics_rollup.minwall)"
        )
    # only the marks read above: one committed meanwhile is recounted next time
    done = [i for i, _e in marks]
    for k in range(0, len(done), 500):
        chunk = done[k : k + 500]
        cur.execute(
            f"DELETE FROM analytics_rollupdirty WHERE id IN ({', '.join(['%s'] * len(chunk))})",
            chunk,
        )
    for t in ("rollup_delta", "rollup_new", "rollup_ids"):
        cur.execute(f"DROP TABLE {t}")
    return len(ids)


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
