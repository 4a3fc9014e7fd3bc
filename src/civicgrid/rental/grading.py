"""Rental-house grading rules (DESIGN §7) as data, and their pure evaluation.

A rule set is a JSON document: the grades from best to worst (code, label, inspection
interval, what the grade means), how many consecutive clean inspections an upgrade needs, and
rules — each a set of conditions on a house's indicators that caps its grade, with the reason
and what to fix. ``parse`` validates a document and refuses it with the reason; ``evaluate``
gives the cap and the reasons; ``decide`` applies the dynamics: a violation downgrades at
once, an upgrade needs N consecutive inspections that allow a better grade and moves one step.

No ORM here: the bulk regrade compiles the same conditions to SQL (``rental.services``), and the
benchmark's limit evaluates them in memory with this module.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_noop

DATA = Path(__file__).parent / "data" / "rules"

# indicator → (type, label). The names are also the profile's columns; the pages translate
# the labels when they show them.
INDICATORS: dict[str, tuple[str, str]] = {
    "registered": ("int", gettext_noop("登记居住人数")),
    "observed": ("int", gettext_noop("检查时实住人数")),
    "safety_letter": ("bool", gettext_noop("已签订安全责任书")),
    "fire_facilities_ok": ("bool", gettext_noop("消防设施完好")),
    "escape_route_blocked": ("bool", gettext_noop("逃生通道堵塞")),
    "ebike_indoor_charging": ("bool", gettext_noop("电动自行车入户充电")),
    "illegal_use": ("bool", gettext_noop("违规用途（如三合一、仓库住人）")),
    "area_per_person": ("float", gettext_noop("人均居住面积（m²）")),
    "open_hazards": ("int", gettext_noop("未整改隐患数")),
    "incidents_12m": ("int", gettext_noop("近 12 个月案事件数")),
    "complaints_12m": ("int", gettext_noop("近 12 个月投诉举报数")),
    "refused_inspections": ("int", gettext_noop("近 12 个月拒绝检查次数")),
}

# what an inspection may report (indicator → type); ``refused`` marks a refused inspection
FINDINGS: dict[str, str] = {
    "observed": "int",
    "safety_letter": "bool",
    "fire_facilities_ok": "bool",
    "escape_route_blocked": "bool",
    "ebike_indoor_charging": "bool",
    "illegal_use": "bool",
    "incidents_12m": "int",
    "refused": "bool",
}

OPS: dict[str, Any] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
# how reasons are worded (the pages translate them when they show them)
REASON = gettext_noop("%(reason)s（%(grade)s）")
UPGRADED = gettext_noop("连续 %(n)s 次检查合格，升一级至%(grade)s")
DEFAULT_COLOURS = {"green": "#23a455", "yellow": "#f5c400", "orange": "#f08a00", "red": "#d9262c"}


class RuleError(ValueError):
    """A rule set that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Condition:
    indicator: str
    op: str
    value: Any = None  # a literal …
    ref: str | None = None  # … or another indicator

    def holds(self, values: Mapping[str, Any]) -> bool:
        left = values.get(self.indicator)
        right = values.get(self.ref) if self.ref else self.value
        if left is None or right is None:  # unknown never matches (as NULL in SQL)
            return False
        return bool(OPS[self.op](left, right))


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]
    grade: str
    reason: str
    fix: str = ""

    def holds(self, values: Mapping[str, Any]) -> bool:
        return all(c.holds(values) for c in self.conditions)


@dataclass(frozen=True)
class Grade:
    code: str
    label: str
    interval_days: int
    meaning: str = ""
    tenant_note: str = ""
    let_allowed: bool = True
    colour: str = "#888888"


@dataclass(frozen=True)
class RuleSet:
    name: str
    scheme: str
    grades: tuple[Grade, ...]
    rules: tuple[Rule, ...]
    upgrade_after: int = 2
    aliases: dict[str, str] = field(default_factory=dict)  # old grade → grade of this scheme
    version: int = 0

    @property
    def codes(self) -> list[str]:
        return [g.code for g in self.grades]

    def grade(self, code: str) -> Grade:
        return self.grades[self.rank(code)]

    def rank(self, code: str) -> int:
        """0 is the best grade. A grade this scheme does not know maps through ``aliases``,
        else to the worst grade (the safe side)."""
        codes = self.codes
        if code in codes:
            return codes.index(code)
        alias = self.aliases.get(code)
        return codes.index(alias) if alias in codes else len(codes) - 1

    @property
    def best(self) -> str:
        return self.grades[0].code

    @property
    def worst(self) -> str:
        return self.grades[-1].code


@dataclass(frozen=True)
class Evaluation:
    cap: str  # the best grade the indicators allow
    reasons: list[str]
    fixes: list[str]


@dataclass(frozen=True)
class Decision:
    grade: str
    streak: int  # consecutive inspections that allowed a better grade
    reasons: list[str]
    changed: bool


def evaluate(rules: RuleSet, values: Mapping[str, Any]) -> Evaluation:
    """The cap the indicators set and why (every matching rule, worst first)."""
    matched = [r for r in rules.rules if r.holds(values)]
    matched.sort(key=lambda r: -rules.rank(r.grade))
    cap = matched[0].grade if matched else rules.best
    reasons = [REASON % {"reason": r.reason, "grade": rules.grade(r.grade).label} for r in matched]
    fixes = [r.fix for r in matched if r.fix]
    return Evaluation(cap, reasons, list(dict.fromkeys(fixes)))


def decide(
    rules: RuleSet, current: str, ev: Evaluation, streak: int, *, inspection: bool
) -> Decision:
    """The next grade. A cap worse than the current grade applies at once; an inspection whose
    cap is better counts towards an upgrade, which needs ``upgrade_after`` of them in a row and
    moves one grade; any other inspection resets the count."""
    known = current in rules.codes
    cur = rules.rank(current)
    cap = rules.rank(ev.cap)
    if cap > cur:
        return Decision(ev.cap, 0, ev.reasons, True)
    if not known:  # a grade of a previous scheme: map it, say so
        mapped = rules.grades[cur].code
        return Decision(
            mapped, 0, [f"等级方案变更为“{rules.name}”，原等级 {current} 对应 {mapped}"], True
        )
    if not inspection:
        return Decision(current, streak, [], False)
    if cap < cur:
        streak += 1
        if streak >= rules.upgrade_after:
            up = rules.grades[cur - 1]
            why = UPGRADED % {"n": rules.upgrade_after, "grade": up.label}
            return Decision(up.code, 0, [why, *ev.reasons], True)
        return Decision(current, streak, [], False)
    return Decision(current, 0, [], False)


# --- loading ----------------------------------------------------------------------------------


def _condition(where: str, name: str, spec: Any) -> list[Condition]:
    if name not in INDICATORS:
        raise RuleError(f"{where}：未知指标 {name!r}（可用：{'、'.join(INDICATORS)}）")
    kind = INDICATORS[name][0]
    items = spec.items() if isinstance(spec, dict) else [("eq", spec)]
    out = []
    for op, value in items:
        if op not in OPS:
            raise RuleError(f"{where}：指标 {name} 的比较符 {op!r} 无效（可用：{'、'.join(OPS)}）")
        if kind == "bool" and op not in ("eq", "ne"):
            raise RuleError(f"{where}：是非指标 {name} 只能用 eq 或 ne")
        if isinstance(value, str):
            if value not in INDICATORS:
                raise RuleError(f"{where}：{name} 比较的对象 {value!r} 不是指标")
            if (INDICATORS[value][0] == "bool") != (kind == "bool"):
                raise RuleError(f"{where}：{name} 与 {value} 类型不同，不能比较")
            out.append(Condition(name, op, ref=value))
            continue
        if kind == "bool" and not isinstance(value, bool):
            raise RuleError(f"{where}：指标 {name} 的取值须为 true 或 false")
        if kind != "bool" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RuleError(f"{where}：指标 {name} 的取值须为数字")
        out.append(Condition(name, op, value=value))
    return out


def _text(where: str, data: Mapping, key: str, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise RuleError(f"{where}：缺少 {key}（文本）")
    return value.strip()


def parse(data: Any, *, version: int = 0) -> RuleSet:
    """Validate a rule-set document; raise ``RuleError`` naming the first problem."""
    if not isinstance(data, dict):
        raise RuleError("规则配置须为 JSON 对象")
    known = {"name", "scheme", "grades", "rules", "upgrade_after", "aliases", "note"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RuleError(f"未知的配置项：{'、'.join(unknown)}")
    name = _text("规则集", data, "name")
    scheme = _text("规则集", data, "scheme")
    raw_grades = data.get("grades")
    if not isinstance(raw_grades, list) or len(raw_grades) < 2:
        raise RuleError("grades 须列出至少两个等级（由宽到严）")
    grades = []
    for i, g in enumerate(raw_grades, 1):
        where = f"第 {i} 个等级"
        if not isinstance(g, dict):
            raise RuleError(f"{where}：须为对象")
        code = _text(where, g, "code")
        interval = g.get("interval_days")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise RuleError(f"{where}（{code}）：interval_days 须为正整数（检查间隔天数）")
        let = g.get("let_allowed", True)
        if not isinstance(let, bool):
            raise RuleError(f"{where}（{code}）：let_allowed 须为 true 或 false")
        grades.append(
            Grade(
                code=code,
                label=_text(where, g, "label"),
                interval_days=interval,
                meaning=_text(where, g, "meaning", required=False),
                tenant_note=_text(where, g, "tenant_note", required=False),
                let_allowed=let,
                colour=_text(where, g, "colour", required=False)
                or DEFAULT_COLOURS.get(code, "#888888"),
            )
        )
    codes = [g.code for g in grades]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise RuleError(f"等级编码重复：{'、'.join(dupes)}")
    upgrade_after = data.get("upgrade_after", 2)
    if isinstance(upgrade_after, bool) or not isinstance(upgrade_after, int) or upgrade_after < 1:
        raise RuleError("upgrade_after 须为正整数（升级所需连续合格检查次数）")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        raise RuleError("rules 须为列表")
    rules = []
    for i, r in enumerate(raw_rules, 1):
        where = f"第 {i} 条规则"
        if not isinstance(r, dict):
            raise RuleError(f"{where}：须为对象")
        when = r.get("when")
        if not isinstance(when, dict) or not when:
            raise RuleError(f"{where}：when 须为非空对象（指标 → 条件）")
        grade = r.get("grade")
        if grade not in codes:
            raise RuleError(f"{where}：等级 {grade!r} 不在本方案中（{'、'.join(codes)}）")
        conditions = [c for k, v in when.items() for c in _condition(where, k, v)]
        rules.append(
            Rule(
                tuple(conditions),
                grade,
                _text(where, r, "reason"),
                _text(where, r, "fix", required=False),
            )
        )
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or any(v not in codes for v in aliases.values()):
        raise RuleError(f"aliases 须把旧等级映射到本方案的等级（{'、'.join(codes)}）")
    return RuleSet(name, scheme, tuple(grades), tuple(rules), upgrade_after, aliases, version)


def loads(text: str, *, version: int = 0) -> RuleSet:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleError(f"JSON 格式无效：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}") from None
    return parse(data, version=version)


def shipped(name: str = "default") -> dict:
    """A rule set that ships with civicgrid (``default``: 3 grades; ``longgang``: 4)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
