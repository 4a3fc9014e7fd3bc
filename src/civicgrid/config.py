"""Environment-driven configuration (DESIGN §2), kept apart from Django settings so the CLI
can read it before Django is set up."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Where the embedded database, generated keys and caches live (``CIVICGRID_DATA_DIR``)."""
    path = Path(os.environ.get("CIVICGRID_DATA_DIR", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    default = f"sqlite:///{data_dir() / 'civicgrid.sqlite3'}"
    return os.environ.get("CIVICGRID_DATABASE_URL") or default


def broker_url() -> str | None:
    return os.environ.get("CIVICGRID_BROKER_URL") or None


def persistent_secret(env_name: str, file_name: str) -> str:
    """Return the secret from the environment, else from ``var/FILE``, generating it on first run.

    A generated key must survive restarts: sessions, tokens and encrypted personal data
    depend on it, so it is written once with owner-only permissions and reused.
    """
    value = os.environ.get(env_name)
    if value:
        return value
    path = data_dir() / file_name
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
