"""The only code that changes users, departments, roles and tokens; each change is audited."""

from __future__ import annotations

import csv
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from civicgrid.accounts import token_cache
from civicgrid.accounts.backends import forget_permissions
from civicgrid.accounts.models import ApiToken, Department, DepartmentKind, User
from civicgrid.accounts.roles import ROLES
from civicgrid.audit import services as audit
from civicgrid.core.errors import FieldError, NotFound, ServiceError
from civicgrid.core.queries import one

DATA_DIR = Path(__file__).parent / "data"
TOKEN_PREFIX = "cg_"


# --- roles ------------------------------------------------------------------------------------
@transaction.atomic
def sync_roles(actor=None) -> int:
    """Make one group per role holding exactly the role's permissions; returns groups created."""
    created = 0
    for role in ROLES.values():
        group, was_created = Group.objects.get_or_create(name=role.code)
        created += was_created
        perms = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        if set(group.permissions.all()) != set(perms):
            group.permissions.set(perms)
            audit.record(
                "accounts.role.sync",
                actor=actor,
                object_type="auth.group",
                object_id=role.code,
                after={"permissions": list(role.permissions)},
            )
    forget_permissions()
    return created


# --- departments and centres ------------------------------------------------------------------
def _district_short(name: str) -> str:
    for suffix in ("新区", "区"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def department_specs(regions) -> list[dict]:
    """Functional departments per city/district, street offices, workstations and one centre
    per node down to communities. ``regions`` is an iterable of Region (city…community)."""
    with open(DATA_DIR / "departments.csv", encoding="utf-8") as fh:
        sectors = list(csv.DictReader(fh))
    specs: list[dict] = []
    nodes = sorted(regions, key=lambda r: r.path)
    city = next(r for r in nodes if r.level == "city")

    def add(region, suffix: str, name: str, kind: str, parent: str | None) -> None:
        specs.append(
            dict(
                code=f"{region.code}-{suffix}",
                name=name,
                kind=kind,
                sector=suffix,
                region=region,
                parent_code=parent,
            )
        )

    for r in nodes:
        if r.level in ("city", "district"):
            for s in sectors:
                if r.level == "city":
                    add(r, s["sector"], s["city_name"], DepartmentKind.FUNCTIONAL, None)
                else:
                    name = s["district_name"].format(district=r.name, short=_district_short(r.name))
                    add(
                        r,
                        s["sector"],
                        name,
                        DepartmentKind.FUNCTIONAL,
                        f"{city.code}-{s['sector']}",
                    )
        elif r.level == "street":
            add(r, "JD", f"{r.name}办事处", DepartmentKind.STREET_OFFICE, None)
        elif r.level == "community":
            add(r, "GZZ", f"{r.name}工作站", DepartmentKind.WORKSTATION, f"{r.parent_id}-JD")
        # one comprehensive governance centre (综治中心) per node, under its parent's
        add(
            r,
            "ZZ",
            f"{r.name}综治中心",
            DepartmentKind.CENTRE,
            f"{r.parent_id}-ZZ" if r.parent_id else None,
        )
    return specs


@transaction.atomic
def seed_departments(actor=None) -> int:
    """Add every department and centre that is missing; existing ones (perhaps edited in the
    admin) are left as they are. Returns how many were added."""
    from civicgrid.geo.models import Region

    regions = list(
        Region.objects.exclude(level="grid").only("code", "name", "level", "parent_id", "path")
    )
    if not regions:
        return 0
    existing = set(Department.objects.values_list("code", flat=True))
    specs = [s for s in department_specs(regions) if s["code"] not in existing]
    Department.objects.bulk_create(
        [
            Department(
                code=s["code"],
                name=s["name"],
                kind=s["kind"],
                sector=s["sector"],
                region=s["region"],
            )
            for s in specs
        ],
        batch_size=1000,
    )
    ids = dict(Department.objects.values_list("code", "id"))
    to_link = [
        Department(id=ids[s["code"]], parent_id=ids[s["parent_code"]])
        for s in specs
        if s["parent_code"] in ids
    ]
    Department.objects.bulk_update(to_link, ["parent"], batch_size=1000)
    if specs:
        audit.record(
            "accounts.department.seed",
            actor=actor,
            object_type="accounts.department",
            extra={"added": len(specs)},
        )
    return len(specs)


# Where each kind of body sits in the region tree (as department_specs seeds them), the sector
# its kind fixes, and the kind of its superior: a centre escalates to the centre of the node
# above, a workstation answers to its street's office, a district department to the city
# department of the same sector. Street offices and city-level bodies have no superior.
KIND_LEVELS = {
    DepartmentKind.FUNCTIONAL: ("city", "district"),
    DepartmentKind.STREET_OFFICE: ("street",),
    DepartmentKind.WORKSTATION: ("community",),
    DepartmentKind.CENTRE: ("city", "district", "street", "community"),
}
KIND_SECTORS = {
    DepartmentKind.STREET_OFFICE: "JD",
    DepartmentKind.WORKSTATION: "GZZ",
    DepartmentKind.CENTRE: "ZZ",
}
PARENT_KINDS = {
    DepartmentKind.CENTRE: DepartmentKind.CENTRE,
    DepartmentKind.WORKSTATION: DepartmentKind.STREET_OFFICE,
    DepartmentKind.FUNCTIONAL: DepartmentKind.FUNCTIONAL,
}
_PARENT_WANTED = {
    DepartmentKind.CENTRE: "上一级区域的综治中心",
    DepartmentKind.WORKSTATION: "所在街道的办事处",
    DepartmentKind.FUNCTIONAL: "上一级区域同条线的职能部门",
}
_LEVEL_NAMES = {"city": "市级", "district": "区级", "street": "街道", "community": "社区"}
DEPARTMENT_EDITABLE = frozenset({"name", "phone", "active", "parent", "sector"})
_SECTOR = re.compile(r"^[A-Z]{2,4}$")  # what a catalogue route can name (events.routing)


def _system(actor) -> bool:
    return actor is None or isinstance(actor, str)  # the CLI, seeding: no jurisdiction


def _inside(actor, path: str) -> bool:
    from civicgrid.accounts.scoping import contains

    return _system(actor) or contains(actor, path)


def _visible(actor, path: str) -> bool:
    """Inside the actor's jurisdiction or a node above it: what departments_for shows."""
    from civicgrid.accounts.scoping import ancestor_paths

    if _inside(actor, path):
        return True
    j = actor.jurisdiction if getattr(actor, "jurisdiction_id", None) else None
    return j is not None and path in ancestor_paths(j.path)


def _name_problem(name) -> str:
    limit = Department._meta.get_field("name").max_length
    name = (name or "").strip()
    if not name:
        return "必填"
    if len(name) > limit:
        return f"不能超过 {limit} 个字"
    if "<" in name or ">" in name:
        return "不能包含 < 或 >"
    return ""


def _resolve_parent(actor, parent) -> Department | None:
    """The department named as parent (an instance, a code or nothing), if the actor may see
    it; one outside is refused as if it did not exist."""
    if parent in (None, ""):
        return None
    if not isinstance(parent, Department):
        parent = Department.objects.select_related("region").filter(code=str(parent)).first()
    if parent is None or not _visible(actor, parent.region.path):
        raise ServiceError("机构信息有误", [FieldError("parent", "上级机构不存在或不在本辖区")])
    return parent


def _parent_problem(kind: str, sector: str, region, parent: Department | None) -> str:
    """Why ``parent`` cannot be the superior of a ``kind`` body at ``region`` ("" if it can).

    Escalation follows ``parent`` (events.services._escalate), so a centre's superior must be
    the centre of the node above, the one that sees every event of the centre's subtree: any
    other centre would be handed events it cannot see, and a centre below the city without
    one could not escalate. For the other kinds the superior may be left empty."""
    label = DepartmentKind(kind).label
    wanted = PARENT_KINDS.get(kind)
    if wanted is None or region.parent_id is None:
        return "" if parent is None else f"{label}（{region.name}）没有上级机构，请留空"
    candidates = Department.objects.filter(kind=wanted, region_id=region.parent_id)
    if kind == DepartmentKind.FUNCTIONAL:
        candidates = candidates.filter(sector=sector)
    if parent is not None and (
        parent.kind == wanted
        and parent.region_id == region.parent_id
        and (kind != DepartmentKind.FUNCTIONAL or parent.sector == sector)
    ):
        return ""
    if parent is None and kind != DepartmentKind.CENTRE:
        return ""
    one = candidates.order_by("code").first()
    hint = f"（{one.name}，{one.code}）" if one is not None else ""
    if parent is None:
        return f"必填：{label}的上级机构须为{_PARENT_WANTED[kind]}{hint}"
    return (
        f"{label}的上级机构须为{_PARENT_WANTED[kind]}{hint}，不能是 {parent.name}（{parent.code}）"
    )


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise ServiceError("机构信息有误", errors)


def check_new_department(
    actor,
    *,
    code: str,
    name: str,
    kind: str,
    region,
    sector: str = "",
    parent=None,
    phone: str = "",
    active: bool = True,
) -> dict:
    """The fields of a new department, checked and tidied, or ServiceError naming each bad
    field. ``region`` is a Region or its code; ``parent`` a Department, its code or None.

    The region must be a node of the actor's jurisdiction on a level the kind lives on; the
    code is ``<region code>-<sector>`` like every seeded one (routing finds departments by
    it), unique; the parent follows the tree (see _parent_problem)."""
    from civicgrid.geo.models import Region

    errors: list[FieldError] = []
    name = (name or "").strip()
    if problem := _name_problem(name):
        errors.append(FieldError("name", problem))
    if kind not in DepartmentKind.values:
        labels = "、".join(f"{k}（{label}）" for k, label in DepartmentKind.choices)
        errors.append(FieldError("kind", f"未知类型 {kind}；可选：{labels}"))
        kind = None
    if not isinstance(region, Region):
        region = Region.light.filter(code=str(region or "")).first()
    if region is None or not _inside(actor, region.path):
        errors.append(FieldError("region", "区域不存在或不在本辖区"))
        region = None
    elif kind is not None and region.level not in KIND_LEVELS[kind]:
        levels = "、".join(_LEVEL_NAMES[v] for v in KIND_LEVELS[kind])
        errors.append(
            FieldError("region", f"{DepartmentKind(kind).label}只设在{levels}，不在{region}")
        )
        region = None
    sector = (sector or "").strip().upper()
    sector_ok = kind is not None
    if kind in KIND_SECTORS:
        sector = sector or KIND_SECTORS[kind]
        if sector != KIND_SECTORS[kind]:
            label = DepartmentKind(kind).label
            errors.append(FieldError("sector", f"{label}的条线为 {KIND_SECTORS[kind]}"))
            sector_ok = False
    elif kind is not None and (not _SECTOR.match(sector) or sector in KIND_SECTORS.values()):
        errors.append(FieldError("sector", "职能部门须填条线：2 至 4 个大写字母，如 ZJ、CG"))
        sector_ok = False
    code = (code or "").strip().upper()
    if not code:
        errors.append(FieldError("code", "必填"))
    elif region is not None and sector_ok and code != f"{region.code}-{sector}":
        errors.append(FieldError("code", f"机构代码须为“区域代码-条线”，即 {region.code}-{sector}"))
    elif Department.objects.filter(code=code).exists():
        errors.append(FieldError("code", f"机构代码 {code} 已存在"))
    try:
        parent = _resolve_parent(actor, parent)
    except ServiceError as exc:
        errors.extend(exc.errors)
    else:
        problem = _parent_problem(kind, sector, region, parent) if sector_ok and region else ""
        if problem:
            errors.append(FieldError("parent", problem))
    phone = (phone or "").strip()
    if len(phone) > Department._meta.get_field("phone").max_length:
        errors.append(FieldError("phone", "电话号码过长"))
    _refuse(errors)
    return dict(
        code=code,
        name=name,
        kind=kind,
        sector=sector,
        region=region,
        parent=parent,
        phone=phone,
        active=bool(active),
    )


@transaction.atomic
def create_department(actor, **fields) -> Department:
    """Add a department or centre (see check_new_department for the rules)."""
    department = Department(**check_new_department(actor, **fields))
    _full_clean(department)
    try:
        with transaction.atomic():
            department.save()
    except IntegrityError:  # the same code added at the same moment by someone else
        raise ServiceError(
            "机构信息有误", [FieldError("code", f"机构编码 {department.code} 已存在")]
        ) from None
    audit.record(
        "accounts.department.create",
        actor=actor,
        obj=department,
        after=_department_summary(department),
    )
    return department


def check_department_changes(actor, department: Department, **changes) -> dict:
    """The changes, checked and tidied, or ServiceError naming each bad field. Code, kind and
    region never change; a department outside the actor's jurisdiction is as unknown as a
    missing one; a new parent (or a new sector under a parent) must follow the tree."""
    unknown = set(changes) - DEPARTMENT_EDITABLE
    if unknown:
        raise ServiceError("不可修改的字段", [FieldError(f, "不可修改") for f in sorted(unknown)])
    if not _inside(actor, department.region.path):
        raise NotFound(f"机构 {department.code} 不存在")
    errors: list[FieldError] = []
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if problem := _name_problem(changes["name"]):
            errors.append(FieldError("name", problem))
    if "sector" in changes:
        changes["sector"] = (changes["sector"] or "").strip().upper()
        fixed = KIND_SECTORS.get(department.kind)
        if fixed is not None and changes["sector"] != fixed:
            errors.append(
                FieldError("sector", f"{DepartmentKind(department.kind).label}的条线为 {fixed}")
            )
    if "parent" in changes:
        try:
            changes["parent"] = _resolve_parent(actor, changes["parent"])
        except ServiceError as exc:
            errors.extend(exc.errors)
    if not errors and ({"parent", "sector"} & set(changes)):
        parent = changes.get("parent", department.parent)
        sector = changes.get("sector", department.sector)
        if problem := _parent_problem(department.kind, sector, department.region, parent):
            errors.append(FieldError("parent", problem))
    if not errors and changes.get("sector", department.sector) != department.sector:
        # a functional department's superior is the one of its own sector (_parent_problem)
        child = (
            department.children.filter(kind=DepartmentKind.FUNCTIONAL)
            .exclude(sector=changes["sector"])
            .order_by("code")
            .first()
        )
        if child is not None:
            errors.append(
                FieldError(
                    "sector",
                    f"下级机构 {child.name}（{child.code}）的条线为 {child.sector}，"
                    "请先调整或移走下级机构",
                )
            )
    _refuse(errors)
    return changes


@transaction.atomic
def update_department(actor, department: Department, **changes) -> Department:
    changes = check_department_changes(actor, department, **changes)
    before = {k: str(getattr(department, k)) for k in changes}
    for key, value in changes.items():
        setattr(department, key, value)
    _full_clean(department)
    department.save()
    audit.record(
        "accounts.department.update",
        actor=actor,
        obj=department,
        before=before,
        after={k: str(getattr(department, k)) for k in changes},
    )
    return department


def _full_clean(department: Department) -> None:
    try:
        department.full_clean()
    except ValidationError as exc:
        raise ServiceError(
            "机构信息有误",
            [FieldError(f, "；".join(msgs)) for f, msgs in exc.message_dict.items()],
        ) from None


def _department_summary(department: Department) -> dict:
    return {
        "code": department.code,
        "name": department.name,
        "kind": department.kind,
        "sector": department.sector,
        "region": department.region_id,
        "parent": department.parent.code if department.parent_id else None,
    }


# --- users ------------------------------------------------------------------------------------
@dataclass
class UserResult:
    user: User
    created: bool
    password: str | None  # set when generated here, to show once


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def save_user(
    actor,
    username: str,
    *,
    role: str,
    region_code: str | None,
    department_code: str | None = None,
    password: str | None = None,
    full_name: str = "",
    generate: bool = True,
) -> UserResult:
    """Create a user, or update an existing one's role, jurisdiction and department.

    A new user without a password gets a generated one (returned once). Staff roles need a
    jurisdiction; the ``department`` role needs a department inside that jurisdiction.
    """
    from civicgrid.accounts.scoping import ancestor_paths
    from civicgrid.geo.models import Region

    errors: list[FieldError] = []
    if role not in ROLES:
        errors.append(FieldError("role", f"未知角色 {role}；可选：{', '.join(ROLES)}"))
    region = None
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            errors.append(FieldError("region", f"区域代码 {region_code} 不存在"))
        elif region.level == "grid":
            errors.append(FieldError("region", "辖区须为社区及以上的区域节点"))
    elif role in ROLES and ROLES[role].staff:
        errors.append(FieldError("region", "工作人员必须指定辖区"))
    department = None
    if department_code:
        department = (
            Department.objects.select_related("region").filter(code=department_code).first()
        )
        if department is None:
            errors.append(FieldError("department", f"机构代码 {department_code} 不存在"))
        elif region is not None and region.path not in ancestor_paths(department.region.path):
            errors.append(FieldError("department", "机构不在该用户的辖区内"))
    elif role == "department":
        errors.append(FieldError("department", "职能部门处置人员必须指定所属机构"))
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors.append(FieldError("password", "；".join(exc.messages)))
    if errors:
        raise ServiceError("用户信息有误", errors)

    user = User.objects.filter(username=username).first()
    created = user is None
    before = None if created else _user_summary(user)
    if created:
        user = User(username=username)
    user.jurisdiction = region
    user.department = department
    user.is_staff = ROLES[role].staff
    if full_name:
        user.full_name = full_name
    clear = None
    if password:
        user.set_password(password)
    elif created and generate:
        clear = generate_password()
        user.set_password(clear)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    forget_permissions(user.pk)
    audit.record(
        "accounts.user.create" if created else "accounts.user.update",
        actor=actor,
        obj=user,
        before=before,
        after=_user_summary(user),
    )
    return UserResult(user, created, clear)


def _user_summary(user: User) -> dict:
    return {
        "username": user.username,
        "roles": sorted(user.groups.values_list("name", flat=True)) if user.pk else [],
        "jurisdiction": user.jurisdiction_id,
        "department": user.department.code if user.department_id else None,
        "active": user.is_active,
    }


@transaction.atomic
def set_password(actor, user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(
            "密码不符合要求", [FieldError("password", "；".join(exc.messages))]
        ) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record("accounts.user.password", actor=actor, obj=user)


# --- API tokens -------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_token(actor, user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear text, which is never stored or shown again."""
    clear = TOKEN_PREFIX + secrets.token_hex(32)  # hex: a prefix never starts with "-"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=clear[len(TOKEN_PREFIX) :][:8],
        digest=_digest(clear),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(
        "accounts.token.issue",
        actor=actor,
        obj=token,
        after={"user": user.username, "prefix": token.prefix, "name": name},
    )
    return token, clear


@transaction.atomic
def revoke_token(actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        cache.delete(token_cache_key(token.digest))
        # and again once the revocation is visible: a lookup racing this transaction may
        # have put the old row back meanwhile
        transaction.on_commit(lambda: cache.delete(token_cache_key(token.digest)))
        audit.record(
            "accounts.token.revoke",
            actor=actor,
            obj=token,
            after={"user": token.user.username, "prefix": token.prefix},
        )
    return token


# Every API call starts by finding its token: the row (with its user) is kept in the shared
# cache for a short while (settings.TOKEN_CACHE_SECONDS; only when the cache is shared, i.e.
# Redis). Revoking a token, or any change to its user, drops it at once.


def token_cache_key(digest: str) -> str:
    return f"token:{digest}"


def user_for_token(clear: str) -> User | None:
    """The active user behind a bearer token, or None. Marks use at most once a minute, so a
    busy client does not turn every read into a write."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    key = token_cache_key(_digest(clear))
    seconds = settings.TOKEN_CACHE_SECONDS
    local = token_cache.tracker()  # this process's copy, kept honest by Redis (see there)
    token, generation = local.get(cache.make_key(key)) if local else (None, None)
    if token is None:
        token = cache.get(key) if seconds else None
        if token is None:
            token = one(
                ApiToken.objects.select_related("user", "user__jurisdiction")
                .defer("user__jurisdiction__geometry")  # every request: no polygon
                .filter(digest=_digest(clear))
            )
            if token is not None:
                token.user.roles  # noqa: B018 — loaded once, kept with the cached copy; a role
                # change drops the user's tokens from the cache (backends.forget_permissions)
            if token is not None and seconds:
                cache.set(key, token, seconds)
        if local and token is not None:
            local.put(cache.make_key(key), token, generation, seconds)
    if local:
        token = token_cache.fresh(token) if token is not None else None
    now = timezone.now()
    if (
        token is None
        or token.revoked_at is not None
        or not token.user.is_active
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        if seconds:
            cache.set(key, token, seconds)
    return token.user


def get_user(username: str) -> User:
    user = User.objects.filter(username=username).select_related("jurisdiction").first()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


@transaction.atomic
def make_superuser(actor, user: User) -> None:
    user.is_superuser = True
    user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    forget_permissions(user.pk)
    audit.record("accounts.user.superuser", actor=actor, obj=user)
