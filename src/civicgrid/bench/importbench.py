"""``civicgrid bench import``: F × Shenzhen generated to CSV, imported through the real
importer; against it, the same CSV rows loaded into bare tables of the same columns with no
checks at all (PostgreSQL COPY, SQLite executemany) — the physical limit on this machine.

On PostgreSQL it also measures a second limit, ``stored_limit_rate``: the rows exactly as the
import stored them (encrypted, hashed, coded) COPY-ed into empty copies of the registry tables
with the same indexes and unique constraints (no foreign keys, no Python, no checks). It shows
how much of the gap to the bare COPY is the storage the registry needs rather than the import.

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
    stored = {}
    if connection.vendor == "postgresql":
        stored_s = _stored_load(connection, Path(settings.DATA_DIR))
        stored = {
            "stored_limit_rate": rows / stored_s,
            "stored_limit_seconds": round(stored_s, 1),
            "stored_ratio": stored_s / import_s,
        }
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
        **stored,
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


# what an import writes: every registry table but the places' risk layer is filled by the files
STORED_TABLES = (
    "registry_building",
    "registry_house",
    "registry_person",
    "registry_residence",
    "registry_organisation",
    "registry_place",
)


def _stored_load(connection, folder: Path) -> float:
    """COPY each registry table's rows, as the import stored them, into an empty table built
    ``LIKE`` it with its indexes and constraints; the seconds of those COPYs. The rows go
    through a file (binary COPY format), so memory stays flat at full scale."""
    total = 0.0
    dump = folder / "bench-stored.copy"
    with connection.cursor() as cur:
        for table in STORED_TABLES:
            copy_of = f"bench_stored_{table}"
            with (
                open(dump, "wb") as fh,
                cur.cursor.copy(f"COPY {table} TO STDOUT WITH (FORMAT binary)") as copy,
            ):
                for chunk in copy:
                    fh.write(chunk)
            cur.execute(f"DROP TABLE IF EXISTS {copy_of}")
            cur.execute(f"CREATE TABLE {copy_of} (LIKE {table} INCLUDING ALL)")
            connection.commit() if not connection.get_autocommit() else None
            t0 = time.perf_counter()
            with (
                open(dump, "rb") as fh,
                cur.cursor.copy(f"COPY {copy_of} FROM STDIN WITH (FORMAT binary)") as copy,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            connection.commit() if not connection.get_autocommit() else None
            total += time.perf_counter() - t0
            cur.execute(f"DROP TABLE {copy_of}")
    dump.unlink(missing_ok=True)
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
