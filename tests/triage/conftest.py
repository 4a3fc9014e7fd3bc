"""Small appeal tables for the triage tests: an in-repo CSV of 48 messages in three classes
(fast to train on), and helpers to write variants of it (encodings, XLSX, bad files)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SMALL = HERE / "appeals_small.csv"
SHARED = Path("/work/shared/data/appeals")


def rows() -> list[dict[str, str]]:
    with open(SMALL, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def write_csv(tmp_path):
    def write(name: str, data: list[dict], encoding: str = "utf-8", headers=None) -> Path:
        path = tmp_path / name
        with open(path, "w", encoding=encoding, newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=headers or list(data[0]))
            w.writeheader()
            w.writerows(data)
        return path

    return write


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A model trained once on the small table (by the library, not the CLI)."""
    from civicgrid.triage import model as m

    data = rows()
    trained = m.train(
        [r["subject"] for r in data], [r["text"] for r in data], [r["category"] for r in data]
    )
    path = tmp_path_factory.mktemp("model") / "small.joblib"
    trained.save(path)
    return path
