"""The event workflow as data (DESIGN §6): which action moves an event from which status to
which, and which role may take it. Plain Python, no ORM: the services consult it, the API
names the allowed actions from it, and the tests read it directly.

The main line is GB/T 30428's seven steps joined to the 12345 closed loop:
``reported → accepted → dispatched → in_progress → resolved → verified → closed``, with the side
paths 不予受理 (rejected), 合并 (merged), 退单 (returned to the dispatcher), 重办 (reopened).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"


STATUS_LABELS: dict[str, str] = {
    Status.REPORTED: "待受理",
    Status.ACCEPTED: "已立案",
    Status.REJECTED: "不予受理",
    Status.MERGED: "已合并",
    Status.DISPATCHED: "已派遣",
    Status.IN_PROGRESS: "处置中",
    Status.RETURNED: "已退单",
    Status.RESOLVED: "处置完成",
    Status.VERIFIED: "已核查",
    Status.CLOSED: "已结案",
}

# Events in these states need nobody's work any more; everything else is "open".
FINAL = frozenset({Status.REJECTED, Status.MERGED, Status.CLOSED})
OPEN = frozenset(Status) - FINAL
# Work is under way at a department: the deadline runs and supervision applies.
RUNNING = frozenset({Status.DISPATCHED, Status.IN_PROGRESS})

SAME = None  # the action leaves the status as it is


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    public_note: bool = False  # whether its note is shown to the citizen by default


def _a(code, label, sources, target, roles, public=False) -> Action:
    return Action(code, label, frozenset(sources), target, frozenset(roles), public)


_CENTRE = {"dispatcher"}
_DEPT = {"department"}
_ANY_STAFF = {"operator", "grid_worker", "dispatcher", "department", "leader", "volunteer"}
_OPEN = set(OPEN)
_ACTIVE = {Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED}

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in [
        _a("accept", "立案", {Status.REPORTED}, Status.ACCEPTED, _CENTRE | {"operator"}, True),
        _a("reject", "不予受理", {Status.REPORTED}, Status.REJECTED, _CENTRE | {"operator"}, True),
        _a(
            "merge",
            "合并",
            {Status.REPORTED, Status.ACCEPTED, Status.RETURNED},
            Status.MERGED,
            _CENTRE,
            True,
        ),
        _a("dispatch", "派遣", {Status.ACCEPTED, Status.RETURNED}, Status.DISPATCHED, _CENTRE),
        _a("sign", "签收", {Status.DISPATCHED}, Status.IN_PROGRESS, _DEPT),
        _a("return", "退单", {Status.DISPATCHED, Status.IN_PROGRESS}, Status.RETURNED, _DEPT),
        _a("contact", "联系诉求人", {Status.DISPATCHED, Status.IN_PROGRESS}, SAME, _DEPT),
        _a("request_extension", "申请延期", {Status.DISPATCHED, Status.IN_PROGRESS}, SAME, _DEPT),
        _a("grant_extension", "审批延期", {Status.DISPATCHED, Status.IN_PROGRESS}, SAME, _CENTRE),
        _a("resolve", "处置完成", {Status.IN_PROGRESS}, Status.RESOLVED, _DEPT, True),
        _a("verify", "核查", {Status.RESOLVED}, Status.VERIFIED, _CENTRE | {"grid_worker"}),
        _a("close", "结案", {Status.VERIFIED}, Status.CLOSED, _CENTRE, True),
        _a("rate", "评价", {Status.CLOSED}, SAME, {"citizen", "operator"}),
        _a("reopen", "重办", {Status.CLOSED}, Status.DISPATCHED, _CENTRE | {"operator"}, True),
        _a("escalate", "上报上级", _ACTIVE, SAME, _CENTRE),
        _a("command", "发令", _ACTIVE, SAME, _CENTRE),
        _a("arrive", "到场", _ACTIVE, SAME, _DEPT),
        _a("remind", "催办", set(RUNNING), SAME, _CENTRE),
        _a("comment", "备注", _OPEN | {Status.CLOSED}, SAME, _ANY_STAFF),
    ]
}

RETURN_REASONS: dict[str, str] = {
    "territory": "属地不符",
    "ownership": "权属不清",
    "overlap": "职能交叉",
}
RATINGS: dict[str, str] = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
# An event returned or re-handled this often, or passed through this many departments,
# becomes a 问题工单 and goes to the parent centre (REFERENCE §3).
PROBLEM_THRESHOLD = 3


def allowed(status: str, roles: set[str] | frozenset[str], *, superuser: bool = False) -> list[str]:
    """The actions a holder of ``roles`` may take on an event in ``status``, in table order."""
    return [
        a.code
        for a in ACTIONS.values()
        if status in a.sources and (superuser or a.roles & set(roles))
    ]


def target(action: str, status: str) -> str:
    """The status after ``action`` (the same status for actions that do not move it)."""
    a = ACTIONS[action]
    return status if a.target is None else a.target


def is_problem(*, returned: int, reopened: int, departments: int, rework: int = 0) -> bool:
    """问题工单: returned or re-handled 3+ times, or passed through 3+ departments."""
    handled_again = returned + reopened + rework
    return handled_again >= PROBLEM_THRESHOLD or departments >= PROBLEM_THRESHOLD
