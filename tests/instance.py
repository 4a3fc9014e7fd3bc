"""A real civicgrid instance for tests that run its commands as subprocesses (browser tests,
worker tests): its own data folder and its own database — a temporary SQLite file, or a
dedicated PostgreSQL database when the suite runs on PostgreSQL — initialised by
``civicgrid init``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from civicgrid.bench.scratch import admin

CLI = [sys.executable, "-m", "civicgrid.cli"]


@contextmanager
def instance(data_dir: Path, database: str, *init_args: str) -> Iterator[dict[str, str]]:
    """Yield the environment of a fresh, initialised instance; drop its database after."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["CIVICGRID_DATA_DIR"] = str(data_dir)
    pg_url = os.environ.get("CIVICGRID_DATABASE_URL", "")
    if pg_url.startswith("postgres"):
        admin(pg_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin(pg_url, f"CREATE DATABASE {database}")
        env["CIVICGRID_DATABASE_URL"] = pg_url.rsplit("/", 1)[0] + f"/{database}"
    try:
        subprocess.run(
            [*CLI, "init", "--no-progress", *init_args],
            env=env,
            check=True,
            timeout=600,
            capture_output=True,
        )
        yield env
    finally:
        if pg_url.startswith("postgres"):
            admin(pg_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
