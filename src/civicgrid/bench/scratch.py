"""Benchmarks that build their own data run in a scratch database they create and drop (a
temporary SQLite file, or a PostgreSQL database next to the configured one), never in the
configured one: the command runs itself again as a subprocess pointed at the scratch database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

SCRATCH_FLAG = "CIVICGRID_BENCH_SCRATCH"


def admin(url: str, sql: str) -> None:
    """One statement on the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


def inside() -> bool:
    """True in the subprocess that runs against the scratch database."""
    return os.environ.get(SCRATCH_FLAG) == "1"


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_in_scratch(name: str, scale: float, database: str, postgres_only: bool = False) -> dict:
    """``civicgrid bench NAME --scale F --json`` on a fresh ``civicgrid init`` in ``database``
    (PostgreSQL) or a temporary SQLite file; returns its JSON result and drops the database.
    A benchmark defined on PostgreSQL (``postgres_only``) uses the local server when the
    configured database is SQLite (``CIVICGRID_BENCH_POSTGRES`` names another)."""
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env[SCRATCH_FLAG] = "1"
    url = os.environ.get("CIVICGRID_DATABASE_URL", "")
    if postgres_only and not url.startswith("postgres"):
        url = os.environ.get("CIVICGRID_BENCH_POSTGRES", LOCAL_POSTGRES)
    postgres = url.startswith("postgres")
    with tempfile.TemporaryDirectory(prefix=f"civicgrid-bench-{name}-") as tmp:
        env["CIVICGRID_DATA_DIR"] = tmp
        env["CIVICGRID_PII_KEY"] = settings.PII_KEY
        if postgres:
            admin(url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin(url, f"CREATE DATABASE {database}")
            env["CIVICGRID_DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{database}"
        else:
            env.pop("CIVICGRID_DATABASE_URL", None)
        cli = [sys.executable, "-m", "civicgrid.cli"]
        try:
            subprocess.run(
                [*cli, "init", "--no-progress"], env=env, check=True, stdout=subprocess.DEVNULL
            )
            out = subprocess.run(
                [*cli, "bench", name, "--scale", str(scale), "--json"],
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
        finally:
            if postgres:
                admin(url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return json.loads(out.stdout.strip().splitlines()[-1])
