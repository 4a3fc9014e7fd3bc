"""``civicgrid bench classify``: messages per second through the triage model's predict
(cleaning, jieba, three TF-IDF blocks, calibrated SVM) on one process, against the bare
scikit-learn limit on the same texts: one character TF-IDF vectorizer + a LinearSVC."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "appeals" / "appeals_train.csv"


def _texts(n: int) -> tuple[list[str], list[str], list[str]]:
    """Real appeals when the shared data is there, else synthetic ones; cycled to ``n``."""
    path = SHARED if SHARED.exists() else Path("/work/shared/data/appeals/appeals_train.csv")
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            rows = [(r["subject"], r["text"], r["category"]) for r in csv.DictReader(fh)]
    else:
        rng = random.Random(0)
        words = {
            "城乡建设": "小区 物业 违建 道路 施工",
            "教育文体": "学校 学生 老师 招生 学费",
            "交通运输": "公交 出租车 客运 线路 站点",
        }
        rows = [
            (f"关于{rng.choice(w.split())}的问题", " ".join(rng.choices(w.split(), k=30)), c)
            for c, w in words.items()
            for _ in range(60)
        ]
    rows = (rows * (n // len(rows) + 1))[:n]
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def run(scale: float) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from civicgrid.triage import model as m

    n = max(2000, int(20_000 * scale))
    subjects, bodies, labels = _texts(n)
    train_n = min(len(labels), 826)
    started = time.perf_counter()
    clf = m.train(subjects[:train_n], bodies[:train_n], labels[:train_n])
    train_s = time.perf_counter() - started
    clf.predict(subjects[:50], bodies[:50])  # warm up (jieba's dictionary)
    started = time.perf_counter()
    clf.predict(subjects, bodies)
    rate = n / (time.perf_counter() - started)

    texts = [f"{s} {b}" for s, b in zip(subjects, bodies, strict=True)]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC().fit(vec.fit_transform(texts[:train_n]), labels[:train_n])
    started = time.perf_counter()
    svm.predict(vec.transform(texts))
    limit = n / (time.perf_counter() - started)
    return {
        "name": "classify",
        "rate": round(rate, 1),
        "limit_rate": round(limit, 1),
        "ratio": round(rate / limit, 3),
        "unit": "messages/s",
        "messages": n,
        "train_seconds": round(train_s, 1),
    }
