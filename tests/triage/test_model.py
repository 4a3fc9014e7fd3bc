"""The classifier: threshold choice, training, persistence and versions."""

from __future__ import annotations

import numpy as np
import pytest

from civicgrid.triage import model as m
from tests.triage.conftest import rows


def test_threshold_is_the_lowest_confidence_that_keeps_95_percent_precision():
    rng = np.random.default_rng(1)
    conf = rng.uniform(0, 1, 2000)
    correct = rng.uniform(0, 1, 2000) < conf  # the more confident, the more often right
    t = m.choose_threshold(conf, correct)
    kept = correct[conf >= t]
    assert kept.mean() >= 0.95
    # one step lower breaks the target: the line is as low as it can safely be
    lower = np.sort(conf[conf < t])[-1]
    assert correct[conf >= lower].mean() < 0.95 or (conf >= lower).sum() < 10
    stats = m.above(conf, correct, t)
    assert stats["precision"] >= 0.95 and 0 < stats["coverage"] < 1


def test_no_threshold_when_even_the_surest_predictions_are_often_wrong():
    conf = np.linspace(0.5, 1.0, 100)
    correct = np.arange(100) % 2 == 0
    t = m.choose_threshold(conf, correct)
    assert t > 1.0
    assert m.above(conf, correct, t)["covered"] == 0


def test_a_trained_model_keeps_its_metadata_and_predicts_the_same_after_reload(small_model):
    model = m.load(small_model)
    meta = model.meta
    assert meta["labels"] == ["交通运输", "城乡建设", "教育文体"]
    assert meta["n_train"] == 48 and meta["validation"] == "5-fold"
    assert 0 < meta["scores"]["macro_f1"] <= 1 and "trained_at" in meta
    assert 0 < meta["threshold"] <= 1.01
    texts = ["公交车太少，等车一个小时", "孩子上学要交哪些材料", "楼上违章搭建阳台"]
    first = model.predict(texts, ["", "", ""])
    assert [p.label for p in first] == ["交通运输", "教育文体", "城乡建设"]
    again = m.load(small_model).predict(texts, ["", "", ""])
    assert [(p.label, p.confidence) for p in again] == [(p.label, p.confidence) for p in first]
    assert all(len(p.top) == 3 and p.top[0][0] == p.label for p in first)
    assert small_model.stat().st_size < 50e6


def test_empty_text_is_predicted_empty_with_zero_confidence(small_model):
    preds = m.load(small_model).predict(["", "  ", "公交线路"], ["", "\n", ""])
    assert [(p.label, p.confidence) for p in preds[:2]] == [("", 0.0), ("", 0.0)]
    assert preds[2].label == "交通运输"


def test_a_model_of_another_version_is_refused_with_a_clear_message(small_model, tmp_path):
    import joblib

    blob = joblib.load(small_model)
    blob["version"] = m.VERSION + 1
    old = tmp_path / "other.joblib"
    joblib.dump(blob, old)
    with pytest.raises(m.ModelError, match=f"版本是 {m.VERSION + 1}.*只能读取版本 2、{m.VERSION}"):
        m.load(old)
    # a city's version-2 model (plain calibrated SVM) keeps working after the upgrade
    blob["version"] = 2
    joblib.dump(blob, old)
    assert m.load(old).predict(["公交线路"], [""])[0].label == "交通运输"
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(m.ModelError, match="不是 civicgrid 分类模型"):
        m.load(junk)
    with pytest.raises(m.ModelError, match="不存在"):
        m.load(tmp_path / "missing.joblib")


def test_one_class_or_empty_training_data_is_refused():
    data = rows()
    with pytest.raises(m.ModelError, match="只有一个类别"):
        m.train([r["subject"] for r in data], [r["text"] for r in data], ["城乡建设"] * len(data))
    with pytest.raises(m.ModelError, match="为空"):
        m.train(["", ""], ["", ""], ["a", "b"])


def test_classes_with_too_few_examples_are_left_out_and_reported():
    data = rows()
    labels = [r["category"] for r in data]
    labels[0] = "稀有类"
    model = m.train([r["subject"] for r in data], [r["text"] for r in data], labels)
    assert "稀有类" not in model.labels and model.meta["dropped_labels"] == ["稀有类"]


def test_taxonomy_names_join_training_for_known_classes_only():
    data = rows()
    extra = (
        ["公交站台", "入党申请"],
        ["公共交通 公交站台", "党建 入党申请"],
        ["交通运输", "党务政务"],
    )
    model = m.train(
        [r["subject"] for r in data],
        [r["text"] for r in data],
        [r["category"] for r in data],
        extra=extra,
    )
    assert model.meta["n_extra"] == 1 and "党务政务" not in model.labels


def test_the_vectorised_tfidf_weighs_terms_as_scikit_learn_does():
    """The model's own TF-IDF (fast) must give the features scikit-learn's would: the same
    characters, the same weights, whatever the script or the empty texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["小区物业乱收费", "", "bus 线路 改了 改了", "😀表情也算字", "物业"]
    ids, owners = m._gram_ids(texts, 3)
    ours = m._Tfidf(max_features=1000)
    fitted = ours.fit_transform(ids, owners, len(texts)).toarray()
    theirs = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    ref = theirs.fit_transform(texts).toarray()
    assert fitted.shape == ref.shape
    # same values per row (columns are ordered differently: by packed code points)
    assert np.allclose(np.sort(fitted, axis=1), np.sort(ref, axis=1), atol=1e-6)
    assert np.allclose(ours.transform(ids, owners, len(texts)).toarray(), fitted)
    # an unseen gram is ignored, a text of unseen grams is an empty row, not a failure
    new_ids, new_owners = m._gram_ids(["物业新词", "龘"], 3)
    out = ours.transform(new_ids, new_owners, 2).toarray()
    assert out[1].sum() == 0 and np.isclose(np.linalg.norm(out[0]), 1)


def test_many_rows_are_predicted_in_chunks_as_if_at_once(small_model, monkeypatch):
    model = m.load(small_model)
    data = rows()[:12]
    subjects, bodies = [r["subject"] for r in data], [r["text"] for r in data]
    whole = model.predict(subjects, bodies)
    monkeypatch.setattr(m, "_CHUNK", 5)
    assert model.predict(subjects, bodies) == whole


def test_nb_svm_folds_the_ratio_scaling_into_its_weights():
    """Scores of the folded linear model equal those of each class's SVM on the scaled
    features: prediction pays nothing for the scaling."""
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    x = sp.random(60, 40, density=0.2, random_state=1, format="lil")
    y = np.array(["a", "b", "c"] * 20)
    x[np.flatnonzero(y == "b"), 3] = 1.0  # a term that marks class b
    x = x.tocsr()
    clf = m.NBLinearSVC(C=0.5).fit(x, y)
    present = (x != 0).astype(float)
    pos = y == "b"
    p = 1 + np.asarray(present[pos].sum(0)).ravel()
    q = 1 + np.asarray(present[~pos].sum(0)).ravel()
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    assert r[3] == r.max()  # the marking term is scaled up most for its class
    svm = LinearSVC(C=0.5).fit(x @ sp.diags(r), pos.astype(int))
    new = sp.random(5, 40, density=0.3, random_state=2, format="csr")
    assert np.allclose(clf.decision_function(new)[:, 1], svm.decision_function(new @ sp.diags(r)))
    assert list(clf.predict(x[:3])) == ["a", "b", "c"]


def test_two_classes_train_and_predict():
    data = [r for r in rows() if r["category"] != "交通运输"]
    model = m.train(
        [r["subject"] for r in data], [r["text"] for r in data], [r["category"] for r in data]
    )
    assert model.labels == ["城乡建设", "教育文体"]
    pred = model.predict(["孩子上学要交哪些材料", "楼上违章搭建阳台"], ["", ""])
    assert [p.label for p in pred] == ["教育文体", "城乡建设"]
    assert all(0.5 <= p.confidence <= 1 for p in pred)
