"""The roles of DESIGN §1 and the permissions each holds (plain data, no ORM).

Roles are Django groups named by role code; ``civicgrid init`` keeps the groups' permissions
equal to this table. What a user may see is further limited by their jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    label_en: str
    permissions: tuple[str, ...]
    staff: bool = True


_VIEW_TREE = ("geo.view_region", "accounts.view_department")
_VIEW_REGISTRY = (
    "registry.view_building",
    "registry.view_house",
    "registry.view_person",
    "registry.view_organisation",
    "registry.view_place",
)
_KEEP_RESIDENTS = (
    "registry.add_residence",
    "registry.change_residence",
    "registry.change_person",
    "registry.reveal_person",
)
# calls an event's reporter back: centre dispatchers, grid workers, stewards (as with the
# registry's persons) and the department handlers the event is dispatched to
_CALL_BACK = "events.reveal_reporter"

ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role("citizen", "市民", "Citizen", (), staff=False),
        Role("operator", "热线话务员", "Hotline operator", (*_VIEW_TREE, *_VIEW_REGISTRY)),
        Role(
            "grid_worker",
            "网格员",
            "Grid worker",
            (
                *_VIEW_TREE,
                *_VIEW_REGISTRY,
                *_KEEP_RESIDENTS,
                "registry.change_building",
                _CALL_BACK,
            ),
        ),
        Role("volunteer", "平安员/志愿者", "Safety officer / volunteer", _VIEW_TREE),
        Role(
            "dispatcher",
            "综治中心调度员",
            "Centre dispatcher",
            (
                *_VIEW_TREE,
                *_VIEW_REGISTRY,
                "accounts.view_user",
                "registry.reveal_person",
                _CALL_BACK,
            ),
        ),
        Role("department", "职能部门处置人员", "Department handler", (*_VIEW_TREE, _CALL_BACK)),
        Role("mediator", "调解员", "Mediator", _VIEW_TREE),
        Role("leader", "领导", "Leader", (*_VIEW_TREE, *_VIEW_REGISTRY, "accounts.view_user")),
        Role(
            "steward",
            "数据管理员",
            "Data steward",
            (
                *_VIEW_TREE,
                *_VIEW_REGISTRY,
                *_KEEP_RESIDENTS,
                _CALL_BACK,
                "geo.change_region",
                "accounts.change_department",
                "accounts.add_department",
                "registry.change_building",
                "registry.change_house",
                "registry.change_organisation",
                "registry.change_place",
            ),
        ),
        Role(
            "auditor",
            "审计员",
            "Auditor",
            (*_VIEW_TREE, "accounts.view_user", "audit.view_auditrecord"),
        ),
    ]
}


def role_label(code: str) -> str:
    role = ROLES.get(code)
    return role.label if role else code


def is_staff(user) -> bool:
    """Holds a staff role (every role but citizen), or is a superuser: the test for staff
    pages, the dashboard, hot issues and statistics."""
    if getattr(user, "is_superuser", False):
        return True
    return any(ROLES[r].staff for r in getattr(user, "roles", ()) if r in ROLES)
