"""What ``civicgrid init`` and ``civicgrid demo`` do, as plain functions the tests call too."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.management import call_command

from civicgrid.accounts import services as accounts
from civicgrid.geo import services as geo
from civicgrid.geo.layout import DEFAULT_GRIDS_PER_COMMUNITY

# `make demo` should be up in about a minute: ~1,200 buildings, 40,000 residents.
DEMO_SCALE = 0.002


@dataclass
class InitReport:
    regions: dict[str, int]
    departments: int
    roles: int
    imports: list = field(default_factory=list)
    history: object = None  # simulate.history.HistoryReport when history was simulated


def initialise(
    *,
    seed: int = 0,
    grids_per_community: int = DEFAULT_GRIDS_PER_COMMUNITY,
    scale: float = 0.0,
    migrate: bool = True,
    progress=None,
    history_days: int = 0,
) -> InitReport:
    """Migrate, then add whatever of the base data is missing; with ``scale`` > 0 also the
    synthetic city (F × Shenzhen) through the importer. Safe to run again."""
    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    roles = accounts.sync_roles("init")
    loaded = geo.load_shenzhen(
        "init", grids_per_community=grids_per_community, seed=seed, progress=progress
    )
    departments = accounts.seed_departments("init")
    _seed_calendar()
    from civicgrid.events.catalogue_services import seed_catalogue

    seed_catalogue("init")
    imports = []
    if scale > 0:
        from django.conf import settings

        from civicgrid.simulate.synthetic import build_city

        imports = build_city(settings.DATA_DIR, scale=scale, seed=seed, progress=progress)
        from civicgrid.rental.services import create_profiles

        # every let house of the synthetic city gets a rental profile and a grade (DESIGN §7)
        create_profiles("init", synthetic=True)
    history = None
    if history_days > 0:  # N days of events through the hub's services (rerun adds nothing)
        from civicgrid.simulate.history import simulate_history

        history = simulate_history(history_days, seed=seed, scale=scale or None, progress=progress)
    return InitReport(loaded.created, departments, roles, imports, history)


def _seed_calendar() -> None:
    """Last year to three years ahead: official where chinese-calendar knows the year,
    estimated beyond (DESIGN §6)."""
    import datetime as dt

    from civicgrid.events.calendar_services import seed_years

    this = dt.date.today().year
    seed_years(range(this - 1, this + 3), actor="init")


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
