"""``civicgrid triage train|predict|evaluate|hotspots`` (issue 6)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

TAXONOMY = "appeal_categories.csv"


def _cols(text: str) -> list[str]:
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if not cols:
        raise CommandError("--text-cols 不能为空，例如 subject,text")
    return cols


class Command(BaseCommand):
    help = "智能分拨：train 训练 · predict 预测 · evaluate 评估 · hotspots 热点问题"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        tr = sub.add_parser("train", help="FILE --out MODEL，或 --from-events 用已结案事件训练")
        tr.add_argument("file", nargs="?", type=Path)
        tr.add_argument("--text-cols", default="subject,text", help="文本列，第一列为标题（加权）")
        tr.add_argument("--label-col", default="category")
        tr.add_argument("--out", type=Path)
        tr.add_argument(
            "--taxonomy",
            type=Path,
            help=f"三级分类表（一级,二级,三级）作为补充样本；默认取 FILE 同目录的 {TAXONOMY}",
        )
        tr.add_argument("--no-taxonomy", action="store_true")
        tr.add_argument(
            "--from-events", action="store_true", help="用本系统已结案事件的最终分类训练"
        )
        tr.add_argument("--days", type=int, help="--from-events 只用最近 N 天的事件")
        pr = sub.add_parser("predict", help="MODEL FILE --out PRED.csv")
        pr.add_argument("model", type=Path)
        pr.add_argument("file", type=Path)
        pr.add_argument("--out", type=Path, required=True)
        pr.add_argument("--text-cols")
        ev = sub.add_parser(
            "evaluate", help="MODEL FILE：准确率、宏F1、各类精确率/召回率、混淆矩阵"
        )
        ev.add_argument("model", type=Path)
        ev.add_argument("file", type=Path)
        ev.add_argument("--text-cols")
        ev.add_argument("--label-col")
        ev.add_argument("--json", action="store_true")
        hs = sub.add_parser("hotspots", help="--days N [--region CODE]：热点问题")
        hs.add_argument("--days", type=int, default=7)
        hs.add_argument("--region")
        hs.add_argument("--limit", type=int, default=20)
        hs.add_argument("--json", action="store_true")

    def handle(self, *args, op: str, **o):
        from civicgrid.triage.dataset import FileError
        from civicgrid.triage.model import ModelError

        try:
            getattr(self, f"_{op}")(**o)
        except (FileError, ModelError) as exc:
            raise CommandError(str(exc)) from None

    # --- train -------------------------------------------------------------------------------

    def _train(
        self, file, text_cols, label_col, out, taxonomy, no_taxonomy, from_events, days, **_
    ):
        from civicgrid.triage import dataset
        from civicgrid.triage import model as m

        if from_events:
            from civicgrid.triage.services import train_from_events

            result = train_from_events(out=out, days=days)
            self._summary(result.model)
            self.stdout.write(result.reason)
            return
        if file is None or out is None:
            raise CommandError("用法：civicgrid triage train FILE --out MODEL（或 --from-events）")
        started = time.perf_counter()
        table = dataset.read_table(file)
        cols = _cols(text_cols)
        subjects, bodies, labels = dataset.texts_and_labels(table, cols, label_col)
        extra = None
        tax = taxonomy or (None if no_taxonomy else file.parent / TAXONOMY)
        if tax is not None and not no_taxonomy and tax.exists():
            extra = taxonomy_examples(tax)
            self.stdout.write(
                f"补充样本：{tax}（{len(extra[2])} 条分类名称，只用其中属于训练类别的）"
            )
        elif taxonomy is not None and not no_taxonomy:
            raise CommandError(f"分类表不存在：{taxonomy}")
        model = m.train(subjects, bodies, labels, extra=extra, source=str(file))
        model.meta["text_cols"] = cols
        model.meta["label_col"] = label_col
        model.meta["kind"] = "appeal-class"
        size = model.save(out)
        self._summary(model)
        self.stdout.write(
            f"模型已保存：{out}（{size / 1e6:.1f} MB，用时 {time.perf_counter() - started:.1f} 秒）"
        )

    def _summary(self, model) -> None:
        meta = model.meta
        auto = meta["auto"]
        self.stdout.write(
            f"训练样本 {meta['n_train']} 条，{len(meta['labels'])} 类；"
            f"验证（{meta['validation']}）准确率 {meta['scores']['accuracy']:.4f}，"
            f"宏F1 {meta['scores']['macro_f1']:.4f}"
        )
        if meta.get("skipped_rows"):
            self.stdout.write(f"跳过 {meta['skipped_rows']} 行（文本或类别为空）")
        if meta.get("dropped_labels"):
            self.stdout.write(f"样本过少未训练的类别：{'、'.join(meta['dropped_labels'][:20])}")
        if auto["precision"] is None:
            self.stdout.write("验证集上没有达到 95% 精确率的阈值：不自动派遣")
        else:
            self.stdout.write(
                f"自动派遣阈值 {meta['threshold']}：验证集覆盖 {auto['coverage']:.1%}，"
                f"精确率 {auto['precision']:.1%}"
            )

    # --- predict / evaluate --------------------------------------------------------------------

    def _predict(self, model, file, out, text_cols, **_):
        from civicgrid.triage import dataset
        from civicgrid.triage import model as m

        clf = m.load(model)
        table = dataset.read_table(file)
        cols = _cols(text_cols) if text_cols else clf.meta.get("text_cols", ["subject", "text"])
        subjects, bodies, _ = dataset.texts_and_labels(table, cols, None)
        started = time.perf_counter()
        preds = clf.predict(subjects, bodies, top=1)
        took = time.perf_counter() - started
        rows = [
            {**row, "predicted": p.label, "confidence": round(p.confidence, 4)}
            for row, p in zip(table.rows, preds, strict=True)
        ]
        headers = [h for h in table.headers if h not in ("predicted", "confidence")]
        dataset.write_csv(out, [*headers, "predicted", "confidence"], rows)
        sure = sum(1 for p in preds if p.label and p.confidence >= clf.threshold)
        self.stdout.write(
            f"已预测 {len(rows)} 行 → {out}（{len(rows) / max(took, 1e-9):.0f} 条/秒）；"
            f"{sure} 行达到自动派遣阈值 {clf.threshold}"
        )

    def _evaluate(self, model, file, text_cols, label_col, json: bool = False, **_):
        from civicgrid.triage import dataset
        from civicgrid.triage import model as m

        clf = m.load(model)
        table = dataset.read_table(file)
        cols = _cols(text_cols) if text_cols else clf.meta.get("text_cols", ["subject", "text"])
        label = label_col or clf.meta.get("label_col", "category")
        subjects, bodies, labels = dataset.texts_and_labels(table, cols, label)
        if not any(labels):
            raise CommandError(f"类别列“{label}”全为空，无法评估")
        rep = m.evaluate(clf, subjects, bodies, labels)
        if json:
            self.stdout.write(_json(rep))
            return
        self.stdout.write(
            f"样本 {rep['n']}：准确率 {rep['accuracy']:.4f}，宏F1 {rep['macro_f1']:.4f}"
        )
        self.stdout.write(f"{'类别':<16}{'精确率':>8}{'召回率':>8}{'F1':>8}{'样本':>6}")
        for c, r in rep["per_class"].items():
            self.stdout.write(
                f"{c:<16}{r['precision']:>8.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}{r['support']:>6}"
            )
        self.stdout.write("混淆矩阵（行=真实，列=预测）：" + "、".join(rep["confusion"]["labels"]))
        for c, row in zip(rep["confusion"]["labels"], rep["confusion"]["matrix"], strict=True):
            self.stdout.write(f"{c:<16}" + "".join(f"{v:>6}" for v in row))
        auto = rep["auto"]
        prec = "—" if auto["precision"] is None else f"{auto['precision']:.1%}"
        self.stdout.write(
            f"阈值 {auto['threshold']} 以上：覆盖 {auto['coverage']:.1%}（{auto['covered']} 条），"
            f"精确率 {prec}"
        )

    # --- hotspots ------------------------------------------------------------------------------

    def _hotspots(self, days, region, limit, json: bool = False, **_):
        from civicgrid.core.errors import ServiceError
        from civicgrid.triage import selectors

        if days < 1:
            raise CommandError("--days 必须是正整数")
        try:
            spots = selectors.hotspots(None, days=days, region=region, limit=limit)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(_json({"items": spots, "count": len(spots)}))
            return
        if not spots:
            self.stdout.write(f"最近 {days} 天没有热点问题")
        for s in spots:
            cat = s["category"]["name"] if s["category"] else "未分类"
            self.stdout.write(
                f"#{s['rank']} {s['size']} 件（增长 {s['growth']:+d}）{cat} · {s['place']}\n"
                f"    {s['representative']['text'][:60]}\n"
                f"    {' '.join(e['number'] for e in s['events'][:10])}"
            )


def taxonomy_examples(path: Path) -> tuple[list[str], list[str], list[str]]:
    """The three-level taxonomy as labelled examples: each third-level name (with its second
    level) is a short text of its first-level class."""
    from civicgrid.triage import dataset

    table = dataset.read_table(path)
    h = table.headers
    if len(h) < 3:
        raise CommandError(f"分类表 {path} 应有三列：一级分类,二级分类,三级分类")
    subjects = [r[h[2]] for r in table.rows]
    bodies = [f"{r[h[1]]} {r[h[2]]}" for r in table.rows]
    labels = [r[h[0]].strip() for r in table.rows]
    return subjects, bodies, labels


def _json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
