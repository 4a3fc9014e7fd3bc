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

from django.utils.translation import gettext, pgettext, pgettext_lazy


def gettext_noop(message: str) -> str:
    """Marks a label for the English catalogue (makemessages looks for this name) and returns
    it as it is. Django's own needs configured settings; this table is read without them."""
    return message


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
    Status.REPORTED: gettext_noop("待受理"),
    Status.ACCEPTED: gettext_noop("已立案"),
    Status.REJECTED: gettext_noop("不予受理"),
    Status.MERGED: gettext_noop("已合并"),
    Status.DISPATCHED: gettext_noop("已派遣"),
    Status.IN_PROGRESS: gettext_noop("处置中"),
    Status.RETURNED: gettext_noop("已退单"),
    Status.RESOLVED: gettext_noop("处置完成"),
    Status.VERIFIED: gettext_noop("已核查"),
    Status.CLOSED: gettext_noop("已结案"),
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
        _a(
            "accept",
            gettext_noop("立案"),
            {Status.REPORTED},
            Status.ACCEPTED,
            _CENTRE | {"operator"},
            True,
        ),
        _a(
            "reject",
            gettext_noop("不予受理"),
            {Status.REPORTED},
            Status.REJECTED,
            _CENTRE | {"operator"},
            True,
        ),
        _a(
            "merge",
            gettext_noop("合并"),
            {Status.REPORTED, Status.ACCEPTED, Status.RETURNED},
            Status.MERGED,
            _CENTRE,
            True,
        ),
        _a(
            "dispatch",
            gettext_noop("派遣"),
            {Status.ACCEPTED, Status.RETURNED},
            Status.DISPATCHED,
            _CENTRE,
        ),
        _a("sign", gettext_noop("签收"), {Status.DISPATCHED}, Status.IN_PROGRESS, _DEPT),
        _a(
            "return",
            gettext_noop("退单"),
            {Status.DISPATCHED, Status.IN_PROGRESS},
            Status.RETURNED,
            _DEPT,
        ),
        _a(
            "contact",
            gettext_noop("联系诉求人"),
            {Status.DISPATCHED, Status.IN_PROGRESS},
            SAME,
            _DEPT,
        ),
        _a(
            "request_extension",
            gettext_noop("申请延期"),
            {Status.DISPATCHED, Status.IN_PROGRESS},
            SAME,
            _DEPT,
        ),
        _a(
            "grant_extension",
            gettext_noop("审批延期"),
            {Status.DISPATCHED, Status.IN_PROGRESS},
            SAME,
            _CENTRE,
        ),
        _a("resolve", gettext_noop("处置完成"), {Status.IN_PROGRESS}, Status.RESOLVED, _DEPT, True),
        _a(
            "verify",
            gettext_noop("核查"),
            {Status.RESOLVED},
            Status.VERIFIED,
            _CENTRE | {"grid_worker"},
        ),
        _a("close", gettext_noop("结案"), {Status.VERIFIED}, Status.CLOSED, _CENTRE, True),
        _a("rate", gettext_noop("评价"), {Status.CLOSED}, SAME, {"citizen", "operator"}),
        _a(
            "reopen",
            gettext_noop("重办"),
            {Status.CLOSED},
            Status.DISPATCHED,
            _CENTRE | {"operator"},
            True,
        ),
        _a("escalate", gettext_noop("上报上级"), _ACTIVE, SAME, _CENTRE),
        _a("command", gettext_noop("发令"), _ACTIVE, SAME, _CENTRE),
        _a("arrive", gettext_noop("到场"), _ACTIVE, SAME, _DEPT),
        _a("remind", gettext_noop("催办"), set(RUNNING), SAME, _CENTRE),
        _a("comment", gettext_noop("备注"), _OPEN | {Status.CLOSED}, SAME, _ANY_STAFF),
    ]
}

RETURN_REASONS: dict[str, str] = {
    "territory": gettext_noop("属地不符"),
    "ownership": gettext_noop("权属不清"),
    "overlap": gettext_noop("职能交叉"),
}
RATINGS: dict[str, str] = {
    "satisfied": gettext_noop("满意"),
    "basic": gettext_noop("基本满意"),
    "unsatisfied": gettext_noop("不满意"),
}
# The labels above are stored, sent by the API and written into timeline notes as they are
# (Chinese); gettext_noop only marks them for the English catalogue. Pages show them through
# these functions, in the language the reader chose.
#
# A few action labels are also status labels or headings ("不予受理", "处置完成", "评价",
# "发令", "备注"), which English words differently for a button: the action reading of those
# is marked here with a context, and action_label() prefers it.
ACTION_CONTEXT = "workflow action"
_ACTION_WORDING = (
    pgettext_lazy("workflow action", "不予受理"),
    pgettext_lazy("workflow action", "处置完成"),
    pgettext_lazy("workflow action", "评价"),
    pgettext_lazy("workflow action", "发令"),
    pgettext_lazy("workflow action", "备注"),
)


def status_label(status: str) -> str:
    """An event status as the reader's language names it (the code when unknown)."""
    label = STATUS_LABELS.get(status)
    return gettext(label) if label else status


def action_label(action: str) -> str:
    """A workflow action's name in the reader's language (the code when unknown)."""
    a = ACTIONS.get(action)
    if a is None:
        return action
    shown = pgettext(ACTION_CONTEXT, a.label)
    return shown if shown != a.label else gettext(a.label)


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
