"""The only code that changes rental houses (DESIGN §7): rule sets, profiles, inspections,
tenants' self-registration, the bulk regrade and the inspection schedule.

Per-house actions evaluate the rules with the pure ``grading`` module. The bulk actions compile
the same rules to SQL (``_cap_rank``) so one statement re-evaluates every house of a region:
``regrade`` inserts the history rows and updates the grades set-based, never a loop of saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Greatest, Least, Mod, NullIf
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_noop

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import sees_everything
from civicgrid.audit import services as audit
from civicgrid.core import uploads
from civicgrid.core.errors import FieldError, NotFound, ServiceError
from civicgrid.core.uploads import MAX_PHOTOS
from civicgrid.registry import codes
from civicgrid.registry import services as registry_services
from civicgrid.registry.models import House, Organisation, Person, Residence
from civicgrid.rental import grading, selectors, signing
from civicgrid.rental.models import (
    GradeChange,
    Inspection,
    InspectionTask,
    RentalProfile,
    RuleSetVersion,
    SelfRegistration,
)

SYSTEM = "system"
# inspection findings that are hazards: (finding, bad value) → catalogue leaf (section 07)
HAZARDS: dict[tuple[str, Any], tuple[str, str]] = {
    ("escape_route_blocked", True): ("070301", "出租屋逃生通道堵塞"),
    ("ebike_indoor_charging", True): ("070302", "出租屋电动自行车入户充电"),
    ("illegal_use", True): ("070304", "出租屋违规用途（三合一、仓库住人等）"),
    ("fire_facilities_ok", False): ("070303", "出租屋消防设施缺失或损坏"),
}
UNDECLARED = ("070401", "出租屋住户未申报居住登记")
# events in these catalogue branches, linked to a house and not finished, are its open hazards
HAZARD_PREFIXES = ("0703", "0704", "0705", "0706")
FINAL_STATUSES = ("closed", "rejected", "merged")
# a count found at a door (people living there, incidents in a year): far above any real
# house, far below what a database integer column holds
MAX_COUNT = 10_000
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


# --- who ---------------------------------------------------------------------------------------


# residences that count as registered: current ones, except a tenant's own declaration at the
# door (source "qr") until the grid worker has verified it — a stranger at the door cannot
# hide the "fewer registered than living there" hazard
COUNTED = Q(until=None) & ~Q(source="qr", verified=False)


def _roles(user) -> set[str]:
    return set(getattr(user, "roles", ()) or ())


def _require_role(user, roles: set[str], what: str) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(f"无权{what}")
    if not (user.is_superuser or _roles(user) & roles):
        raise PermissionDenied(f"无权{what}")


def can_inspect(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or "grid_worker" in _roles(user))
    )


def _now() -> dt.datetime:
    return timezone.now()


# --- rules -------------------------------------------------------------------------------------


@transaction.atomic
def load_rules(actor, data: Any) -> RuleSetVersion:
    """Put a new rule set in force. An invalid one is refused with the reason (422) and the
    rules in force stay as they are."""
    if not isinstance(actor, str):  # a string is the operator at the console (the CLI)
        _require_role(actor, {"steward"}, "修改出租屋分级规则")
        if not sees_everything(actor):  # the rules grade every house of the city
            raise PermissionDenied("分级规则全市统一，须由市级数据管理员修改")
    if isinstance(data, str | bytes):
        try:
            parsed = grading.loads(data.decode() if isinstance(data, bytes) else data)
        except grading.RuleError as exc:
            raise ServiceError(f"规则配置无效：{exc}", [FieldError("config", str(exc))]) from None
        import json

        data = json.loads(data)
    else:
        try:
            parsed = grading.parse(data)
        except grading.RuleError as exc:
            raise ServiceError(f"规则配置无效：{exc}", [FieldError("config", str(exc))]) from None
    last = RuleSetVersion.objects.select_for_update().order_by("-version").first()
    version = (last.version if last else 0) + 1
    RuleSetVersion.objects.filter(active=True).update(active=False)
    row = RuleSetVersion.objects.create(
        version=version,
        name=parsed.name,
        scheme=parsed.scheme,
        config=data,
        created_by=_actor_name(actor),
    )
    audit.record(
        "rental.rules.load",
        actor=actor,
        obj=row,
        after={"version": version, "scheme": parsed.scheme, "name": parsed.name},
    )
    selectors.reset()  # this process at once, inside the transaction too
    transaction.on_commit(selectors.reset)
    return row


def _actor_name(actor) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return actor.get_username()


# --- profiles ----------------------------------------------------------------------------------


def _landlord(actor, id_number: str, credit_code: str) -> tuple[Person | None, Organisation | None]:
    """The landlord by ID number anywhere in the city (landlords often live elsewhere; the
    answer then names them by the masked ID number the caller typed, not by name), or by
    credit code (public by law). A number the registry does not know is recorded by the number
    alone: the answer is the same as for a landlord elsewhere, so the form cannot be used to
    ask whether somebody is in the population registry."""
    person = org = None
    if id_number:
        try:
            info = codes.parse_id_number(id_number)
        except codes.CodeError as exc:
            raise ServiceError("输入有误", [FieldError("landlord_id_number", str(exc))]) from None
        person = registry_services.person_by_id_number(actor, info)
    if credit_code:
        org = Organisation.objects.filter(credit_code=credit_code.strip().upper()).first()
        if org is None:
            raise ServiceError(
                "输入有误", [FieldError("landlord_credit_code", "该单位不在法人库中")]
            )
    return person, org


@transaction.atomic
def register_rental(
    actor,
    house: House,
    *,
    landlord_id_number: str = "",
    landlord_credit_code: str = "",
    manager_name: str = "",
    manager_phone: str = "",
    rooms: int | None = None,
    capacity: int | None = None,
    safety_letter: bool | None = None,
) -> tuple[RentalProfile, bool]:
    """Register a house as let (or update its profile). A new profile gets the grade its
    indicators allow, with the reasons."""
    _require_role(actor, {"grid_worker", "steward"}, "登记出租屋")
    person, org = _landlord(actor, landlord_id_number, landlord_credit_code)
    if manager_phone and not _MOBILE.match(manager_phone.strip()):
        raise ServiceError("输入有误", [FieldError("manager_phone", "手机号须为 11 位")])
    profile = RentalProfile.objects.select_for_update().filter(house=house).first()
    created = profile is None
    if created:
        profile = RentalProfile(
            house=house,
            house_code=house.code,
            district_code=house.district_code,
            grid_code=house.grid_code,
            grade="",
        )
        if not person and not org:
            person, org = house.owner_person, house.owner_org
    if person or org:
        profile.landlord_person, profile.landlord_org = person, org
    if manager_name:
        profile.manager_name = manager_name.strip()
    if manager_phone:
        profile.manager_phone = pii.mask_phone(manager_phone)
        profile.manager_phone_enc = pii.cipher().encrypt(manager_phone.strip())
    if rooms is not None:
        profile.rooms = rooms
    if capacity is not None:
        profile.capacity = capacity
    if safety_letter is not None:
        profile.safety_letter = safety_letter
    _refresh_counts(profile, house)
    rules = selectors.active_rules()
    ev = grading.evaluate(rules, selectors.indicators(profile))
    now = _now()
    if created:
        profile.grade, profile.rules_version, profile.graded_at = ev.cap, rules.version, now
        profile.next_due = timezone.localdate() + dt.timedelta(
            days=rules.grade(ev.cap).interval_days
        )
        profile.save()
        _change(profile, "", ev.cap, ["登记为出租屋", *ev.reasons], actor, rules, now)
    else:
        d = grading.decide(rules, profile.grade, ev, profile.clean_streak, inspection=False)
        _apply(profile, d, rules, now, actor)
        profile.save()
    if house.use != "rent":
        House.objects.filter(pk=house.pk).update(use="rent")
    audit.record(
        "rental.profile.register" if created else "rental.profile.update",
        actor=actor,
        obj=profile,
        after={"house": house.code, "grade": profile.grade},
    )
    return profile, created


def _apply(profile, d: grading.Decision, rules, now, actor, inspection=None) -> None:
    profile.clean_streak = d.streak
    if d.changed:
        before = profile.grade
        profile.grade, profile.rules_version, profile.graded_at = d.grade, rules.version, now
        due = timezone.localdate() + dt.timedelta(days=rules.grade(d.grade).interval_days)
        if inspection is None and profile.next_due is not None:
            due = min(due, profile.next_due)  # a downgrade brings the next visit forward
        profile.next_due = due
        _change(profile, before, d.grade, d.reasons, actor, rules, now, inspection)


def _change(profile, before, after, reasons, actor, rules, now, inspection=None) -> None:
    GradeChange.objects.create(
        profile=profile,
        at=now,
        from_grade=before,
        to_grade=after,
        reasons="\n".join(reasons),
        actor=_actor_name(actor),
        rules_version=rules.version,
        inspection=inspection,
    )


def _refresh_counts(profile: RentalProfile, house: House | None = None) -> None:
    """Indicators kept from other tables: residents registered, events linked to the house."""
    from civicgrid.events.models import Event

    house = house or profile.house
    profile.registered = Residence.objects.filter(COUNTED, house_id=house.pk).count()
    people = max(profile.observed or 0, profile.registered)
    profile.area_per_person = round(house.area / people, 2) if house.area and people else None
    linked = Event.objects.filter(house_code=profile.house_code)
    hazard = Q()
    for prefix in HAZARD_PREFIXES:
        hazard |= Q(category__code__startswith=prefix)
    profile.open_hazards = linked.filter(hazard).exclude(status__in=FINAL_STATUSES).count()
    year_ago = _now() - dt.timedelta(days=365)
    profile.complaints_12m = linked.filter(
        created_at__gte=year_ago, intake_type__in=("投诉", "举报")
    ).count()


# --- inspections -------------------------------------------------------------------------------


def check_findings(findings: Any) -> dict[str, Any]:
    """Findings as indicator → value; an unknown indicator or a wrong type is a 422 naming it."""
    if not isinstance(findings, dict):
        raise ServiceError("输入有误", [FieldError("findings", "须为对象：指标 → 取值")])
    errors = []
    unknown = [k for k in findings if k not in grading.FINDINGS]
    for key in unknown:
        errors.append(
            FieldError(f"findings.{key}", f"未知指标 {key}（可用：{'、'.join(grading.FINDINGS)}）")
        )
    clean: dict[str, Any] = {}
    for key, kind in grading.FINDINGS.items():
        if key not in findings:
            continue
        value = findings[key]
        if kind == "bool" and not isinstance(value, bool):
            errors.append(FieldError(f"findings.{key}", "须为 true 或 false"))
        elif kind == "int" and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT
        ):
            errors.append(FieldError(f"findings.{key}", f"须为 0 到 {MAX_COUNT} 之间的整数"))
        else:
            clean[key] = value
    if errors:
        names = "、".join(unknown)
        raise ServiceError(f"未知指标：{names}" if unknown else "检查结果有误", errors)
    return clean


def _store_photos(photos: list[bytes]) -> list[dict]:
    errors = uploads.photo_errors(photos)
    if errors:
        raise ServiceError("输入有误", errors)
    return uploads.store(photos, "rental")


def _hazard_events(actor, profile, inspection, found: dict, photos: list[bytes]) -> list[str]:
    """Hazards found become events in the hub (channel ``grid``, linked by house code), one
    per kind while an earlier one is still open."""
    from civicgrid.events import services as events
    from civicgrid.events.catalogue_selectors import catalogue
    from civicgrid.events.models import Event

    hazards = [HAZARDS[(k, v)] for k, v in found.items() if (k, v) in HAZARDS]
    if (
        found.get("observed") is not None
        and profile.registered < found["observed"]
        and not found.get("refused")
    ):
        hazards.append(UNDECLARED)
    numbers = []
    cat = catalogue()
    address = f"{profile.house.building.address}{profile.house.room}"
    for leaf, title in hazards:
        node = cat.nodes.get(leaf)
        category = leaf if node is not None and node.active and node.leaf else None
        open_same = Event.objects.filter(house_code=profile.house_code).exclude(
            status__in=FINAL_STATUSES
        )
        if open_same.filter(title=title).exists():
            continue
        event, _ = events.submit(
            actor,
            events.Intake(
                channel="grid",
                source_ref=f"rental-{inspection.pk}-{leaf}",
                title=title,
                description=f"出租屋检查发现：{title}。房屋 {profile.house_code}，{address}。",
                category=category,
                house_code=profile.house_code,
                address=address[:200],
                photos=photos[:MAX_PHOTOS],
            ),
        )
        numbers.append(event.number)
    return numbers


@transaction.atomic
def record_inspection(
    actor,
    code: str,
    *,
    findings: Any,
    photos: list[bytes] | None = None,
    note: str = "",
) -> Inspection:
    """Record one inspection and re-grade at once (DESIGN §7)."""
    _require_role(actor, {"grid_worker"}, "检查出租屋")
    profile = selectors.profile_for(actor, code)  # scoped: outside the jurisdiction is a 404
    found = check_findings(findings)
    photos = photos or []
    stored = _store_photos(photos)
    profile = (
        RentalProfile.objects.select_for_update()
        .select_related("house__building")
        .get(pk=profile.pk)
    )
    now = _now()
    refused = bool(found.get("refused"))
    if refused:
        profile.refused_inspections += 1
    else:
        for key, value in found.items():
            if key != "refused":
                setattr(profile, key, value)
    before = profile.grade
    inspection = Inspection.objects.create(
        profile=profile,
        inspector=actor,
        inspector_name=actor.get_username(),
        at=now,
        findings=found,
        photos=stored,
        note=note[:1000],
        grade_before=before,
        grade_after=before,
    )
    _refresh_counts(profile)
    inspection.events = [] if refused else _hazard_events(actor, profile, inspection, found, photos)
    _refresh_counts(profile)  # the events just filed are open hazards now
    rules = selectors.active_rules()
    ev = grading.evaluate(rules, selectors.indicators(profile))
    d = grading.decide(rules, profile.grade, ev, profile.clean_streak, inspection=not refused)
    _apply(profile, d, rules, now, actor, inspection)
    today = timezone.localdate()
    profile.last_inspected = today
    profile.next_due = today + dt.timedelta(days=rules.grade(profile.grade).interval_days)
    profile.save()
    inspection.grade_after = profile.grade
    inspection.reasons = "\n".join(d.reasons or ev.reasons)
    inspection.save(update_fields=["grade_after", "reasons", "events"])
    InspectionTask.objects.filter(profile=profile, open=True).update(
        open=False, done_at=now, inspection=inspection
    )
    audit.record(
        "rental.inspection",
        actor=actor,
        obj=profile,
        before={"grade": before},
        after={"grade": profile.grade, "events": inspection.events, "refused": refused},
    )
    return inspection


# --- tenants -----------------------------------------------------------------------------------


def _limits() -> dict[str, tuple[int, int]]:
    return getattr(
        settings,
        "RENTAL_SELF_REGISTRATION_LIMITS",
        {"house": (20, 3600), "client": (10, 3600)},
    )


def _client_key(client: str | None) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client or '-'}".encode()).hexdigest()[:32]


def throttle(kind: str, house_code: str, client: str | None) -> None:
    """Count one attempt per house and per client; too many in the window → 429."""
    limits = _limits()
    keys = {
        f"rental-{kind}:h:{house_code}": limits["house"],
        f"rental-{kind}:c:{_client_key(client)}": limits["client"],
    }
    for key, (limit, window) in keys.items():
        if cache.add(key, 1, window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:
                cache.set(key, 1, window)
                count = 1
        if count > limit:
            raise ServiceError(gettext_noop("尝试次数过多，请稍后再试"), status=429)


# what a tenant is told after declaring, whether or not the ID number already lives in the
# house: a different answer would tell anyone with the plate who lives behind the door
SELF_REGISTERED = gettext_noop("申报成功，待网格员核实")


def _verified_profile(code: str, sig: str | None) -> RentalProfile | None:
    if not signing.verify(code, sig):
        raise NotFound("无效的二维码")
    return RentalProfile.objects.select_related("house__building").filter(house_code=code).first()


@transaction.atomic
def self_register(
    code: str,
    sig: str | None,
    *,
    id_number: str,
    name: str,
    phone: str = "",
    client: str | None = None,
) -> tuple[SelfRegistration, bool]:
    """A tenant declares their residence by scanning the door plate: a pending residence for
    the grid worker to verify. An existing person's registry data is never changed by it, and
    a name other than the one recorded for the number adds no residence (the declaration is
    kept, flagged in the audit trail and listed on the house's profile for the grid worker to
    check in person): the answer is the same either way, so the plate can
    neither attach anybody's number to the house nor tell who is in the registry."""
    if not signing.verify(code, sig):
        raise NotFound("无效的二维码")
    throttle("selfreg", code, client)
    profile = _verified_profile(code, sig)
    if profile is None:
        raise ServiceError(
            gettext_noop("该房屋未登记为出租屋，不能扫码申报"),
            [FieldError("house_code", gettext_noop("不是登记在册的出租屋"))],
        )
    errors = []
    try:
        info = codes.parse_id_number(id_number or "")
    except codes.CodeError as exc:
        info = None
        errors.append(FieldError("id_number", str(exc)))
    name = (name or "").strip()
    if not name or len(name) > 64:
        errors.append(FieldError("name", gettext_noop("请填写姓名（不超过 64 字）")))
    phone = (phone or "").strip()
    if phone and not _MOBILE.match(phone):
        errors.append(FieldError("phone", gettext_noop("手机号须为 11 位")))
    if errors:
        raise ServiceError(gettext_noop("输入有误"), errors)
    house = profile.house
    cipher = pii.cipher()
    id_hash, ident = registry_services.identity(info)
    person, new_person = Person.objects.get_or_create(
        id_hash=id_hash,
        defaults=dict(
            **ident,
            name=name,
            phone=phone,
            district_code=house.district_code,
            grid_code=house.grid_code,
        ),
    )
    if not new_person and person.number_only:
        # known by number alone (entered as somebody's landlord): completed like a new person
        person.name, person.phone = name, phone
        person.grid_code, person.district_code = house.grid_code, house.district_code
        person.save(update_fields=["name", "phone", "grid_code", "district_code", "updated_at"])
    mismatch = not new_person and not registry_services.name_matches(person, name)
    residence, created = (
        (None, False)
        if mismatch
        else Residence.objects.get_or_create(
            person=person,
            house=house,
            until=None,
            defaults=dict(
                relation="tenant",
                source="qr",
                verified=False,
                since=timezone.localdate(),
                grid_code=house.grid_code,
                district_code=house.district_code,
            ),
        )
    )
    reg = SelfRegistration.objects.create(
        profile=profile,
        residence=residence,
        name_masked=pii.mask_name(name),
        phone_masked=pii.mask_phone(phone),
        phone_enc=cipher.encrypt(phone) if phone else "",
        client=_client_key(client),
    )
    if created:
        profile.registered = Residence.objects.filter(COUNTED, house=house).count()
        profile.save(update_fields=["registered", "updated_at"])
    audit.record(
        "rental.self_register",
        actor=SYSTEM,
        obj=profile,
        after={
            "house": code,
            "person": person.id_masked,
            "new_person": new_person,
            "new_residence": created,
            "name_mismatch": mismatch,
        },
    )
    return reg, created


@transaction.atomic
def verify_residence(actor, code: str, residence_id: int) -> Residence:
    """The grid worker confirms a self-declared residence."""
    _require_role(actor, {"grid_worker"}, "核实居住登记")
    profile = selectors.profile_for(actor, code)
    residence = Residence.objects.filter(pk=residence_id, house_id=profile.pk, until=None).first()
    if residence is None:
        raise NotFound(f"居住登记 {residence_id} 不存在")
    if not residence.verified:
        residence.verified = True
        residence.save(update_fields=["verified", "updated_at"])
        profile.registered = Residence.objects.filter(COUNTED, house_id=profile.pk).count()
        profile.save(update_fields=["registered", "updated_at"])
        audit.record("rental.residence.verify", actor=actor, obj=residence)
    return residence


def report_problem(
    code: str, sig: str | None, *, description: str, phone: str = "", client: str | None = None
):
    """A problem reported from the scan page: an event linked to the house."""
    from civicgrid.events import services as events

    if not signing.verify(code, sig):
        raise NotFound("无效的二维码")
    throttle("report", code, client)
    description = (description or "").strip()
    if not description:
        raise ServiceError(
            gettext_noop("输入有误"), [FieldError("description", gettext_noop("请描述问题"))]
        )
    if phone and not _MOBILE.match(phone.strip()):
        raise ServiceError(
            gettext_noop("输入有误"), [FieldError("phone", gettext_noop("手机号须为 11 位"))]
        )
    house = House.objects.select_related("building").filter(code=code).first()
    if house is None:
        raise NotFound("无效的二维码")
    event, _ = events.submit(
        None,
        events.Intake(
            channel="web",
            title=f"扫码反映：{description[:20]}",
            description=description,
            house_code=code,
            # the flat is the house code, for staff; a web report may be published (Open311,
            # the tracking page), so its address names the building only
            address=house.building.address[:200],
            reporter_phone=phone.strip(),
        ),
    )
    return event


# --- bulk: regrade, profiles for a city, schedule -----------------------------------------------


def _region_q(region: str | None) -> Q:
    if not region:
        return Q()
    if not region.isdigit() or len(region) not in (6, 9, 12, 14):
        raise ServiceError("输入有误", [FieldError("region", f"区域编码 {region} 格式无效")])
    if len(region) == 6:
        return Q(district_code=region)
    upper = str(int(region) + 1).zfill(len(region))
    return Q(grid_code__gte=region, grid_code__lt=upper)


_LOOKUPS = {"eq": "exact", "lt": "lt", "le": "lte", "gt": "gt", "ge": "gte"}


def condition_q(c: grading.Condition) -> Q:
    """One condition as SQL; NULL never matches, as in ``Condition.holds``."""
    rhs = F(c.ref) if c.ref else Value(c.value)
    if c.op == "ne":
        return Q(**{f"{c.indicator}__lt": rhs}) | Q(**{f"{c.indicator}__gt": rhs})
    return Q(**{f"{c.indicator}__{_LOOKUPS[c.op]}": rhs})


def rule_q(rule: grading.Rule) -> Q:
    q = Q()
    for c in rule.conditions:
        q &= condition_q(c)
    return q


def _ordered(rules: grading.RuleSet) -> list[grading.Rule]:
    return sorted(rules.rules, key=lambda r: -rules.rank(r.grade))


def cap_rank(rules: grading.RuleSet):
    """The rank of the cap the indicators set (0 = best), as one CASE."""
    whens = [When(rule_q(r), then=Value(rules.rank(r.grade))) for r in _ordered(rules)]
    if not whens:
        return Value(0)
    return Case(*whens, default=Value(0), output_field=IntegerField())


def current_rank(rules: grading.RuleSet):
    known = [When(grade=g.code, then=Value(i)) for i, g in enumerate(rules.grades)]
    aliases = [When(grade=old, then=Value(rules.rank(old))) for old in rules.aliases]
    return Case(*known, *aliases, default=Value(len(rules.grades) - 1), output_field=IntegerField())


def _grade_of(rank_expr, rules: grading.RuleSet):
    return Case(
        *[
            When(GreaterThan(Value(i + 1), rank_expr), then=Value(g.code))
            for i, g in enumerate(rules.grades)
        ],
        default=Value(rules.worst),
    )


def _reasons_expr(rules: grading.RuleSet, head: str):
    parts = [Value(head)]
    for r in _ordered(rules):
        line = f"\n{r.reason}（{rules.grade(r.grade).label}）"
        parts.append(Case(When(rule_q(r), then=Value(line)), default=Value("")))
    return Concat(*parts) if len(parts) > 1 else parts[0]


def regrade(actor, *, region: str | None = None, dry_run: bool = False) -> dict:
    """Re-evaluate every rental house (of a region) under the rules in force, set-based: a
    house whose indicators now allow less than its grade goes down at once, a grade of
    another scheme is mapped; upgrades still need inspections. Returns the counts."""
    rules = selectors.active_rules()
    scope = RentalProfile.objects.filter(_region_q(region))
    if region:
        from civicgrid.geo.models import Region

        if not Region.objects.filter(code=region).exists():
            raise ServiceError("输入有误", [FieldError("region", f"区域 {region} 不存在")])
    new_rank = Greatest(cap_rank(rules), current_rank(rules))
    changing = Q(GreaterThan(cap_rank(rules), current_rank(rules))) | ~Q(grade__in=rules.codes)
    moves = (
        scope.filter(changing)
        .annotate(to=_grade_of(new_rank, rules))
        .values("grade", "to")
        .annotate(n=Count("pk"))
        .order_by("grade", "to")
    )
    started = timezone.now()
    if dry_run:
        by_move = {f"{m['grade']}→{m['to']}": m["n"] for m in moves}
        evaluated = scope.count()
        return {
            "evaluated": evaluated,
            "changed": sum(by_move.values()),
            "moves": by_move,
            "dry_run": True,
            "rules_version": rules.version,
        }
    with transaction.atomic():
        evaluated = scope.count()
        now = _now()
        head = f"规则 v{rules.version}（{rules.name}）重新评定"
        history = (
            scope.filter(changing)
            .annotate(
                c_profile=F("pk"),
                c_at=Value(now),
                c_from=F("grade"),
                c_to=_grade_of(new_rank, rules),
                c_reasons=_reasons_expr(rules, head),
                c_actor=Value(_actor_name(actor)),
                c_version=Value(rules.version),
            )
            .values_list("c_profile", "c_at", "c_from", "c_to", "c_reasons", "c_actor", "c_version")
        )
        sql, params = history.query.sql_with_params()
        table = GradeChange._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (profile_id, at, from_grade, to_grade, reasons, actor, "
                f"rules_version) {sql}",
                params,
            )
            changed = cur.rowcount
        today = timezone.localdate()
        due = Case(
            *[
                When(
                    GreaterThan(Value(i + 1), new_rank),
                    then=Value(today + dt.timedelta(days=g.interval_days)),
                )
                for i, g in enumerate(rules.grades)
            ],
            default=Value(today + dt.timedelta(days=rules.grades[-1].interval_days)),
        )
        scope.filter(changing).update(
            grade=_grade_of(new_rank, rules),
            clean_streak=0,
            rules_version=rules.version,
            graded_at=now,
            next_due=Least(Coalesce(F("next_due"), due), due),
        )
        if changed or actor != "scheduler":  # the hourly run leaves a trace when it acts
            audit.record(
                "rental.regrade",
                actor=actor,
                object_type="rental.rentalprofile",
                object_id=region or "all",
                after={"evaluated": evaluated, "changed": changed, "rules_version": rules.version},
            )
    return {
        "evaluated": evaluated,
        "changed": changed,
        "dry_run": False,
        "rules_version": rules.version,
        "seconds": (timezone.now() - started).total_seconds(),
    }


def create_profiles(actor, *, region: str | None = None, synthetic: bool = False) -> int:
    """Profiles for every let house (use ``rent``) without one, in one INSERT … SELECT (the
    registered residents and area per person computed in the same statement), then graded
    by ``regrade``. With ``synthetic`` (the generated city only) the indicators get a
    deterministic mix from the house id, so a demo city shows every grade; otherwise they
    start clean and the first inspection sets them."""
    houses = House.objects.filter(use="rent", rental__isnull=True).filter(_region_q(region))
    rules = selectors.active_rules()
    now = _now()
    due = timezone.localdate() + dt.timedelta(days=rules.grades[0].interval_days)
    pk = F("pk")

    def unless(mod: int, below: int, default: bool):  # deterministic share of the houses
        return Case(
            When(GreaterThan(Value(below), Mod(pk, mod)), then=Value(not default)),
            default=Value(default),
        )

    counted = (
        Residence.objects.filter(COUNTED, house_id=OuterRef("pk"))
        .order_by()
        .values("house_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    registered = Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
    if synthetic:  # about one let house in eleven houses more people than registered
        observed = Case(
            When(Q(GreaterThan(Value(1), Mod(pk, 11))), then=registered + Value(1)),
            default=Value(None),
            output_field=IntegerField(),
        )
    else:  # a typed NULL: PostgreSQL reads an untyped one in a sub-select as text
        observed = Cast(Value(None), IntegerField())
    people = Greatest(Coalesce(observed, Value(0)), registered)
    fields: dict[str, Any] = {
        "house_id": pk,
        "house_code": F("code"),
        "district_code": F("district_code"),
        "grid_code": F("grid_code"),
        "landlord_person_id": F("owner_person_id"),
        "landlord_org_id": F("owner_org_id"),
        "grade": Value(rules.best),
        "rules_version": Value(rules.version),
        "next_due": Value(due),
        "graded_at": Value(now),
        "safety_letter": unless(97, 9, True) if synthetic else Value(False),
        "escape_route_blocked": unless(101, 2, False) if synthetic else Value(False),
        "ebike_indoor_charging": unless(103, 2, False) if synthetic else Value(False),
        "illegal_use": unless(107, 1, False) if synthetic else Value(False),
        "fire_facilities_ok": unless(89, 5, True) if synthetic else Value(True),
        "registered": registered,
        "observed": observed,
        "area_per_person": ExpressionWrapper(
            Cast(F("area"), FloatField()) / NullIf(Cast(people, FloatField()), Value(0.0)),
            output_field=FloatField(),
        ),
        "created_at": Value(now),
        "updated_at": Value(now),
    }
    select = houses.annotate(**{f"r_{k}": v for k, v in fields.items()}).values_list(
        *[f"r_{k}" for k in fields]
    )
    sql, params = select.query.sql_with_params()
    fixed = {
        "rooms": 1,
        "open_hazards": 0,
        "incidents_12m": 0,
        "complaints_12m": 0,
        "refused_inspections": 0,
        "clean_streak": 0,
        "manager_name": "",
        "manager_phone": "",
        "manager_phone_enc": "",
    }
    columns = ", ".join([*fields, *fixed])
    constants = ", ".join(["%s"] * len(fixed))
    table = RentalProfile._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} ({columns}) SELECT s.*, {constants} FROM ({sql}) s",
                [*fixed.values(), *params],  # the outer placeholders come first
            )
            created = cur.rowcount
        if created:
            audit.record(
                "rental.profiles.create",
                actor=actor,
                object_type="rental.rentalprofile",
                object_id=region or "all",
                after={"created": created, "synthetic": synthetic},
            )
    return created


def refresh_event_counts() -> int:
    """Open hazards and complaints of the last 12 months from events linked to houses: one
    grouped pass over the linked events, then only the profiles whose counts moved."""
    from civicgrid.events.models import Event

    linked = Event.objects.exclude(house_code="")
    hazard = Q()
    for prefix in HAZARD_PREFIXES:
        hazard |= Q(category__code__startswith=prefix)
    year_ago = _now() - dt.timedelta(days=365)
    counts: dict[str, list[int]] = {}
    for code, n in (
        linked.filter(hazard)
        .exclude(status__in=FINAL_STATUSES)
        .values("house_code")
        .annotate(n=Count("pk"))
        .values_list("house_code", "n")
    ):
        counts.setdefault(code, [0, 0])[0] = n
    for code, n in (
        linked.filter(created_at__gte=year_ago, intake_type__in=("投诉", "举报"))
        .values("house_code")
        .annotate(n=Count("pk"))
        .values_list("house_code", "n")
    ):
        counts.setdefault(code, [0, 0])[1] = n
    stale = RentalProfile.objects.filter(Q(open_hazards__gt=0) | Q(complaints_12m__gt=0)).exclude(
        house_code__in=list(counts)
    )
    moved = stale.update(open_hazards=0, complaints_12m=0)
    changed = []
    for profile in RentalProfile.objects.filter(house_code__in=list(counts)).only(
        "pk", "house_code", "open_hazards", "complaints_12m"
    ):
        hazards, complaints = counts[profile.house_code]
        if (profile.open_hazards, profile.complaints_12m) != (hazards, complaints):
            profile.open_hazards, profile.complaints_12m = hazards, complaints
            changed.append(profile)
    RentalProfile.objects.bulk_update(changed, ["open_hazards", "complaints_12m"], batch_size=500)
    return moved + len(changed)


def _assign(region: str | None = None) -> None:
    """Give unassigned open tasks to the grid's worker: a worker of the grid itself first,
    then one of its community or street."""
    from civicgrid.accounts.models import User

    workers = (
        User.objects.filter(groups__name="grid_worker", is_active=True)
        .exclude(jurisdiction=None)
        .values_list("pk", "jurisdiction__code", "jurisdiction__level")
        .order_by("pk")
    )
    order = {"grid": 0, "community": 1, "street": 2}
    for pk, code, level in sorted(workers, key=lambda w: order.get(w[2], 9)):
        if level not in order:
            continue
        q = Q(grid_code=code) if level == "grid" else _region_q(code)
        InspectionTask.objects.filter(q, open=True, assignee=None).filter(_region_q(region)).update(
            assignee_id=pk
        )


def schedule(today: dt.date | None = None, *, horizon_days: int = 7) -> dict:
    """The periodic job: indicators from events, a downgrade-only regrade, inspection tasks
    for houses due within the horizon (one open task a house), overdue flags. Idempotent."""
    today = today or timezone.localdate()
    refreshed = refresh_event_counts()
    regraded = regrade("scheduler")
    due_by = today + dt.timedelta(days=horizon_days)
    with transaction.atomic():
        wanted = RentalProfile.objects.filter(next_due__lte=due_by).exclude(tasks__open=True)
        select = wanted.annotate(
            t_profile=F("pk"),
            t_district=F("district_code"),
            t_grid=F("grid_code"),
            t_due=F("next_due"),
            t_now=Value(_now()),
        ).values_list("t_profile", "t_district", "t_grid", "t_due", "t_now")
        sql, params = select.query.sql_with_params()
        table = InspectionTask._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (profile_id, district_code, grid_code, due, created_at, "
                f"open, overdue) SELECT s.*, %s, %s FROM ({sql}) s",
                [True, False, *params],  # the outer placeholders come first
            )
            created = cur.rowcount
        _assign()
        overdue = InspectionTask.objects.filter(open=True, overdue=False, due__lt=today).update(
            overdue=True
        )
    return {
        "refreshed": refreshed,
        "regraded": regraded["changed"],
        "tasks_created": created,
        "flagged_overdue": overdue,
    }
