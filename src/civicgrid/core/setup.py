"""What ``civicgrid init`` and ``civicgrid demo`` do, as plain functions the tests call too."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management import call_command

from civicgrid.accounts import services as accounts
from civicgrid.geo import services as geo
from civicgrid.geo.layout import DEFAULT_GRIDS_PER_COMMUNITY


@dataclass
class InitReport:
    regions: dict[str, int]
    departments: int
    roles: int


def initialise(
    *,
    seed: int = 0,
    grids_per_community: int = DEFAULT_GRIDS_PER_COMMUNITY,
    migrate: bool = True,
    progress=None,
) -> InitReport:
    """Migrate, then add whatever of the base data is missing. Safe to run again."""
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    roles = accounts.sync_roles("init")
    loaded = geo.load_shenzhen(
        "init", grids_per_community=grids_per_community, seed=seed, progress=progress
    )
    departments = accounts.seed_departments("init")
    return InitReport(loaded.created, departments, roles)


# One demo account per role, each with a jurisdiction that makes its job visible.
DEMO_USERS = [
    # username, role, region, department, full name
    ("demo_operator", "operator", "440300", None, "热线话务员"),
    ("demo_grid", "grid_worker", "440306017001", None, "网格员"),
    ("demo_volunteer", "volunteer", "440306017001", None, "平安员"),
    ("demo_dispatcher", "dispatcher", "440306", "440306-ZZ", "宝安区综治中心调度员"),
    ("demo_department", "department", "440306", "440306-ZJ", "宝安区住建局处置人员"),
    ("demo_mediator", "mediator", "440306017", None, "新安街道调解员"),
    ("demo_leader", "leader", "440300", None, "市领导"),
    ("demo_steward", "steward", "440300", None, "数据管理员"),
    ("demo_auditor", "auditor", "440300", None, "审计员"),
    ("demo_citizen", "citizen", None, None, "市民"),
]


def demo_users() -> list[tuple[str, str, str, str]]:
    """(Re)create the demo accounts with fresh passwords; returns (user, role, region, pw)."""
    from civicgrid.accounts.roles import role_label

    logins = []
    for username, role, region, dept, name in DEMO_USERS:
        password = accounts.generate_password()
        result = accounts.save_user(
            "demo",
            username,
            role=role,
            region_code=region,
            department_code=dept,
            password=password,
            full_name=name,
        )
        where = result.user.jurisdiction.name if result.user.jurisdiction_id else "—"
        logins.append((username, role_label(role), where, password))
    password = accounts.generate_password()
    admin = accounts.save_user(
        "demo",
        "admin",
        role="steward",
        region_code="440300",
        password=password,
        full_name="系统管理员",
    )
    accounts.make_superuser("demo", admin.user)
    logins.append(("admin", "超级管理员", "深圳市", password))
    return logins
