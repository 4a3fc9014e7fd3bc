"""The event catalogue (事项目录) as plain data: checking a catalogue file's rows and the
in-memory tree the intake and routing consult on every event. No ORM here.

Codes are hierarchical digits: 大类 ``01``, 小类 ``0101``, item ``010101``; a node's parent is
its code without the last two digits. Leaves (nodes without children) must say how an event of
their kind is handled: deadline, urgency, on-the-spot closure, supervision lines and who is
responsible on which level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from civicgrid.events import routing
from civicgrid.events.workcal import Limit, parse_limit

INTAKE_TYPES = ("咨询", "求助", "投诉", "举报", "意见建议")
# reports (举报) are never shown to the public: the informant and the matter are protected
CONFIDENTIAL_TYPES = ("举报",)
# Public: reports citizens filed in public (the portal, the mini-program, Open311 apps) once
# triaged to a type that is not confidential. A hotline call, a grid worker's note or an
# inspection is a private conversation with the city; an untriaged report could still turn out
# to be a 举报. The Open311 feed lists only public events; the tracking page shows any other
# event only with its tracking code (查询码).
PUBLIC_CHANNELS = ("web", "miniprogram", "open311")


def is_public(channel: str, intake_type: str) -> bool:
    return (
        channel in PUBLIC_CHANNELS and bool(intake_type) and intake_type not in CONFIDENTIAL_TYPES
    )


URGENCIES = {"normal": "一般", "urgent": "紧急", "emergency": "特急"}
_URGENCY_WORDS = {v: k for k, v in URGENCIES.items()}
_CODE = re.compile(r"^\d{2}(\d{2}){0,3}$")
DEFAULT_RADIUS_M = 250
# A working day as working time, to compare hour limits with day limits (08:30–18:00 less lunch).
DAY_HOURS = 7.5


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    parent: str | None
    level: int
    leaf: bool = True
    intake_type: str = ""
    deadline: Limit | None = None
    urgency: str = "normal"
    on_spot: bool = False
    yellow: Limit | None = None
    red: Limit | None = None
    radius_m: int = DEFAULT_RADIUS_M
    route: tuple[tuple[str, str], ...] = ()
    assist: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    source: str = ""
    active: bool = True


@dataclass
class Problem:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 {self.column}“{self.value}”：{self.reason}"


class CatalogueError(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("；".join(str(p) for p in problems[:5]))
        self.problems = problems


def _hours(limit: Limit) -> float:
    return limit.amount * DAY_HOURS if limit.unit == "days" else limit.amount


def _bool(text: str) -> bool | None:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "y", "是", "可", "√"):
        return True
    if t in ("", "0", "false", "no", "n", "否", "不可"):
        return False
    return None


def check_rows(rows: Iterable[tuple[int, dict[str, str]]]) -> list[Node]:
    """Rows of a catalogue file → nodes, or CatalogueError naming every problem by line and
    column. The whole file is checked: a catalogue is loaded entirely or not at all."""
    problems: list[Problem] = []
    raw: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        code = (row.get("code") or "").strip()
        if not _CODE.match(code):
            problems.append(Problem(line, "编码", code, "应为 2、4、6 或 8 位数字"))
            continue
        if code in seen:
            problems.append(Problem(line, "编码", code, f"与第 {seen[code]} 行重复"))
            continue
        seen[code] = line
        raw.append((line, row))
    parents = {(row.get("parent") or "").strip() for _, row in raw}
    nodes: list[Node] = []
    for line, row in raw:
        code = row["code"].strip()
        name = (row.get("name") or "").strip()
        parent = (row.get("parent") or "").strip() or None
        before = len(problems)

        def bad(column: str, value: str, reason: str, line: int = line) -> None:
            problems.append(Problem(line, column, value, reason))

        if not name:
            bad("名称", name, "必填")
        if len(code) == 2 and parent:
            bad("上级编码", parent, "大类（2 位编码）不应有上级")
        if len(code) > 2:
            if parent != code[:-2]:
                bad("上级编码", parent or "", f"应为 {code[:-2]}（编码去掉末两位）")
            elif parent not in seen:
                bad("上级编码", parent, "目录中没有这个编码")
        leaf = code not in parents
        fields: dict = {}
        if leaf:
            fields = _leaf_fields(row, bad)
        if len(problems) == before:
            nodes.append(
                Node(
                    code=code,
                    name=name,
                    parent=parent,
                    level=len(code) // 2,
                    leaf=leaf,
                    source=(row.get("source") or "").strip(),
                    **fields,
                )
            )
    if problems:
        raise CatalogueError(problems)
    return nodes


def check_node(row: dict[str, str], *, leaf: bool, parent_known: bool) -> Node:
    """One node as the admin edits it, by the rules of a catalogue file."""
    code = (row.get("code") or "").strip()
    parent = (row.get("parent") or "").strip()
    problems: list[Problem] = []

    def bad(column: str, value: str, reason: str) -> None:
        problems.append(Problem(1, column, value, reason))

    if not _CODE.match(code):
        bad("编码", code, "应为 2、4、6 或 8 位数字")
    elif len(code) > 2 and parent != code[:-2]:
        bad("上级编码", parent, f"应为 {code[:-2]}（编码去掉末两位）")
    elif len(code) == 2 and parent:
        bad("上级编码", parent, "大类（2 位编码）不应有上级")
    if not parent_known:
        bad("上级编码", parent, "目录中没有这个编码")
    if not (row.get("name") or "").strip():
        bad("名称", "", "必填")
    fields = _leaf_fields(row, bad) if leaf else {}
    if problems:
        raise CatalogueError(problems)
    return Node(
        code=code,
        name=row["name"].strip(),
        parent=parent or None,
        level=len(code) // 2,
        leaf=leaf,
        source=(row.get("source") or "").strip(),
        **fields,
    )


def _limit(row, key: str, column: str, bad, required: bool) -> Limit | None:
    text = (row.get(key) or "").strip()
    if not text:
        if required:
            bad(column, text, "末级事项必填，如 4h 或 3d")
        return None
    try:
        return parse_limit(text)
    except ValueError as exc:
        bad(column, text, str(exc))
        return None


def _leaf_fields(row: dict[str, str], bad) -> dict:
    intake = (row.get("intake_type") or "").strip()
    if intake not in INTAKE_TYPES:
        bad("诉求类型", intake, f"应为 {'、'.join(INTAKE_TYPES)} 之一")
    deadline = _limit(row, "deadline", "办理时限", bad, True)
    yellow = _limit(row, "yellow", "黄牌线", bad, False) or deadline
    red = _limit(row, "red", "红牌线", bad, False)
    if red is None and deadline is not None:
        red = Limit(deadline.amount * 2, deadline.unit)
    if yellow and red and _hours(yellow) > _hours(red):
        bad("红牌线", str(red), f"不应早于黄牌线 {yellow}")
    urgency_text = (row.get("urgency") or "normal").strip()
    urgency = _URGENCY_WORDS.get(urgency_text, urgency_text)
    if urgency not in URGENCIES:
        bad("紧急程度", urgency_text, "应为 normal/urgent/emergency（一般/紧急/特急）")
    on_spot = _bool(row.get("on_spot") or "")
    if on_spot is None:
        bad("即巡即办", row.get("on_spot", ""), "应为 1 或 0（是/否）")
    radius_text = (row.get("radius_m") or "").strip()
    radius = DEFAULT_RADIUS_M
    if radius_text:
        if radius_text.isdigit() and int(radius_text) <= 100_000:
            radius = int(radius_text)
        else:
            bad("查重半径", radius_text, "应为 0–100000 的整数（米）")
    route_text = (row.get("route") or "").strip()
    pairs: list[tuple[str, str]] = []
    try:
        pairs = routing.parse_route(route_text)
    except ValueError as exc:
        bad("责任层级", route_text, str(exc))
    else:
        if not any(lv in ("district", "city") for lv, _ in pairs):
            bad("责任层级", route_text, "至少要有一个区级或市级责任部门，如 district:CG")
    assist = tuple(routing.parse_sectors(row.get("assist") or ""))
    keywords = tuple(k.strip() for k in (row.get("keywords") or "").split(";") if k.strip())
    return dict(
        intake_type=intake,
        deadline=deadline,
        urgency=urgency,
        on_spot=bool(on_spot),
        yellow=yellow,
        red=red,
        radius_m=radius,
        route=tuple(pairs),
        assist=assist,
        keywords=keywords,
    )


@dataclass
class Catalogue:
    """The catalogue in memory, plus the city's routing rules: what intake needs per event
    without a database trip."""

    nodes: dict[str, Node]
    rules: list[routing.Rule] = field(default_factory=list)

    def chain(self, code: str) -> list[str]:
        """The node and its ancestors, leaf first."""
        out = []
        cur: str | None = code
        while cur is not None and cur in self.nodes:
            out.append(cur)
            cur = self.nodes[cur].parent
        return out

    def related(self, code: str) -> set[str]:
        """Leaves under the same parent: events that may describe the same problem."""
        parent = self.nodes[code].parent
        return {c for c, n in self.nodes.items() if n.parent == parent and n.leaf}

    def route(self, code: str, places: dict[str, str], level: str | None = None):
        node = self.nodes[code]
        return routing.route(
            self.chain(code), places, self.rules, node.route, node.assist, level=level
        )
