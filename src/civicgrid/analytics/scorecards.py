"""Department and street evaluation (考评): six measures, configurable weights, a ranking.

Measures (each a share in [0, 1], higher is better after the "1 −" of the bad ones):

* 按时签收率 ``sign_rate``: tasks dispatched in the period signed within ``SIGN_HOURS``
  working hours (settings ``ANALYTICS_SIGN_HOURS``, default 2) ÷ tasks dispatched (tasks
  withdrawn before anyone could sign them are left out).
* 按期结案率 ``on_time_rate``, 满意率 ``satisfaction_rate``, 发回重办率 ``reopened_rate``: the
  KPIs of DESIGN §10 grouped by the lead department (or the street).
* 退单率 ``returned_rate``: for a department, its returned lead tasks ÷ lead tasks dispatched to
  it (the department that returned, not the one that finally handled); for a street the §10 KPI.
* 督办 ``supervision``: 1 − (黄牌 + 2 × 红牌) ÷ tasks (at least 0), from the supervision entries
  of the period's timeline.

score = 100 × Σ wᵢ·sᵢ ÷ Σ wᵢ over the measures that have a value (a measure with a zero
denominator does not count for or against). Weights come from ``ANALYTICS_SCORE_WEIGHTS`` or the
request (``weights=on_time_rate:40,satisfaction_rate:30``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Mapping

from civicgrid.analytics import kpi, selectors
from civicgrid.core.errors import FieldError, ServiceError

DEFAULT_WEIGHTS = {
    "sign_rate": 15.0,
    "on_time_rate": 30.0,
    "returned_rate": 10.0,
    "reopened_rate": 10.0,
    "satisfaction_rate": 25.0,
    "supervision": 10.0,
}
MEASURE_LABELS = {
    "sign_rate": "按时签收率",
    "on_time_rate": "按期结案率",
    "returned_rate": "退单率",
    "reopened_rate": "发回重办率",
    "satisfaction_rate": "满意率",
    "supervision": "督办（黄牌/红牌）",
}
LOWER_IS_BETTER = {"returned_rate", "reopened_rate"}
BY = {"department": "部门", "street": "街道"}


# --- pure rules ------------------------------------------------------------------------------


def parse_weights(text: str | None, base: Mapping[str, float]) -> dict[str, float]:
    """``"on_time_rate:40,satisfaction_rate:30"`` over the base weights; ValueError says why."""
    out = dict(base)
    if not text:
        return out
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        name = name.strip()
        if not sep or name not in DEFAULT_WEIGHTS:
            raise ValueError(f"权重项 {part.strip()} 无效（可用：{'、'.join(DEFAULT_WEIGHTS)}）")
        try:
            w = float(value)
        except ValueError:
            raise ValueError(f"权重 {name} 必须是数字") from None
        if not 0 <= w <= 1000:
            raise ValueError(f"权重 {name} 应在 0 到 1000 之间")
        out[name] = w
    if sum(out.values()) <= 0:
        raise ValueError("权重之和必须大于 0")
    return out


def supervision_share(yellow: int, red: int, tasks: int) -> float | None:
    if not tasks:
        return None
    return max(0.0, 1.0 - (yellow + 2 * red) / tasks)


def score(measures: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    num = den = 0.0
    for name, w in weights.items():
        v = measures.get(name)
        if v is None or w <= 0:
            continue
        num += w * ((1.0 - v) if name in LOWER_IS_BETTER else v)
        den += w
    return None if den == 0 else round(100.0 * num / den, 2)


def rank(cards: list[dict]) -> list[dict]:
    """Best score first (no score last), ties share a rank; order within a tie by key."""
    cards = sorted(cards, key=lambda c: (c["score"] is None, -(c["score"] or 0), c["key"]))
    last, place = None, 0
    for i, c in enumerate(cards, 1):
        if c["score"] != last:
            place, last = i, c["score"]
        c["rank"] = place if c["score"] is not None else None
    return cards


# --- data ------------------------------------------------------------------------------------


def _sign_limit() -> dt.timedelta:
    from django.conf import settings

    return dt.timedelta(hours=float(getattr(settings, "ANALYTICS_SIGN_HOURS", 2)))


def _street_of(path: str) -> str:
    parts = path.split(".")
    return parts[2] if len(parts) > 2 else ""


def _task_counts(scope: selectors.Scope, p: kpi.Period, by: str) -> dict[str, dict]:
    """Per department code (or street): tasks, signed in time, lead tasks, returned lead."""
    from civicgrid.events.calendar_selectors import calendar
    from civicgrid.events.models import Task

    cal, limit = calendar(), _sign_limit()
    qs = Task.objects.filter(
        dispatched_at__gte=p.start,
        dispatched_at__lt=p.end,
    ).filter(_in_scope("event__region_path", scope))
    out: dict[str, dict] = defaultdict(
        lambda: {"tasks": 0, "signed": 0, "lead": 0, "lead_returned": 0}
    )
    for dept, path, lead, status, dispatched, signed in qs.values_list(
        "department__code", "event__region_path", "lead", "status", "dispatched_at", "signed_at"
    ).iterator(2000):
        if status == "cancelled" and signed is None:
            continue
        c = out[dept if by == "department" else _street_of(path)]
        c["tasks"] += 1
        if signed is not None and cal.working_hours_between(dispatched, signed) <= limit:
            c["signed"] += 1
        if lead:
            c["lead"] += 1
            c["lead_returned"] += 1 if status == "returned" else 0
    return out


def _in_scope(field: str, scope: selectors.Scope):
    from django.db.models import Q

    return Q(**{field: scope.path}) | Q(**{f"{field}__startswith": scope.path + "."})


def _cards_counts(scope: selectors.Scope, p: kpi.Period, by: str) -> dict[str, dict]:
    from civicgrid.events.models import TimelineEntry

    out: dict[str, dict] = defaultdict(lambda: {"yellow": 0, "red": 0})
    qs = TimelineEntry.objects.filter(
        action__in=("yellow_card", "red_card"), at__gte=p.start, at__lt=p.end
    ).filter(_in_scope("event__region_path", scope))
    for action, dept, path in qs.values_list(
        "action", "department__code", "event__region_path"
    ).iterator(2000):
        key = (dept or selectors.NONE_KEY) if by == "department" else _street_of(path)
        out[key]["yellow" if action == "yellow_card" else "red"] += 1
    return out


def scorecard(user, region, first, last, by: str, weights_text: str | None) -> dict:
    from django.conf import settings

    if by not in BY:
        raise ServiceError("输入有误", [FieldError("by", "考评对象应为 department 或 street")])
    base = dict(getattr(settings, "ANALYTICS_SCORE_WEIGHTS", DEFAULT_WEIGHTS))
    try:
        weights = parse_weights(weights_text, base)
    except ValueError as exc:
        raise ServiceError("输入有误", [FieldError("weights", str(exc))]) from None
    p = selectors.period_for(first, last)
    scope = selectors.region_for(user, region)
    rows = {r["key"]: r for r in selectors.rows(scope, p, by)}
    tasks = _task_counts(scope, p, by)
    cards_ = _cards_counts(scope, p, by)
    cards = []
    for key in sorted(set(rows) | set(tasks)):
        if key in ("", selectors.NONE_KEY):
            continue
        r, t, c = rows.get(key), tasks.get(key), cards_.get(key, {"yellow": 0, "red": 0})
        t = t or {"tasks": 0, "signed": 0, "lead": 0, "lead_returned": 0}
        measures = {
            "sign_rate": kpi._rate(t["signed"], t["tasks"]),
            "on_time_rate": r["on_time_rate"] if r else None,
            "returned_rate": (
                kpi._rate(t["lead_returned"], t["lead"])
                if by == "department"
                else (r["returned_rate"] if r else None)
            ),
            "reopened_rate": r["reopened_rate"] if r else None,
            "satisfaction_rate": r["satisfaction_rate"] if r else None,
            "supervision": supervision_share(c["yellow"], c["red"], t["tasks"]),
        }
        cards.append(
            {
                "key": key,
                "name": r["name"] if r else _name(by, key),
                "tasks": t["tasks"],
                "due": r["due"] if r else 0,
                "yellow": c["yellow"],
                "red": c["red"],
                **measures,
                "score": score(measures, weights),
            }
        )
    ranked = rank(cards)
    return {
        "region": {"code": scope.code, "name": scope.name, "level": scope.level},
        "from": p.first,
        "to": p.last,
        "by": by,
        "weights": weights,
        "items": ranked,
        "count": len(ranked),
    }


def _name(by: str, key: str) -> str:
    if by == "department":
        from civicgrid.accounts.models import Department

        return Department.objects.filter(code=key).values_list("name", flat=True).first() or key
    from civicgrid.geo.models import Region

    return Region.light.filter(code=key).values_list("name", flat=True).first() or key


# --- XLSX ------------------------------------------------------------------------------------


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 2)


def write_sheet(ws, card: dict) -> None:
    """The ranking as a worksheet: one row per department/street, percentages as numbers."""
    ws.append([f"{card['region']['name']} {BY[card['by']]}考评 {card['from']} 至 {card['to']}"])
    ws.append(["权重"] + [f"{MEASURE_LABELS[k]} {w:g}" for k, w in card["weights"].items()])
    head = ["排名", "代码", "名称", "得分", "派遣任务数", "应结案数", "黄牌", "红牌"]
    head += [f"{MEASURE_LABELS[k]}（%）" for k in DEFAULT_WEIGHTS]
    ws.append(head)
    for c in card["items"]:
        ws.append(
            [
                c["rank"],
                c["key"],
                c["name"],
                c["score"],
                c["tasks"],
                c["due"],
                c["yellow"],
                c["red"],
            ]
            + [_pct(c[k]) for k in DEFAULT_WEIGHTS]
        )


def to_xlsx(card: dict) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "考评"
    write_sheet(ws, card)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
