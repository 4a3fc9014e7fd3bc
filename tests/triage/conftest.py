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


# the event hub's fixtures (small catalogue 98xx/99xx, people, the report helper)
from tests.events.conftest import clients, people, report, small_catalogue  # noqa: E402, F401

LEAF_TEXTS = {
    "9801": ["小区门口垃圾堆积没人清运", "路边有人乱扔垃圾", "垃圾桶满了好几天", "垃圾站臭气熏天"],
    "9802": ["楼顶加建铁皮房", "有人违法搭建棚子", "一楼住户私自加建", "违建越搭越大"],
    "9803": ["路上井盖缺失很危险", "井盖破损车辆颠簸", "人行道井盖没了", "井盖松动有响声"],
    "9901": ["社保缴费怎么办理", "医保报销比例咨询", "养老保险能补缴吗", "社保卡怎么挂失"],
    "9902": ["工地晚上噪音扰民", "广场舞太吵闹", "酒吧噪声很大影响睡觉", "装修噪音扰民"],
}


@pytest.fixture(scope="session")
def leaf_model(tmp_path_factory):
    """A model of the test catalogue's leaves, trained once; ``save(threshold)`` writes a copy
    with a chosen auto-dispatch line (the hub's behaviour on each side of it is the point)."""
    from civicgrid.triage import model as m

    subjects, labels = [], []
    for code, texts in LEAF_TEXTS.items():
        for t in texts:
            subjects += [t, f"反映：{t}"]
            labels += [code, code]
    trained = m.train(subjects, [""] * len(subjects), labels)
    return trained


@pytest.fixture
def hub_model(leaf_model, tmp_path, settings, monkeypatch):
    from civicgrid.triage import suggest

    path = tmp_path / "active.joblib"
    settings.TRIAGE_MODEL = str(path)
    monkeypatch.setattr(suggest, "CHECK_EVERY", 0.0)
    suggest.reset()

    def save(threshold: float):
        leaf_model.meta["threshold"] = threshold
        leaf_model.save(path)
        return path

    yield save
    suggest.reset()
