"""``civicgrid bench classify``: messages per second through the triage model's predict
(cleaning, jieba words, three TF-IDF blocks, calibrated SVM) on one process, against the bare
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


def _rates(n: int, work, repeats: int = 2) -> tuple[float, float]:
    """Messages per wall second and per CPU second, the best of ``repeats`` runs (another
    process on the machine slows a run; it never speeds one up)."""
    wall = cpu = 0.0
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        work()
        wall = max(wall, n / (time.perf_counter() - w))
        cpu = max(cpu, n / max(time.process_time() - c, 1e-9))
    return wall, cpu


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
    clf.predict(subjects[:50], bodies[:50])  # warm up (the segmenter's dictionary)
    rate, rate_cpu = _rates(n, lambda: clf.predict(subjects, bodies))

    texts = [f"{s} {b}" for s, b in zip(subjects, bodies, strict=True)]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC().fit(vec.fit_transform(texts[:train_n]), labels[:train_n])
    limit, limit_cpu = _rates(n, lambda: svm.predict(vec.transform(texts)))
    return {
        "name": "classify",
        "rate": round(rate, 1),
        "limit_rate": round(limit, 1),
        "ratio": round(rate / limit, 3),
        "unit": "messages/s",
        "messages": n,
        "train_seconds": round(train_s, 1),
        # the machine may be shared: CPU-time rates show the code's own speed
        "rate_cpu": round(rate_cpu, 1),
        "limit_rate_cpu": round(limit_cpu, 1),
    }
