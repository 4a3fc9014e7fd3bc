"""``civicgrid bench regrade``: every let house of F × Shenzhen re-graded by the set-based
regrade, against the physical limit of evaluating the same indicators in memory with the pure
rules (no database at all).

Like ``bench import`` it runs in a scratch database it creates and drops (a temporary SQLite
file, or a PostgreSQL database next to the configured one), never in the configured one. The
let houses are made directly in SQL (buildings spread over the real grids, 20 houses each,
profiles with the synthetic indicator mix), since the benchmark is about grading, not import.
"""

from __future__ import annotations

import os
import time

from civicgrid.bench import scratch

SCRATCH_DB = os.environ.get("CIVICGRID_BENCH_RENTAL_DB", "civicgrid_bench_rental")
SHENZHEN_HOUSES = 11_000_000
LET_SHARE = 0.6  # roughly: most village rooms and a third of the flats are let
HOUSES_PER_BUILDING = 20
LIMIT_SAMPLE = 200_000


def run(scale: float) -> dict:
    if scratch.inside():
        return measure(scale)
    return scratch.run_in_scratch("regrade", scale, SCRATCH_DB)


def _houses(count: int) -> None:
    """``count`` let houses in buildings of 20, spread round the grids: buildings by
    bulk_create, houses by one INSERT … SELECT over a counter."""
    from django.db import connection, transaction
    from django.utils import timezone

    from civicgrid.geo.models import Level, Region
    from civicgrid.registry.models import Building, House

    grids = list(
        Region.objects.filter(level=Level.GRID)
        .order_by("code")
        .values_list("code", "district_code", "lon", "lat")
    )
    buildings = -(-count // HOUSES_PER_BUILDING)
    now = timezone.now()
    rows = []
    for i in range(buildings):
        code, district, lon, lat = grids[i % len(grids)]
        seq = i // len(grids) + 1
        rows.append(
            Building(
                code=f"{code}{seq:05d}",
                address=f"基准测试路{i}号",
                lon=lon,
                lat=lat,
                use="residential",
                form="urban_village",
                floors=6,
                grid_code=code,
                district_code=district,
            )
        )
    with transaction.atomic():
        Building.objects.bulk_create(rows, batch_size=5000)
        table, btable = House._meta.db_table, Building._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {HOUSES_PER_BUILDING}) "
                f"INSERT INTO {table} (code, building_id, floor, room, area, use, "
                f"district_code, grid_code, created_at, updated_at) "
                f"SELECT b.code || '0000' || (CASE WHEN n.i < 10 THEN '0' ELSE '' END) "
                f"|| CAST(n.i AS TEXT), b.id, (n.i - 1) / 4 + 1, CAST(n.i AS TEXT), "
                f"20 + (b.id + n.i) %% 40, 'rent', b.district_code, b.grid_code, %s, %s "
                f"FROM {btable} b CROSS JOIN n",
                [now, now],
            )


def measure(scale: float) -> dict:
    from django.db import connection

    from civicgrid.rental import grading, selectors, services
    from civicgrid.rental.models import RentalProfile

    count = max(1000, round(SHENZHEN_HOUSES * scale * LET_SHARE))
    t0 = time.perf_counter()
    _houses(count)
    services.create_profiles("bench", synthetic=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {RentalProfile._meta.db_table}")
    setup_s = time.perf_counter() - t0

    started = time.perf_counter()
    result = services.regrade("bench")
    seconds = time.perf_counter() - started
    rate = result["evaluated"] / seconds

    # the limit: the same indicators, already in memory, through the pure rules
    rules = selectors.active_rules()
    names = list(grading.INDICATORS)
    rows = list(RentalProfile.objects.values_list(*names)[:LIMIT_SAMPLE])
    values = [dict(zip(names, r, strict=True)) for r in rows]
    started = time.perf_counter()
    for v in values:
        grading.decide(rules, "green", grading.evaluate(rules, v), 0, inspection=False)
    limit_rate = len(values) / (time.perf_counter() - started)
    return {
        "name": "regrade",
        "rate": round(rate),
        "limit_rate": round(limit_rate),
        "ratio": round(rate / limit_rate, 3),
        "unit": "houses/s",
        "houses": result["evaluated"],
        "changed": result["changed"],
        "seconds": round(seconds, 2),
        "setup_seconds": round(setup_s, 1),
        "database": connection.vendor,
        "target": 10_000,
    }
