"""``civicgrid triage train|predict|evaluate`` on small files, and every bad input of issue 6."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.triage.conftest import SHARED, SMALL, rows


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("triage", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "m.joblib"
    out = run("train", SMALL, "--out", path)
    return path, out


def test_train_reports_scores_and_threshold_and_writes_the_model(trained):
    path, out = trained
    assert path.exists()
    assert "训练样本 48 条，3 类" in out and "宏F1" in out and "自动派遣阈值" in out


def test_predict_keeps_every_input_column_and_adds_prediction_and_confidence(
    trained, write_csv, tmp_path
):
    data = [*rows()[:5], {"message_id": "9", "subject": "", "text": "", "category": ""}]
    src = write_csv("in.csv", data, encoding="gb18030")  # Excel on Chinese Windows writes GBK
    pred = tmp_path / "pred.csv"
    run("predict", trained[0], src, "--out", pred)
    with open(pred, encoding="utf-8-sig") as fh:
        got = list(csv.DictReader(fh))
    assert list(got[0]) == ["message_id", "subject", "text", "category", "predicted", "confidence"]
    assert [g["message_id"] for g in got] == [d["message_id"] for d in data]
    assert all(g["predicted"] == d["category"] for g, d in zip(got[:5], data, strict=False))
    assert got[5]["predicted"] == "" and float(got[5]["confidence"]) == 0.0


def test_evaluate_prints_per_class_figures_confusion_and_the_threshold_line(trained, write_csv):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    data = rows()
    ws.append(list(data[0]))
    for r in data:
        ws.append(list(r.values()))
    xlsx = trained[0].parent / "eval.xlsx"
    wb.save(xlsx)
    out = run("evaluate", trained[0], xlsx)
    assert "准确率" in out and "混淆矩阵" in out and "阈值" in out and "交通运输" in out
    rep = json.loads(run("evaluate", trained[0], xlsx, "--json"))
    assert rep["n"] == 48 and set(rep["per_class"]) == {"交通运输", "城乡建设", "教育文体"}
    assert sum(map(sum, rep["confusion"]["matrix"])) == 48
    assert {"precision", "coverage", "threshold"} <= set(rep["auto"])


@pytest.mark.parametrize(
    "make, args, words",
    [
        (lambda w, t: t / "none.csv", [], "不存在"),
        (lambda w, t: _bytes(t, b""), [], "为空"),
        (lambda w, t: _bytes(t, b"subject,text,category\n"), [], "为空"),
        (
            lambda w, t: w("one.csv", [r | {"category": "教育文体"} for r in rows()]),
            [],
            "只有一个类别",
        ),
        (
            lambda w, t: w(
                "nolabel.csv", [{k: v for k, v in r.items() if k != "category"} for r in rows()]
            ),
            [],
            "缺少类别列“category”",
        ),
        (lambda w, t: w("x.csv", rows()), ["--text-cols", "message_id"], "不是文本"),
        (lambda w, t: w("x.csv", rows()), ["--text-cols", "title,body"], "缺少文本列“title”"),
        (
            lambda w, t: _bytes(t, b"subject,text,category\n\xff\xfe\xfa\xfb,\x81\x30,x\n"),
            [],
            "编码",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "header-only",
        "one-class",
        "no-label",
        "numeric",
        "no-text",
        "encoding",
    ],
)
def test_bad_training_files_are_refused_naming_the_problem(make, args, words, write_csv, tmp_path):
    src = make(write_csv, tmp_path)
    out = tmp_path / "m.joblib"
    with pytest.raises(CommandError, match=words):
        run("train", src, "--out", out, "--no-taxonomy", *args)
    assert not out.exists()


def _bytes(tmp_path, data: bytes):
    path = tmp_path / "raw.csv"
    path.write_bytes(data)
    return path


def test_predict_with_a_model_of_another_version_fails_clearly(trained, tmp_path):
    import joblib

    blob = joblib.load(trained[0])
    blob["version"] = 99
    other = tmp_path / "v99.joblib"
    joblib.dump(blob, other)
    with pytest.raises(CommandError, match="版本是 99"):
        run("predict", other, SMALL, "--out", tmp_path / "p.csv")


@pytest.mark.skipif(not SHARED.exists(), reason="shared appeal data not present")
def test_the_shared_taxonomy_reads_as_examples_of_first_level_classes():
    from civicgrid.triage.management.commands.triage import taxonomy_examples

    subjects, bodies, labels = taxonomy_examples(SHARED / "appeal_categories.csv")
    assert len(labels) > 400 and "城乡建设" in labels and all(subjects)
    assert all(s in b for s, b in zip(subjects, bodies, strict=True))
