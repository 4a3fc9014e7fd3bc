"""``civicgrid bench dashboard``: the metrics query at city scale against DuckDB.

10 million events × scale (about three months of Shenzhen's volume, REFERENCE §3) are
generated inside a scratch PostgreSQL database (``generate_series``, in batches; the event hub
is not involved — this measures reading, not intake) over the real region tree, catalogue and
departments that ``civicgrid init`` loads. The daily rollup is then built (its time is how far
behind intake the dashboard can be), and the metrics for the city over 90 days are timed once
per ``group_by`` through ``analytics.selectors.rows`` — the API's own path.

``limit_rate``: the same aggregates computed by DuckDB from the raw rows exported to Parquet
in the same run (``civicgrid export events``'s columns, times as epoch seconds, with the work
calendar as a table), statement for statement. ``ratio`` = rate ÷ limit_rate. The run also
checks that both give the same counts.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

from civicgrid.bench import scratch

SCRATCH_DB = os.environ.get("CIVICGRID_BENCH_DASHBOARD_DB", "civicgrid_bench_dashboard")
FULL = 10_000_000
BATCH = 500_000
LAST = dt.date(2026, 11, 20)
DAYS = 90
GROUPS = ["district", "street", "community", "department", "category", "channel", "month"]
REPEAT = 3


def run(scale: float) -> dict:
    """Set up the scratch PostgreSQL database, measure there (a subprocess), drop it."""
    if scratch.inside():
        return measure(scale)
    return scratch.run_in_scratch("dashboard", scale, SCRATCH_DB, postgres_only=True)


# --- generation ------------------------------------------------------------------------------

# channels by share (history.py's, after REFERENCE §3)
CHANNELS = [
    ("hotline", 0.46),
    ("grid", 0.20),
    ("city_mgmt", 0.12),
    ("miniprogram", 0.08),
    ("web", 0.05),
    ("hall", 0.03),
    ("sensor", 0.03),
    ("upper", 0.02),
    ("open311", 0.01),
]


def _channel_case(col: str) -> str:
    parts, acc = [], 0.0
    for name, share in CHANNELS[:-1]:
        acc += share
        parts.append(f"WHEN {col} < {acc:.4f} THEN '{name}'")
    return f"CASE {' '.join(parts)} ELSE '{CHANNELS[-1][0]}' END"


def _fill_columns() -> dict[str, str]:
    """SQL literals for the NOT NULL event columns the generator leaves alone."""
    from civicgrid.events.models import Event

    out = {}
    for f in Event._meta.concrete_fields:
        if f.null or f.primary_key:
            continue
        kind = f.get_internal_type()
        if kind in ("JSONField",):
            out[f.column] = "'[]'::jsonb"
        elif kind in ("BooleanField",):
            out[f.column] = "false"
        elif "Integer" in kind or kind in ("FloatField",):
            out[f.column] = "0"
        elif kind == "DateTimeField":
            out[f.column] = "now()"
        else:
            out[f.column] = "''"
    return out


def _generate(n: int, progress) -> None:
    from django.db import connection

    from civicgrid.accounts.models import Department
    from civicgrid.events.models import Category
    from civicgrid.geo.models import Region

    comms = list(Region.light.filter(level="community").values_list("path", "district_code"))
    paths = [p + "." + p.rsplit(".", 1)[-1] + "01" for p, _ in comms]  # a grid of each
    districts = [d for _, d in comms]
    cats = list(Category.objects.filter(leaf=True).values_list("code", flat=True))
    # each community's events go to its own district's functional departments (as routing does)
    by_district: dict[str, list[int]] = {}
    for pk, district in Department.objects.filter(kind="functional").values_list(
        "pk", "region__district_code"
    ):
        by_district.setdefault(district, []).append(pk)
    everyone = sorted(pk for pks in by_district.values() for pk in pks)
    depts, offset, count, at = [], [], [], {}
    for d in districts:
        pks = by_district.get(d) or everyone
        if d not in at:
            at[d] = len(depts)
            depts.extend(pks)
        offset.append(at[d])
        count.append(len(pks))
    end = dt.datetime.combine(LAST + dt.timedelta(days=1), dt.time(0), dt.UTC) - dt.timedelta(
        hours=8
    )
    fill = _fill_columns()
    ours = {
        "number": "'B' || lpad(g::text, 12, '0')",
        "channel": _channel_case("r_ch"),
        "source_ref": "''",
        "description": "'基准测试事件'",
        "category_id": "(%(cats)s::text[])[1 + floor(r_cat * %(ncat)s)::int]",
        "status": "CASE WHEN closed IS NOT NULL THEN 'closed' WHEN resolved IS NOT NULL "
        "THEN 'resolved' WHEN dispatched IS NOT NULL THEN 'dispatched' "
        "WHEN accepted IS NOT NULL THEN 'accepted' ELSE 'reported' END",
        "district_code": "(%(districts)s::text[])[ci]",
        "region_path": "(%(paths)s::text[])[ci]",
        "grid_code": "split_part((%(paths)s::text[])[ci], '.', 5)",
        "department_id": "CASE WHEN dispatched IS NULL THEN NULL ELSE "
        "(%(depts)s::bigint[])[1 + (%(offset)s::int[])[ci] "
        "+ floor(r_cat * %(ncat)s)::int %% (%(count)s::int[])[ci]] END",
        "deadline": "deadline",
        "on_spot": "onspot",
        "rating": "CASE WHEN closed IS NULL OR r_rate > 0.8 THEN '' WHEN r_rate < 0.656 "
        "THEN 'satisfied' WHEN r_rate < 0.776 THEN 'basic' ELSE 'unsatisfied' END",
        "returned_count": "CASE WHEN dispatched IS NOT NULL AND r_ret < 0.05 THEN 1 ELSE 0 END",
        "reopened_count": "CASE WHEN closed IS NOT NULL AND r_ret > 0.99 THEN 1 ELSE 0 END",
        "created_at": "created",
        "accepted_at": "accepted",
        "dispatched_at": "dispatched",
        "contacted_at": "CASE WHEN dispatched IS NULL THEN NULL "
        "ELSE dispatched + r_ct * interval '30 hours' END",
        "resolved_at": "resolved",
        "closed_at": "closed",
        "updated_at": "now()",
    }
    columns = {**fill, **ours}
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f"""
    INSERT INTO events_event ({quoted})
    SELECT {", ".join(columns.values())}
    FROM (
      SELECT b.*,
        CASE WHEN resolved0 < %(end)s THEN resolved0 END AS resolved,
        CASE WHEN resolved0 + interval '12 hours' < %(end)s
             THEN resolved0 + interval '12 hours' END AS closed
      FROM (
        SELECT a.*,
          CASE WHEN onspot THEN created
               WHEN dispatched IS NULL THEN NULL
               ELSE dispatched + r_res * r_res * interval '14 days' END AS resolved0,
          CASE WHEN dispatched IS NULL THEN NULL
               ELSE dispatched + (1 + floor(r_dl * 15)) * interval '1 day' END AS deadline
        FROM (
          SELECT s.*,
            CASE WHEN onspot OR r_acc < 0.97 THEN created + interval '10 minutes' END AS accepted,
            CASE WHEN NOT onspot AND r_acc < 0.97
                 THEN created + interval '40 minutes' END AS dispatched
          FROM (
            SELECT g, random() AS r_ch, random() AS r_cat, random() AS r_acc, random() AS r_dl,
              random() AS r_res, random() AS r_rate, random() AS r_ret, random() AS r_ct,
              1 + floor(random() * %(ncomm)s)::int AS ci,
              random() < 0.06 AS onspot,
              %(end)s - random() * interval '100 days' AS created
            FROM generate_series(%(lo)s, %(hi)s) AS g
          ) s
        ) a
      ) b
    ) x
    """
    params = {
        "cats": cats,
        "ncat": len(cats),
        "districts": districts,
        "paths": paths,
        "ncomm": len(paths),
        "depts": depts,
        "offset": offset,
        "count": count,
        "end": end,
    }
    done = 0
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.42)")
        while done < n:
            hi = min(n, done + BATCH)
            cur.execute(sql, params | {"lo": done + 1, "hi": hi})
            done = hi
            progress(done)
        cur.execute("ANALYZE events_event")


# --- DuckDB ------------------------------------------------------------------------------------

_EXPORT = """
COPY (
  SELECT e.district_code, SUBSTR(e.region_path, 15, 9), SUBSTR(e.region_path, 25, 12),
    SUBSTR(e.category_id, 1, 2), d.code, e.channel,
    EXTRACT(EPOCH FROM e.accepted_at)::float8, EXTRACT(EPOCH FROM e.deadline)::float8,
    EXTRACT(EPOCH FROM e.closed_at)::float8, EXTRACT(EPOCH FROM e.resolved_at)::float8,
    EXTRACT(EPOCH FROM e.dispatched_at)::float8, EXTRACT(EPOCH FROM e.contacted_at)::float8,
    e.on_spot::int, NULLIF(e.rating, ''), e.reopened_count, e.returned_count,
    COALESCE(t.n, 0)
  FROM events_event e
  LEFT JOIN accounts_department d ON d.id = e.department_id
  LEFT JOIN (SELECT event_id, COUNT(*) AS n FROM events_task WHERE lead GROUP BY event_id) t
    ON t.event_id = e.id
) TO STDOUT WITH (FORMAT csv)
"""
_PARQUET_COLUMNS = {
    "district": "VARCHAR",
    "street": "VARCHAR",
    "community": "VARCHAR",
    "cls": "VARCHAR",
    "dept": "VARCHAR",
    "channel": "VARCHAR",
    "acc": "DOUBLE",
    "dl": "DOUBLE",
    "cl": "DOUBLE",
    "rs": "DOUBLE",
    "dp": "DOUBLE",
    "ct": "DOUBLE",
    "on_spot": "INTEGER",
    "rating": "VARCHAR",
    "reopened_count": "INTEGER",
    "returned_count": "INTEGER",
    "tasks": "INTEGER",
}


def _to_parquet(folder: Path) -> tuple[Path, Path, float]:
    import duckdb
    from django.db import connection

    from civicgrid.analytics.models import CalendarDay

    t0 = time.perf_counter()
    csv_path, parquet = folder / "events.csv", folder / "events.parquet"
    with (
        connection.cursor() as cur,
        open(csv_path, "wb") as fh,
        cur.connection.cursor().copy(_EXPORT) as copy,
    ):
        for block in copy:
            fh.write(block)
    cal_csv, cal_parquet = folder / "calendar.csv", folder / "calendar.parquet"
    with open(cal_csv, "w") as fh:
        for day, work, cum in CalendarDay.objects.values_list("day", "workday", "cum"):
            fh.write(f"{day},{int(work)},{cum}\n")
    db = duckdb.connect()
    cols = ", ".join(f"'{k}': '{v}'" for k, v in _PARQUET_COLUMNS.items())
    db.execute(
        f"COPY (SELECT * FROM read_csv('{csv_path}', header=false, columns={{{cols}}})) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    db.execute(
        f"COPY (SELECT * FROM read_csv('{cal_csv}', header=false, columns="
        "{'day': 'INTEGER', 'workday': 'INTEGER', 'cum': 'INTEGER'})) "
        f"TO '{cal_parquet}' (FORMAT parquet)"
    )
    db.close()
    csv_path.unlink()
    return parquet, cal_parquet, time.perf_counter() - t0


_DUCK_KEYS = {
    "district": "district",
    "street": "street",
    "community": "community",
    "department": "COALESCE(dept, '-')",
    "category": "COALESCE(cls, '-')",
    "channel": "channel",
    "": "''",
}


def _duck_sql(group: str, parquet: Path, cal: Path, s: float, e: float) -> str:
    """The metrics of DESIGN §10 over the raw rows, as ``selectors._sql`` computes them."""

    def inn(c: str) -> str:
        return f"({c} >= {s} AND {c} < {e})"

    def w(t: str, c: str) -> str:
        return (
            f"({c}.cum * 86400.0 + CASE WHEN {c}.workday = 1 "
            f"THEN ({t} + 28800 - {c}.day * 86400.0) ELSE 0 END)"
        )

    due = f"x.acc IS NOT NULL AND ({inn('x.dl')} OR {inn('x.cl')})"
    closed = f"{due} AND x.cl < {e}"
    handled = f"x.es IS NOT NULL AND {inn('x.eh')}"
    disp = inn("x.dp")
    working = (
        "CASE WHEN x.eh > x.es AND cs.day IS NOT NULL AND ch.day IS NOT NULL "
        f"THEN {w('x.eh', 'ch')} - {w('x.es', 'cs')} ELSE 0 END"
    )
    return f"""
    SELECT x.k,
      SUM(CASE WHEN {inn("x.acc")} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {inn("x.acc")} AND x.on_spot = 1 THEN 1 ELSE 0 END),
      SUM(CASE WHEN {due} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} AND (x.dl IS NULL OR x.eh <= x.dl) THEN 1 ELSE 0 END),
      SUM(CASE WHEN {handled} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {inn("x.cl")} AND x.rating IS NOT NULL THEN 1 ELSE 0 END),
      SUM(CASE WHEN {inn("x.cl")} AND x.rating IN ('satisfied', 'basic') THEN 1 ELSE 0 END),
      SUM(CASE WHEN {closed} AND x.reopened_count > 0 THEN 1 ELSE 0 END),
      SUM(CASE WHEN {disp} THEN 1 ELSE 0 END),
      SUM(CASE WHEN {disp} AND x.ct IS NOT NULL AND x.ct - x.dp <= 86400 THEN 1 ELSE 0 END),
      SUM(CASE WHEN {disp} THEN x.tasks ELSE 0 END),
      SUM(CASE WHEN {disp} THEN x.returned_count ELSE 0 END),
      SUM(CASE WHEN {handled} THEN {working} ELSE 0 END),
      MIN(CASE WHEN {handled} THEN x.eh - x.es END)
    FROM (
      SELECT {_DUCK_KEYS[group]} AS k, acc, dl, cl, COALESCE(rs, cl) AS eh,
        COALESCE(dp, acc) AS es, dp, ct, on_spot, rating, reopened_count, returned_count, tasks
      FROM read_parquet('{parquet}')
    ) x
    LEFT JOIN read_parquet('{cal}') cs ON cs.day = CAST(floor((x.es + 28800) / 86400) AS INTEGER)
    LEFT JOIN read_parquet('{cal}') ch ON ch.day = CAST(floor((x.eh + 28800) / 86400) AS INTEGER)
    GROUP BY x.k
    """


def _duck_rows(db, group: str, parquet: Path, cal: Path, p) -> dict:
    from civicgrid.analytics import kpi

    periods = p.months() if group == "month" else [("", p)]
    out = {}
    for label, sub in periods:
        g = "" if group == "month" else group
        sql = _duck_sql(g, parquet, cal, sub.start.timestamp(), sub.end.timestamp())
        for row in db.execute(sql).fetchall():
            out[label or row[0]] = dict(
                zip(kpi.COUNTS, (int(v or 0) for v in row[1:14]), strict=True)
            )
    return out


def _median_seconds(fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _change_some(k: int) -> int:
    """Rate, close or re-deadline ``k`` random events (what half a minute of intake and
    handling does at city scale), for the incremental refresh to catch up with."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE events_event SET rating = CASE WHEN rating = '' THEN 'satisfied' ELSE '' END, "
            "deadline = deadline + interval '1 day', "
            "closed_at = COALESCE(closed_at, now()) "
            "WHERE id IN (SELECT id FROM events_event ORDER BY random() LIMIT %s)",
            [k],
        )
        return cur.rowcount


def measure(scale: float) -> dict:
    import duckdb
    from django.conf import settings
    from django.db import connection

    from civicgrid.analytics import kpi, rollup, selectors
    from civicgrid.geo.models import Region

    n = max(10_000, int(FULL * scale))
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        # a bulk load before the first (full) build: no change marks needed
        cur.execute("ALTER TABLE events_event DISABLE TRIGGER analytics_mark")
    _generate(n, lambda done: print(f"generated {done}", file=sys.stderr, flush=True))
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE events_event ENABLE TRIGGER analytics_mark")
    generate_s = time.perf_counter() - t0
    built = rollup.refresh()
    changes = _change_some(max(100, n // 1000))
    step = rollup.refresh()
    rollup.MAX_AGE = dt.timedelta(days=1)  # the run's queries all read this one build
    city = Region.light.get(level="city")
    scope = selectors.Scope(city.code, city.name, city.level, city.path)
    p = kpi.Period(LAST - dt.timedelta(days=DAYS - 1), LAST)

    pg_times, pg_results = {}, {}
    for g in GROUPS:
        sec, rows = _median_seconds(lambda g=g: selectors.rows(scope, p, g))
        pg_times[g], pg_results[g] = sec, {r["key"]: r for r in rows}

    folder = Path(settings.DATA_DIR)
    parquet, cal, export_s = _to_parquet(folder)
    db = duckdb.connect()
    duck_times, equal = {}, True
    for g in GROUPS:
        sec, got = _median_seconds(lambda g=g: _duck_rows(db, g, parquet, cal, p))
        duck_times[g] = sec
        for key, counts in got.items():
            mine = pg_results[g].get(key)
            if mine is None or any(mine[k] != v for k, v in counts.items()):
                equal = False
        equal = equal and len(got) == len(pg_results[g])
    db.close()
    rate = len(GROUPS) / sum(pg_times.values())
    limit_rate = len(GROUPS) / sum(duck_times.values())
    return {
        "name": "dashboard",
        "unit": "queries/s",
        "scale": scale,
        "database": connection.vendor,
        "events": n,
        "rate": rate,
        "limit_rate": limit_rate,
        "ratio": rate / limit_rate,
        "max_query_seconds": round(max(pg_times.values()), 4),
        "query_seconds": {g: round(s, 4) for g, s in pg_times.items()},
        "duckdb_seconds": {g: round(s, 4) for g, s in duck_times.items()},
        "same_counts": equal,
        "rollup_rows": built["rows"],
        "rollup_seconds": built["seconds"],
        "changed_events": changes,
        "incremental_seconds": step["seconds"],
        "incremental_events": step["events"],
        "generate_seconds": round(generate_s, 1),
        "parquet_seconds": round(export_s, 1),
        "period": [str(p.first), str(p.last)],
    }
