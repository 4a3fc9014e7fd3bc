"""``civicgrid bench import``: F × Shenzhen generated to CSV, imported through the real
importer; against it, the same CSV rows loaded into bare tables of the same columns with no
checks at all (PostgreSQL COPY, SQLite executemany) — the physical limit on this machine.

It runs in a scratch database it creates (and drops), never in the configured one.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time
from pathlib import Path

from civicgrid.bench import scratch
from civicgrid.simulate.synthetic import KINDS_IN_ORDER

SCRATCH_DB = os.environ.get("CIVICGRID_BENCH_DB", "civicgrid_bench")  # scratch, dropped after


def run(scale: float) -> dict:
    """Entry point of ``civicgrid bench import``: set up the scratch database, run there."""
    if scratch.inside():
        return measure(scale)
    return scratch.run_in_scratch("import", scale, SCRATCH_DB)


def measure(scale: float) -> dict:
    from django.conf import settings
    from django.db import connection

    from civicgrid.registry.importers import import_file
    from civicgrid.simulate.synthetic import generate

    folder = Path(settings.DATA_DIR) / "bench-city"
    started = time.perf_counter()
    files = generate(folder, scale=scale, seed=1)
    generate_s = time.perf_counter() - started

    per_kind = {}
    rows = 0
    t0 = time.perf_counter()
    for kind in KINDS_IN_ORDER:
        k0 = time.perf_counter()
        report = import_file(kind, files[kind], actor="bench")
        per_kind[kind] = {
            "rows": report.rows,
            "rejected": report.rejected,
            "seconds": round(time.perf_counter() - k0, 2),
        }
        rows += report.rows
    import_s = time.perf_counter() - t0

    import_peak_mb = _peak_rss_mb()  # generation and import so far (one process)
    limit_s = _bare_load(files, connection)
    lookups = _lookups(files)
    return {
        "name": "import",
        "unit": "rows/s",
        "scale": scale,
        "database": connection.vendor,
        "rows": rows,
        "rate": rows / import_s,
        "limit_rate": rows / limit_s,
        "ratio": limit_s / import_s,
        "import_seconds": round(import_s, 1),
        "limit_seconds": round(limit_s, 1),
        "generate_seconds": round(generate_s, 1),
        "per_kind": per_kind,
        "peak_rss_mb": import_peak_mb,
        **lookups,
    }


def _peak_rss_mb() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return peak // 1024 if sys.platform != "darwin" else peak // (1024 * 1024)


def _bare_load(files: dict[str, Path], connection) -> float:
    """Load every CSV into a bare table of text columns: no parsing, no checks, no indexes."""
    total = 0.0
    with connection.cursor() as cur:
        for kind, path in files.items():
            table = f"bench_bare_{kind}"
            with open(path, encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh))
            cols = ", ".join(f'"{c}" text' for c in header)
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE TABLE {table} ({cols})")
            t0 = time.perf_counter()
            if connection.vendor == "postgresql":
                with (
                    open(path, "rb") as fh,
                    cur.cursor.copy(
                        f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                ):
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
            else:
                marks = ", ".join(["%s"] * len(header))
                with open(path, encoding="utf-8", newline="") as fh:
                    reader = csv.reader(fh)
                    next(reader)
                    batch = []
                    for row in reader:
                        batch.append(row)
                        if len(batch) >= 5000:
                            cur.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
                            batch = []
                    if batch:
                        cur.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
            connection.commit() if not connection.get_autocommit() else None
            total += time.perf_counter() - t0
            cur.execute(f"DROP TABLE {table}")
    return total


def _sample(path: Path, column: str, n: int) -> list[str]:
    """A reservoir sample of one column, so the lookups hit random rows of a large file."""
    rng = random.Random(7)
    out: list[str] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if len(out) < n:
                out.append(row[column])
            elif (j := rng.randrange(i + 1)) < n:
                out[j] = row[column]
    return [v for v in out if v]


def _lookups(files: dict[str, Path], n: int = 500) -> dict:
    """p50/p99 of the API lookups by house code and by ID number, in process (no network)."""
    from django.test import Client

    from civicgrid.accounts import services

    user = services.save_user(
        "bench", "bench_steward", role="steward", region_code="440300", generate=True
    ).user
    _, token = services.issue_token("bench", user)
    client = Client(headers={"Authorization": f"Bearer {token}"}, HTTP_HOST="localhost")
    result = {}
    for name, url, values in (
        ("house", "/api/v1/houses/{}", _sample(files["houses"], "code", n)),
        ("person", "/api/v1/persons?id_number={}", _sample(files["persons"], "id_number", n)),
    ):
        times = []
        for v in values:
            t0 = time.perf_counter()
            response = client.get(url.format(v))
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.content
        times.sort()
        result[f"{name}_lookup_p50_ms"] = round(times[len(times) // 2] * 1000, 2)
        result[f"{name}_lookup_p99_ms"] = round(times[int(len(times) * 0.99) - 1] * 1000, 2)
    return result
