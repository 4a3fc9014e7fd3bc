"""The appeal classifier (DESIGN §6 dispatch, issue 6): Chinese text → class, with a calibrated
confidence. Plain Python + scikit-learn; no Django, so the CLI, the hub and the benchmark share
it.

Features: character 1–3-grams (no segmenter needed, robust to typos and place names) and jieba
words, TF-IDF each, the subject in its own blocks weighted above the body. The TF-IDF is our
own, vectorised with numpy (each gram packed into one integer, the vocabulary a sorted array):
the same numbers as scikit-learn's vectorizers at several times the speed, which the hub's
throughput target needs. Classifier: a linear
SVM with sigmoid-calibrated probabilities (``CalibratedClassifierCV``): as accurate as the SVM,
with a confidence an auto-dispatch threshold can rest on. Up to 3,000 training messages the SVM
is an NB-SVM (``NBLinearSVC``): each class's features scaled by their naive-Bayes ratio, which
helps where examples are few.

A model file is a joblib pickle of ``{"format", "version", "meta", "model"}``; ``load`` refuses
files of another format or version with a message saying which (pickles of other versions of
this code would otherwise load and misbehave silently). Only load model files you made: a
pickle runs code when loaded.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise, repeat
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

FORMAT = "civicgrid-triage-model"
VERSION = 3  # 2: own vectorised TF-IDF blocks; 3: NB-SVM (NBLinearSVC) inside the calibrator
# a version-2 file holds the same blocks and a calibrated plain LinearSVC, which this code
# predicts with unchanged: a city's trained model keeps working across the upgrade
READABLE = (2, 3)
TARGET_PRECISION = 0.95
# how much of the body is read: its start carries the class. Repeated 5-fold CV (3 × 5 folds,
# macro-F1): 400 chars / words from 200: 0.855 ± 0.006; 400/400: 0.861; 1000/1000: 0.864 ±
# 0.007; whole body (3000) with words from 1000: 0.865, at 2/3 of the speed of 1000/1000
BODY_CHARS = 1000
WORD_CHARS = 1000
SUBJECT_WEIGHT = 1.5
# Measured against the plain-SVM setup and not adopted (same CV, seeds 0–2, the same folds for
# every variant; plain SVM 0.864 ± 0.007), so nobody spends the time again:
#   C 0.25 / 1 / 2: 0.864 / 0.864 / 0.865; class_weight None: 0.865 (noise either way)
#   taxonomy names left out: 0.849 (they earn +0.016); weighted 3×: 0.862; plus second-level
#     pseudo-documents: 0.862; per-class taxonomy keyword counts as features: 0.847 – 0.798
#   char 1–4-grams: 0.862; 2–4-grams: 0.856; subject block with the body's first 100 chars: 0.835
#   IDF/vocabulary from the 4,326 unlabelled messages too: 0.859; self-training on those
#     (confidence ≥ 0.9): 0.838
#   NB-SVM with the ratio over summed TF-IDF instead of term presence: 0.815 (over presence,
#     adopted: 0.870 ± 0.003 on seeds 0–4, the plain SVM 0.863 ± 0.005 on the same folds)
#   averaged calibrated probabilities with complement NB: 0.847, with SGD (mod. Huber): 0.847
#   Crammer–Singer SVM: 0.863; hinge loss: 0.863; 5 calibration folds: 0.861; no calibration
#     (SVM argmax): 0.850; a multinomial LR on out-of-fold SVM scores instead of sigmoids: 0.864
MAX_FEATURES = 600_000
# the linear model holds one weight per class and feature: with hundreds of catalogue leaves
# the vocabulary shrinks so the file stays under 50 MB whatever the training size
MAX_WEIGHTS = 4_000_000
HOLDOUT_ABOVE = 3000  # larger sets validate on one stratified 20 % hold-out instead of 5 folds

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


class ModelError(Exception):
    """A model file or a training set that cannot be used; the message says why."""


def clean(text: str) -> str:
    text = _DIGITS.sub("0", str(text or "")).lower()
    return _SPACE.sub(" ", text).strip()


_cut = None


def words(text: str) -> list[str]:
    """jieba words (HMM off: twice as fast, new-word guessing adds little for TF-IDF). The
    same dictionary and algorithm through rjieba (jieba-rs, the Rust port: the same words, about
    15× faster) when installed, else jieba itself; nothing is downloaded."""
    global _cut
    if _cut is None:
        try:
            import rjieba

            _cut = lambda t: rjieba.cut(t, False)  # noqa: E731
        except ImportError:  # pragma: no cover - the pure-Python original
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            _cut = lambda t: tok.lcut(t, HMM=False)  # noqa: E731
    return [w for w in _cut(text) if w.strip()]


def _ident(x):
    return x


def _word_grams(ws: list[str]) -> list[str]:
    return ws + [f"{a} {b}" for a, b in pairwise(ws)]


@dataclass
class Params:
    body_chars: int = BODY_CHARS
    word_chars: int = WORD_CHARS
    subject_weight: float = SUBJECT_WEIGHT
    word_weight: float = 1.5
    ngram_max: int = 3
    word_ngram_max: int = 1
    c: float = 0.5
    min_df: int = 1
    ensemble: bool = False
    balanced: bool = True
    nb_scale: bool = True  # NB-SVM: each class's SVM on naive-Bayes-ratio-scaled features


@dataclass
class Docs:
    """Texts prepared once (cleaned, cut to length, segmented): the CV folds reuse them."""

    subjects: list[str]
    bodies: list[str]
    words: list[list[str]]

    def take(self, idx) -> Docs:
        return Docs(
            [self.subjects[i] for i in idx],
            [self.bodies[i] for i in idx],
            [self.words[i] for i in idx],
        )

    def __len__(self) -> int:
        return len(self.bodies)

    def __add__(self, other: Docs) -> Docs:
        return Docs(
            self.subjects + other.subjects, self.bodies + other.bodies, self.words + other.words
        )


def prepare(subjects: list[str], bodies: list[str], params: Params | None = None) -> Docs:
    p = params or Params()
    subj = [clean(s) for s in subjects]
    body = [clean(b)[: p.body_chars] for b in bodies]
    ws = [words(s + " " + b[: p.word_chars]) for s, b in zip(subj, body, strict=True)]
    return Docs(subj, body, ws)


_OFFSET = (
    1  # code points shifted by one: no character is 0, so n-grams of different n never share an id
)
_BITS = 21  # every Unicode code point (+1) fits in 21 bits; three of them in one int64
_MAX_N = 3
_CHUNK = 4000  # documents per numpy pass: bounds memory on large sets


def _gram_ids(texts: list[str], max_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every character 1…max_n-gram of every text as one int64 (code points packed in 21-bit
    fields), with the row it belongs to: one numpy pass instead of a Python string per gram."""
    if max_n > _MAX_N:
        raise ModelError(f"字符 n-gram 最长 {_MAX_N}（三个字符装满一个 64 位整数）")
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    cps += _OFFSET
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lens)
    ends = np.repeat(np.cumsum(lens), lens)  # one past each position's text
    pos = np.arange(total, dtype=np.int64)
    ids, owners = [cps], [rows]
    gram = cps
    for n in range(2, max_n + 1):
        gram = (gram[:-1] << _BITS) | cps[n - 1 :]
        ok = pos[: total - n + 1] + n <= ends[: total - n + 1]
        ids.append(gram[ok])
        owners.append(rows[: total - n + 1][ok])
    return np.concatenate(ids), np.concatenate(owners)


class _Tfidf:
    """TF-IDF over integer term ids, as scikit-learn's TfidfVectorizer computes it
    (sublinear tf, smooth idf, unit rows, ``min_df``, ``max_features`` by corpus frequency),
    but vectorised: a vocabulary is a sorted id array looked up with ``searchsorted``."""

    def __init__(self, max_features: int, min_df: int = 1):
        self.max_features = max_features
        self.min_df = min_df
        self.keys = np.zeros(0, np.int64)
        self.idf = np.zeros(0, np.float32)

    def fit_transform(self, ids: np.ndarray, rows: np.ndarray, n_docs: int) -> sp.csr_matrix:
        keys, inverse = np.unique(ids, return_inverse=True)
        counts = _counts(rows, inverse.ravel(), n_docs, len(keys))
        df = np.bincount(counts.indices, minlength=len(keys))
        keep = np.flatnonzero(df >= self.min_df)
        if len(keep) > self.max_features:
            tf = np.bincount(counts.indices, weights=counts.data, minlength=len(keys))
            keep = np.sort(keep[np.argsort(-tf[keep], kind="stable")[: self.max_features]])
        if not len(keep):
            raise ValueError("empty vocabulary")
        self.keys = keys[keep]
        self.idf = (np.log((1 + n_docs) / (1 + df[keep])) + 1).astype(np.float32)
        return self._weigh(counts[:, keep])

    def transform(self, ids: np.ndarray, rows: np.ndarray, n_docs: int) -> sp.csr_matrix:
        if len(ids):
            order = np.argsort(ids)  # sorted needles: searchsorted runs twice as fast
            ids, rows = ids[order], rows[order]
            col = np.searchsorted(self.keys, ids)
            np.minimum(col, len(self.keys) - 1, out=col)
            hit = self.keys[col] == ids
            col, row = col[hit], rows[hit]
        else:
            col = row = np.zeros(0, np.int64)
        return self._weigh(_counts(row, col, n_docs, len(self.keys)))

    def _weigh(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """Counts → sublinear tf × idf, each row scaled to unit length."""
        x = x.tocsr()
        x.data = (np.log(x.data) + 1) * self.idf[x.indices]
        lens = np.diff(x.indptr)
        owner = np.repeat(np.arange(x.shape[0]), lens)
        norms = np.sqrt(np.bincount(owner, weights=x.data**2, minlength=x.shape[0]))
        norms[norms == 0] = 1
        x.data /= norms[owner].astype(np.float32)
        return x


def _counts(rows: np.ndarray, cols: np.ndarray, n_docs: int, n_terms: int) -> sp.csr_matrix:
    x = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(n_docs, n_terms))
    x.sum_duplicates()
    return x


class Features:
    """Three TF-IDF blocks (subject chars, body chars, words), each unit length, weighted."""

    def __init__(self, params: Params, n_docs: int = 0, n_classes: int = 2):
        p = self.params = params
        cap = max(5_000, min(MAX_FEATURES, MAX_WEIGHTS // max(n_classes, 1)))
        # large sets: a term seen once teaches nothing and only grows the file and the fit
        min_df = p.min_df if n_docs <= HOLDOUT_ABOVE else max(p.min_df, 2)
        self.subject = _Tfidf(cap // 4, min_df)
        self.body = _Tfidf(cap // 2, min_df)
        self.words = _Tfidf(cap // 4, min_df)
        self.vocabulary: dict[str, int] = {}  # word → id for the words block
        self.used: list[str] = []

    def _word_ids(self, docs: Docs, grow: bool) -> tuple[np.ndarray, np.ndarray]:
        grams = docs.words if self.params.word_ngram_max == 1 else map(_word_grams, docs.words)
        vocab = self.vocabulary
        lens, flat = [], []
        for ws in grams:
            lens.append(len(ws))
            if grow:
                flat.extend(vocab.setdefault(w, len(vocab)) for w in ws)
            else:
                flat.extend(map(vocab.get, ws, repeat(-1)))
        rows = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
        return np.asarray(flat, dtype=np.int64), rows

    def _blocks(self, docs: Docs, grow: bool = False):
        p = self.params
        n = p.ngram_max
        yield "subject", self.subject, lambda: _gram_ids(docs.subjects, n), p.subject_weight
        yield "body", self.body, lambda: _gram_ids(docs.bodies, n), 1.0
        yield "words", self.words, lambda: self._word_ids(docs, grow), p.word_weight

    def fit_transform(self, docs: Docs):
        """A block whose texts are all empty (a file with one text column has no subjects) is
        left out rather than failing."""
        parts = []
        self.used = []
        n = len(docs)
        for name, vec, ids, weight in self._blocks(docs, grow=True):
            t, rows = ids()
            try:
                x = vec.fit_transform(t, rows, n)
            except ValueError:  # empty vocabulary
                continue
            parts.append(x * np.float32(weight))
            self.used.append(name)
        if not parts:
            raise ModelError("训练文本全为空，无法提取特征")
        # keep only the words the model kept: a smaller file, a faster lookup
        kept = set(self.words.keys.tolist()) if "words" in self.used else set()
        self.vocabulary = {w: i for w, i in self.vocabulary.items() if i in kept}
        return sp.hstack(parts, format="csr")

    def transform(self, docs: Docs):
        if len(docs) > _CHUNK:  # bounded memory: the gram arrays hold ~1,300 ids a message
            parts = [
                self.transform(docs.take(range(i, min(i + _CHUNK, len(docs)))))
                for i in range(0, len(docs), _CHUNK)
            ]
            return sp.vstack(parts, format="csr")
        n = len(docs)
        parts = []
        for name, vec, ids, weight in self._blocks(docs):
            if name in self.used:
                parts.append(vec.transform(*ids(), n) * np.float32(weight))
        return sp.hstack(parts, format="csr")


class NBLinearSVC(ClassifierMixin, BaseEstimator):
    """NB-SVM (Wang & Manning 2012): one-vs-rest linear SVMs, each on the features scaled by
    its class's naive-Bayes log-count ratio over term presence, so terms typical of the class
    start out louder. The scaling is folded into the weights after fitting: predicting costs
    what a plain linear SVM costs."""

    def __init__(self, C: float = 0.5, class_weight=None, alpha: float = 1.0):
        self.C = C
        self.class_weight = class_weight
        self.alpha = alpha

    def fit(self, x, y, sample_weight=None):
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        present = sp.csr_matrix(x, copy=True)
        present.data[:] = 1
        # two classes: one SVM and a one-column score, as scikit-learn's binary classifiers do
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        coef, intercept = [], []
        for c in targets:
            pos = y == c
            p = self.alpha + np.asarray(present[pos].sum(0)).ravel()
            q = self.alpha + np.asarray(present[~pos].sum(0)).ravel()
            r = np.log(p / p.sum()) - np.log(q / q.sum())
            svm = LinearSVC(C=self.C, class_weight=self.class_weight)
            svm.fit(x @ sp.diags(r), pos.astype(int), sample_weight=sample_weight)
            coef.append(svm.coef_[0] * r)
            intercept.append(svm.intercept_[0])
        self.coef_ = np.vstack(coef)
        self.intercept_ = np.asarray(intercept)
        return self

    def decision_function(self, x) -> np.ndarray:
        scores = np.asarray(x @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, x) -> np.ndarray:
        scores = self.decision_function(x)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(1)]


class Classifier:
    """Features + calibrated linear SVM. ``predict_proba`` columns follow ``labels``."""

    def __init__(self, params: Params | None = None):
        self.params = params or Params()
        self.features = Features(self.params)
        self.model = None
        self.labels: list[str] = []

    def fit(self, docs: Docs, y: list[str]) -> Classifier:
        counts = Counter(y)
        self.features = Features(self.params, len(y), len(counts))
        # three calibration folds; two for large sets, where they are plenty and time counts:
        # there the two half-set SVMs, each calibrated on the other half, are the model (no
        # third fit on everything: half the training time, the same scores on 10,000 messages)
        large = len(y) > HOLDOUT_ABOVE
        folds = max(2, min(2 if large else 3, min(counts.values())))
        x = self.features.fit_transform(docs)
        weight = "balanced" if self.params.balanced else None
        # NB-SVM where data is scarce (its gain; CV on the 826 appeals: 0.863 → 0.870); on large
        # sets its scaled features converge 3-5× slower (10,000 messages: 160 s CPU instead of
        # 20, over the 60 s budget), so they keep the plain SVM (NB-SVM's gain there unmeasured)
        nb = self.params.nb_scale and not large
        svm = (NBLinearSVC if nb else LinearSVC)(C=self.params.c, class_weight=weight)
        self.model = CalibratedClassifierCV(
            svm, method="sigmoid", cv=folds, ensemble=self.params.ensemble or large
        )
        with warnings.catch_warnings():  # many classes, few rows each: sklearn's regression hint
            warnings.filterwarnings("ignore", message="The number of unique classes")
            self.model.fit(x, y)
        self.labels = [str(c) for c in self.model.classes_]
        return self

    def predict_proba(self, docs: Docs) -> np.ndarray:
        if len(docs) == 0:
            return np.zeros((0, len(self.labels)))
        return self.model.predict_proba(self.features.transform(docs))


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float = TARGET_PRECISION
) -> float:
    """The lowest confidence above which the predictions are at least ``target`` precise
    (on validation data), so auto-dispatch covers as much as it safely can. Walks from the most
    confident down and keeps the last point where the running precision still meets the target
    with at least 10 cases behind it; 1.01 (never) when no such point exists."""
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order].astype(float)
    hits = np.cumsum(ok)
    n = np.arange(1, len(ok) + 1)
    precision = hits / n
    best = None
    for i in range(len(ok)):
        if i + 1 < len(ok) and conf[i + 1] == conf[i]:
            continue  # a threshold cannot split equal confidences
        if n[i] >= 10 and precision[i] >= target:
            best = float(conf[i])
    return 1.01 if best is None else round(best, 4)


def above(confidence, correct, threshold: float) -> dict:
    """Precision and coverage of the predictions at or above the threshold."""
    mask = confidence >= threshold
    covered = int(mask.sum())
    return {
        "threshold": threshold,
        "coverage": round(covered / len(confidence), 4) if len(confidence) else 0.0,
        "precision": round(float(correct[mask].mean()), 4) if covered else None,
        "covered": covered,
    }


def cross_validate(
    docs: Docs,
    y: list[str],
    params: Params,
    folds: int = 5,
    seed: int = 0,
    extra: tuple[Docs, list[str]] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probabilities (rows follow ``y``; columns the sorted labels): each row is
    predicted by a model that never saw it. ``extra`` examples join every training fold."""
    labels = sorted(set(y))
    counts = Counter(y)
    k = max(2, min(folds, min(counts.values())))
    out = np.zeros((len(y), len(labels)))
    ya = np.asarray(y)
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), ya):
        train_docs, train_y = docs.take(tr), [y[i] for i in tr]
        if extra is not None:
            train_docs, train_y = train_docs + extra[0], train_y + extra[1]
        clf = Classifier(params).fit(train_docs, train_y)
        proba = clf.predict_proba(docs.take(te))
        cols = [labels.index(c) for c in clf.labels]
        out[np.ix_(te, cols)] = proba
    return out, labels


def scores(y_true: list[str], y_pred: list[str]) -> dict:
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
    }


# --- training, persistence -----------------------------------------------------------------

MIN_PER_CLASS = 3  # fewer examples cannot be both calibrated and validated


@dataclass
class Prediction:
    label: str  # "" when the text is empty
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)


class TriageModel:
    """A trained classifier with its metadata: what it knows, how well it did on validation
    data, and the auto-dispatch threshold chosen there."""

    def __init__(self, classifier: Classifier, meta: dict):
        self.classifier = classifier
        self.meta = meta

    @property
    def labels(self) -> list[str]:
        return self.classifier.labels

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    def predict(self, subjects: list[str], bodies: list[str], top: int = 3) -> list[Prediction]:
        """One prediction per row; rows with no text get ``Prediction("", 0.0)``."""
        out: list[Prediction | None] = [None] * len(bodies)
        keep = [  # what ``clean`` would leave non-empty, without cleaning twice
            i
            for i, (s, b) in enumerate(zip(subjects, bodies, strict=True))
            if str(s or "").strip() or str(b or "").strip()
        ]
        if keep:
            docs = prepare(
                [subjects[i] for i in keep], [bodies[i] for i in keep], self.classifier.params
            )
            proba = self.classifier.predict_proba(docs)
            order = np.argsort(-proba, axis=1)[:, :top]
            labels = self.labels
            for row, i in enumerate(keep):
                best = [(labels[j], round(float(proba[row, j]), 4)) for j in order[row]]
                out[i] = Prediction(best[0][0], best[0][1], best)
        return [p or Prediction("", 0.0, []) for p in out]

    def save(self, path: Path) -> int:
        """Write atomically (a process loading the file never sees half of it); returns bytes."""
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        joblib.dump(
            {"format": FORMAT, "version": VERSION, "meta": self.meta, "model": self.classifier},
            tmp,
            compress=3,
        )
        os.replace(tmp, path)
        return path.stat().st_size


def load(path: Path) -> TriageModel:
    import joblib

    path = Path(path)
    if not path.exists():
        raise ModelError(f"模型文件不存在：{path}")
    try:
        blob = joblib.load(path)
    except Exception as exc:  # a foreign or damaged file: pickle raises anything
        raise ModelError(
            f"无法读取模型文件 {path}（{exc.__class__.__name__}）：不是 civicgrid 分类模型或已损坏"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelError(f"{path} 不是 civicgrid 分类模型文件")
    if blob.get("version") not in READABLE:
        raise ModelError(
            f"模型文件 {path} 的格式版本是 {blob.get('version')}，本程序只能读取版本 "
            f"{'、'.join(map(str, READABLE))}；"
            "请用当前版本重新训练（civicgrid triage train）"
        )
    return TriageModel(blob["model"], blob["meta"])


def _check_labels(y: list[str]) -> tuple[list[int], list[str]]:
    """Rows to keep and the classes dropped for having too few examples."""
    counts = Counter(y)
    if not y:
        raise ModelError("训练数据为空：没有同时有文本和类别的行")
    if len(counts) < 2:
        only = next(iter(counts))
        raise ModelError(f"训练数据只有一个类别（{only}），至少需要两个类别才能训练分类器")
    dropped = sorted(c for c, n in counts.items() if n < MIN_PER_CLASS)
    keep = [i for i, c in enumerate(y) if counts[c] >= MIN_PER_CLASS]
    if len({y[i] for i in keep}) < 2:
        raise ModelError(
            f"每个类别至少需要 {MIN_PER_CLASS} 条样本，满足条件的类别不足两个"
            f"（样本过少的类别：{'、'.join(dropped[:10])}）"
        )
    return keep, dropped


def validate(
    docs: Docs, y: list[str], params: Params, extra: tuple[Docs, list[str]] | None = None
) -> tuple[np.ndarray, list[str], list[int]]:
    """Validation probabilities: 5-fold out-of-fold for small sets, a stratified 20 % hold-out
    for large ones (speed). Returns (probabilities, their labels, the rows they belong to)."""
    if len(y) <= HOLDOUT_ABOVE:
        proba, labels = cross_validate(docs, y, params, extra=extra)
        return proba, labels, list(range(len(y)))
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=0)
    train_docs, train_y = docs.take(tr), [y[i] for i in tr]
    if extra is not None:
        train_docs, train_y = train_docs + extra[0], train_y + extra[1]
    clf = Classifier(params).fit(train_docs, train_y)
    return clf.predict_proba(docs.take(te)), clf.labels, [int(i) for i in te]


def report(
    y_true: list[str],
    y_pred: list[str],
    confidence: np.ndarray,
    threshold: float,
    labels: list[str],
) -> dict:
    """Accuracy, macro-F1, per-class precision/recall, the confusion matrix and the
    precision/coverage above the threshold."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    correct = np.array([a == b for a, b in zip(y_true, y_pred, strict=True)])
    return {
        **scores(y_true, y_pred),
        "n": len(y_true),
        "per_class": {
            c: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, c in enumerate(labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
        "auto": above(confidence, correct, threshold),
    }


def train(
    subjects: list[str],
    bodies: list[str],
    labels: list[str],
    *,
    params: Params | None = None,
    extra: tuple[list[str], list[str], list[str]] | None = None,
    source: str = "",
) -> TriageModel:
    """Validate (out-of-fold), choose the auto-dispatch threshold for ≥ 95 % precision there,
    then fit on everything. ``extra`` = (subjects, bodies, labels) joins every training fit
    but is never validated on (e.g. the taxonomy's class names)."""
    started = time.perf_counter()
    params = params or Params()
    rows = [
        i
        for i, (s, b, c) in enumerate(zip(subjects, bodies, labels, strict=True))
        if c and clean(s + b)
    ]
    skipped = len(labels) - len(rows)
    y_all = [labels[i] for i in rows]
    keep, dropped = _check_labels(y_all)
    rows = [rows[i] for i in keep]
    y = [labels[i] for i in rows]
    docs = prepare([subjects[i] for i in rows], [bodies[i] for i in rows], params)
    extra_docs = None
    if extra is not None:
        known = set(y)
        ex = [i for i, c in enumerate(extra[2]) if c in known]
        extra_docs = (
            prepare([extra[0][i] for i in ex], [extra[1][i] for i in ex], params),
            [extra[2][i] for i in ex],
        )
    proba, plabels, vrows = validate(docs, y, params, extra_docs)
    y_val = [y[i] for i in vrows]
    pred = [plabels[j] for j in proba.argmax(1)]
    conf = proba.max(1)
    correct = np.array([a == b for a, b in zip(pred, y_val, strict=True)])
    threshold = choose_threshold(conf, correct)
    val = report(y_val, pred, conf, threshold, sorted(set(y)))
    fit_docs, fit_y = docs, y
    if extra_docs is not None:
        fit_docs, fit_y = docs + extra_docs[0], y + extra_docs[1]
    clf = Classifier(params).fit(fit_docs, fit_y)
    meta = {
        "labels": clf.labels,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "n_train": len(y),
        "n_extra": len(extra_docs[1]) if extra_docs else 0,
        "skipped_rows": skipped,
        "dropped_labels": dropped,
        "validation": "5-fold" if len(y) <= HOLDOUT_ABOVE else "holdout-20%",
        "scores": {k: val[k] for k in ("accuracy", "macro_f1")},
        "auto": val["auto"],
        "threshold": threshold,
        "target_precision": TARGET_PRECISION,
        "params": params.__dict__,
        "source": source,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return TriageModel(clf, meta)


def evaluate(model: TriageModel, subjects, bodies, labels) -> dict:
    preds = model.predict(subjects, bodies, top=1)
    rows = [i for i, c in enumerate(labels) if c]
    y = [labels[i] for i in rows]
    pred = [preds[i].label for i in rows]
    conf = np.array([preds[i].confidence for i in rows])
    names = sorted(set(y) | {p for p in pred if p})
    return report(y, pred, conf, model.threshold, names)
