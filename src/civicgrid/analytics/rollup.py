"""Daily rollups of the KPI counts, so a city-wide query reads thousands of rows, not millions.

Every count of DESIGN §10 is a sum over events of a contribution that depends on at most two
local dates of the event, so the rollup stores, per region (community, street, district) or per
district × one dimension (department, class, channel), and per *kind* of contribution:

====  ==========================  ========================================================
kind  d1 (d2)                     n, x1, x2, x3, secs, minwall
====  ==========================  ========================================================
1     accepted day                accepted, on the spot
3     handled day                 handled, —, —, —, working seconds, fastest seconds
4     closed day                  —, rated, satisfied
5     first dispatch day          dispatched, contacted within 24 h, lead tasks, returned
6     deadline day                accepted events with that deadline
7     closed day                  accepted events closed, on time, reopened, without deadline
8     any day x                   deadline <= x < closed; closed <= x < deadline, on time,
                                  reopened (the events whose two days straddle x)
2, 9  deadline day (closed day)   events, on time, reopened — only pairs 2 or more days
                                  apart: kind 2 under ``SHORT`` days, kind 9 the rest
====  ==========================  ========================================================

应结案 and 结案 need both the deadline day dd and the closed day dc (due: either lies in the
period P = [F, L]; closed: besides, dc <= L). Counted per pair, that is one row per event and
bucket. Instead: due = #(dd in P) + #(dc in P, no dd) + #(dc in P, dd before F) + #(dc in P, dd
after L), and closed = #(dc in P) + #(dd in P, dc before F). The last terms are the events
straddling F - 1 | F or L | L + 1 (kind 8 on F - 1 and on L) less those spanning all of P, whose
days are more than len(P) apart: a query reads kinds 1, 3-7 on the days of P, kind 8 on two
days, the long pairs (kind 9, rare) and, for a period under ``SHORT`` days, the short pairs
(kind 2) near P. With day numbers every test is exact, so a query over the rollup equals the
live query (``selectors._sql``) and a recomputation from the export; the tests hold all three
equal, over periods of every length.

A periodic job (``refresh``, every 30 s) keeps it up to date in one transaction, readers keep
the previous state meanwhile; the API reads it only when the refresh started less than
``MAX_AGE`` ago and computes live otherwise — never staler than a minute. The first refresh
(and any after the work calendar changed) rebuilds it in full and keeps every event's facts in
``analytics_rollupfact``; later ones recount only the events that database triggers marked in
``analytics_rollupdirty`` (triggers, because ``QuerySet.update`` and ``save(update_fields=)``
leave ``updated_at`` alone): their kept facts are subtracted, their present ones added. Counts
and sums are exact; the working-seconds sum may differ from a rebuild in the last float bits.
On PostgreSQL a query reads the rows from one covering index alone, which needs the pages
marked all-visible: each refresh that changed something ends with a VACUUM of the rollup.
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
    from civicgrid.analytics.selectors import _day, event_times, working

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
      {working()} AS work,
      x.eh - x.es AS wall
    FROM (
      SELECT e.id, e.district_code AS district,
        SUBSTR(e.region_path, 15, 9) AS street,
        SUBSTR(e.region_path, 25, 12) AS community,
        COALESCE(SUBSTR(e.category_id, 1, 2), '-') AS cls,
        COALESCE(d.code, '-') AS dept,
        e.channel, {event_times()},
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
SHORT = 28  # pairs of days this far apart or more are "long" (kind 9), read for any period
_LO = "CASE WHEN f.dd < f.dc THEN f.dd ELSE f.dc END"
_HI = "CASE WHEN f.dd < f.dc THEN f.dc ELSE f.dd END"
_PAIR = "f.accepted AND f.dd IS NOT NULL AND f.dc IS NOT NULL"
_SPAN = f"({_HI} - {_LO})"
# (kind, d1, d2, condition, n, x1, x2, x3, secs, minwall)
_KINDS = [
    (1, "f.da", NI, "f.da IS NOT NULL", CNT, _sum("on_spot"), "0", "0", "0.0", NF),
    (
        2,
        "f.dd",
        "f.dc",
        f"{_PAIR} AND {_SPAN} BETWEEN 2 AND {SHORT - 1}",
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
    (6, "f.dd", NI, "f.accepted AND f.dd IS NOT NULL", CNT, "0", "0", "0", "0.0", NF),
    (
        7,
        "f.dc",
        NI,
        "f.accepted AND f.dc IS NOT NULL",
        CNT,
        _sum("ontime"),
        _sum("reo"),
        "SUM(CASE WHEN f.dd IS NULL THEN f.sg ELSE 0 END)",
        "0.0",
        NF,
    ),
    (
        9,
        "f.dd",
        "f.dc",
        f"{_PAIR} AND {_SPAN} >= {SHORT}",
        CNT,
        _sum("ontime"),
        _sum("reo"),
        "0",
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


def _selects(delta: bool = False, groupings: list[tuple] = _GROUPINGS) -> list[str]:
    """The rollup rows from the facts ``f``; with ``delta`` also the least wall time taken
    back per bucket (``oldmin``), which tells where the minimum must be recomputed."""
    out = []
    for dim, district, street, community, dkey in groupings:
        for kind, d1, d2, cond, n, x1, x2, x3, secs, mw in _KINDS:
            old = ", MIN(CASE WHEN f.moved = 1 THEN f.wall END)" if kind == 3 else f", {NF}"
            keys = [c for c in (district, street, community, dkey, d1, d2) if c not in _CONST]
            out.append(
                f"SELECT {dim}, {district}, {street}, {community}, {dkey}, {kind}, {d1}, {d2}, "
                f"{n}, {x1}, {x2}, {x3}, {secs}, {mw}, {CNT}{old if delta else ''} "
                f"FROM f WHERE {cond} "
                f"GROUP BY {', '.join(keys)}"
            )
    return out


def _open(
    cur, facts: str, target: str, delta: bool = False, groupings: list[tuple] = _GROUPINGS
) -> None:
    """Insert into ``target`` the kind-8 rows from the facts ``facts`` (with their sign ``sg``):
    per day x, the events whose deadline and closed days straddle it, late (deadline <= x <
    closed: ``n``) or early (closed <= x < deadline: ``x1``, and of those on time ``x2`` and
    reopened ``x3``). A running sum, per bucket, of +1 at the earlier day and -1 at the later."""
    pair = f"{_PAIR} AND f.dd <> f.dc"
    cur.execute(f"SELECT MIN({_LO}), MAX({_HI}) FROM ({facts}) f WHERE {pair}")
    lo, hi = cur.fetchone()
    if lo is None:
        return
    late = "CASE WHEN f.dd < f.dc THEN f.s ELSE 0 END"
    early = "CASE WHEN f.dc < f.dd THEN f.s ELSE 0 END"

    def grouped(*cols: str) -> str:
        return ", ".join(c for c in cols if c not in _CONST)

    net = " UNION ALL ".join(
        f"SELECT {dim} AS dim, {district} AS district, {street} AS street, "
        f"{community} AS community, {dkey} AS dkey, f.day, SUM({late}) AS a, SUM({early}) AS b, "
        f"SUM({early} * f.ontime) AS bo, SUM({early} * f.reo) AS br FROM e f "
        f"GROUP BY {grouped(district, street, community, dkey)}, f.day"
        for dim, district, street, community, dkey in groupings
    )
    keys = ("dim", "district", "street", "community", "dkey")
    on = " AND ".join(f"net.{k} = g.{k}" for k in keys)
    sums = ", ".join(f"SUM(COALESCE(net.{c}, 0)) OVER w AS {c}" for c in ("a", "b", "bo", "br"))
    cur.execute(
        f"INSERT INTO {target} ({_COLUMNS}{', oldmin' if delta else ''}) "
        f"WITH RECURSIVE f AS ({facts}), "
        f"e AS (SELECT f.*, {_LO} AS day, f.sg AS s FROM f WHERE {pair} "
        f"UNION ALL SELECT f.*, {_HI} AS day, -f.sg AS s FROM f WHERE {pair}), "
        f"net AS ({net}), "
        f"days (day) AS (SELECT {int(lo)} UNION ALL "
        f"SELECT day + 1 FROM days WHERE day < {int(hi)}), "
        f"g AS (SELECT {', '.join(keys)}, MIN(day) AS lo, MAX(day) AS hi FROM net "
        f"GROUP BY {', '.join(keys)}), "
        f"c AS (SELECT {', '.join('g.' + k for k in keys)}, days.day, {sums} "
        f"FROM g JOIN days ON days.day BETWEEN g.lo AND g.hi "
        f"LEFT JOIN net ON {on} AND net.day = days.day "
        f"WINDOW w AS (PARTITION BY {', '.join('g.' + k for k in keys)} ORDER BY days.day)) "
        f"SELECT {', '.join(keys)}, 8, day, {NI}, a, b, bo, br, 0.0, {NF}, a + b"
        f"{', ' + NF if delta else ''} FROM c WHERE a <> 0 OR b <> 0 OR bo <> 0 OR br <> 0",
        {},
    )


def _key(col: str) -> str:
    """A rollup key column made comparable with ``=`` (no key is NULL but ``d2`` of the day
    rows), so that PostgreSQL can hash-join: ``IS NOT DISTINCT FROM`` does not allow it."""
    return f"COALESCE({col}, -1)" if col.endswith("d2") else col


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
    if connection.vendor == "postgresql" and (mode == "full" or changed):
        # VACUUM marks the pages all-visible again, so that queries read the rollup from its
        # index alone; quick when few pages changed (not possible inside a transaction)
        vacuum = "VACUUM ANALYZE" if mode == "full" else "VACUUM"
        vacuum = "ANALYZE" if connection.in_atomic_block else vacuum
        with connection.cursor() as cur:
            cur.execute(f"{vacuum} analytics_rollup")
            if mode == "full":
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
    # communities and the district dimensions from the facts; streets and districts summed up
    # from the communities' rows (fewer than the events, and every column adds up)
    fine = [g for g in _GROUPINGS if g[0] in (0, 1, 2, 3)]
    facts = "SELECT *, 1 AS sg FROM analytics_rollupfact"
    cur.execute(
        f"INSERT INTO analytics_rollup ({_COLUMNS}) WITH f AS ({facts}) "
        + " UNION ALL ".join(_selects(groupings=fine))
    )
    _open(cur, facts, "analytics_rollup", groupings=fine)
    for dim, street in ((4, "street"), (5, "''")):
        cur.execute(
            f"INSERT INTO analytics_rollup ({_COLUMNS}) SELECT {dim}, district, {street}, '', '', "
            "kind, d1, d2, SUM(n), SUM(x1), SUM(x2), SUM(x3), SUM(secs), MIN(minwall), SUM(cnt) "
            f"FROM analytics_rollup WHERE dim = 0 "
            f"GROUP BY district, {'street, ' if dim == 4 else ''}kind, d1, d2"
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
    # ``moved``: an old fact whose handled day, wall time or bucket is not the same now; only
    # such a fact can take a bucket's minimum away (most changes leave the handling alone)
    same = " AND ".join(
        f"n.{c} = o.{c}"
        for c in ("dh", "wall", "district", "street", "community", "cls", "dept", "channel")
    )
    facts = (
        f"SELECT {cols}, 1 AS sg, 0 AS moved FROM rollup_new UNION ALL "
        f"SELECT {', '.join('o.' + c for c in cols.split(', '))}, -1 AS sg, CASE WHEN EXISTS ("
        f"SELECT 1 FROM rollup_new n WHERE n.event_id = o.event_id AND {same}) THEN 0 ELSE 1 END "
        f"FROM analytics_rollupfact o WHERE o.event_id IN (SELECT id FROM rollup_ids)"
    )
    cur.execute(
        f"CREATE TEMP TABLE rollup_delta AS WITH f AS ({facts}), d ({_COLUMNS}, oldmin) AS ("
        f"{' UNION ALL '.join(_selects(delta=True))}) SELECT * FROM d"
    )
    _open(cur, facts, "rollup_delta", delta=True)
    # an event recounted as before changes nothing in most of its buckets (nor their minimum,
    # as no fact there moved): leave those alone
    cur.execute(
        "DELETE FROM rollup_delta WHERE n = 0 AND x1 = 0 AND x2 = 0 AND x3 = 0 AND secs = 0 "
        "AND cnt = 0 AND oldmin IS NULL"
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
    # only a bucket this refresh touched can have emptied: no scan of the whole rollup
    cur.execute(
        f"DELETE FROM analytics_rollup WHERE analytics_rollup.cnt <= 0 AND EXISTS "
        f"(SELECT 1 FROM rollup_delta WHERE {match})"
    )
    # the facts now hold the present contributions
    cur.execute("DELETE FROM analytics_rollupfact WHERE event_id IN (SELECT id FROM rollup_ids)")
    cur.execute(f"INSERT INTO analytics_rollupfact ({cols}) SELECT {cols} FROM rollup_new")
    # a minimum cannot be taken back: recompute it where the least wall time taken back was
    # the bucket's minimum (and no new one is lower)
    cur.execute("SELECT COUNT(*) FROM rollup_delta WHERE oldmin IS NOT NULL")
    for dim, district, street, community, dkey in _GROUPINGS if cur.fetchone()[0] else []:
        g = {"district": district, "street": street, "community": community, "dkey": dkey}
        conds = " AND ".join(_same(f"analytics_rollup.{k}", v) for k, v in g.items() if v != "''")
        cur.execute(
            "UPDATE analytics_rollup SET minwall = ("
            f"SELECT MIN(f.wall) FROM analytics_rollupfact f "
            f"WHERE f.dh = analytics_rollup.d1 AND {conds}) "
            f"FROM rollup_delta WHERE rollup_delta.dim = {dim} AND rollup_delta.kind = 3 "
            f"AND rollup_delta.oldmin <= analytics_rollup.minwall AND {match}"
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


def sql(
    scope_level: str,
    group: str,
    months: list[tuple[str, int, int]] | None = None,
    short: bool = True,
) -> str:
    """The counts in ``selectors._FIELDS`` order per group key; with ``months`` (label, first
    day, last day) one scan answers every month, keyed by label. ``short``: the period is under
    ``SHORT`` days, so that short pairs can span it (a month says so itself).

    For a period [F, L] the 应结案 and 结案 counts are, from day rows only (see the module):
    due = deadline in P (6) + closed in P without deadline (7.x3) + closed in P with the deadline
    outside, that is straddling F late (8.n at F-1) or L early (8.x1 at L), less what spans P;
    closed = closed in P (7) + deadline in P closed before F (8.x1.. at F-1, less what spans P).
    """
    lo, hi = ("m.mf", "m.ml") if months else ("%(f)s", "%(l)s")

    def between(col: str) -> str:
        return f"({col} BETWEEN {lo} AND {hi})"

    late = f"(d1 < {lo} AND d2 > {hi})"  # a pair spanning P: deadline before, closed after
    early = f"(d2 < {lo} AND d1 > {hi})"  # closed before, deadline after
    spans = f"({late} OR {early})"
    edges = [f"(kind = 8 AND (d1 = {lo} - 1 OR d1 = {hi}))", f"(kind = 9 AND {spans})"]
    if months or short:
        near = f"d1 BETWEEN {lo} - {SHORT} AND {hi} + {SHORT}"
        edges.append(f"({'m.short = 1 AND ' if months else ''}kind = 2 AND {near} AND {spans})")
    dim = _dim(scope_level, group)
    key = {"district": "district", "street": "street", "community": "community"}.get(group)
    key = "m.label" if months else key or ("dkey" if group in DIMS else "''")
    where = [f"dim = {dim}"]
    if scope_level in REGION_LEVELS:
        where.append(f"{scope_level} = %(code)s")
    values = " UNION ALL ".join(
        f"SELECT '{label}' AS label, {int(f)} AS mf, {int(last)} AS ml, "
        f"{int(last - f + 1 < SHORT)} AS short"
        for label, f, last in months or []
    )

    def part(cond: str, tag: str) -> str:
        """Plain sums per group and ``tag`` of the rows meeting ``cond``."""
        source = "analytics_rollup"
        if months:
            source += f" JOIN ({values}) m ON {cond}"
        return (
            f"SELECT {key} AS k, {tag} AS t, SUM(n) AS n, SUM(x1) AS x1, SUM(x2) AS x2, "
            f"SUM(x3) AS x3, SUM(secs) AS secs, MIN(minwall) AS minwall, COUNT(*) AS c "
            f"FROM {source} WHERE {' AND '.join(where + ([] if months else [cond]))} "
            "GROUP BY 1, 2"
        )

    # the day rows in P by kind (many rows, few groups), then the few at P's edges: kind 8 on
    # F-1 (81) and L (82), the pairs spanning P early (91) and late (92); then per group
    days = part(f"kind IN (1, 3, 4, 5, 6, 7) AND {between('d1')}", "kind")
    tag = (
        f"CASE WHEN kind = 8 THEN CASE WHEN d1 = {hi} THEN 82 ELSE 81 END "
        "WHEN d2 < d1 THEN 91 ELSE 92 END"
    )
    edge = part(f"({' OR '.join(edges)})", tag)

    def s(t: str, col: str) -> str:
        return f"SUM(CASE WHEN t IN ({t}) THEN {col} ELSE 0 END)"

    def closed(col: str, open_col: str) -> str:
        return f"{s('7', col)} + {s('81', open_col)} - {s('91', col)}"

    due = f"{s('6', 'n')} + {s('7', 'x3')} + {s('81', 'n')} + {s('82', 'x1')} - {s('91, 92', 'n')}"
    # a group is shown when an event of it falls in P, as in the live query
    group = "" if key == "''" else f"GROUP BY r.k HAVING {s('1, 3, 4, 5, 6, 7', 'c')} > 0"
    return f"""
    SELECT {"''" if key == "''" else "r.k"},
      {s("1", "n")}, {s("1", "x1")},
      {due}, {closed("n", "x1")}, {closed("x1", "x2")},
      {s("3", "n")}, {s("4", "x1")}, {s("4", "x2")}, {closed("x2", "x3")},
      {s("5", "n")}, {s("5", "x1")}, {s("5", "x2")}, {s("5", "x3")},
      {s("3", "secs")},
      MIN(CASE WHEN t = 3 THEN minwall END)
    FROM ({days} UNION ALL {edge}) r
    {group}
    """
