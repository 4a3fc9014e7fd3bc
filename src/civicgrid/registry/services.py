"""The only code that changes registry rows one at a time (bulk files go through importers).

Every function is one business action in one transaction with its audit record; personal data
never enters an audit summary in clear (masked values or keyed hashes only).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import contains
from civicgrid.audit import services as audit
from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.registry import codes, formats
from civicgrid.registry.models import Building, House, Organisation, Person, Residence

_SPACE = re.compile(r"\s+")


def _require(user, perm: str, what: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(f"无权{what}")


def _coded(field: str, value: str, mapping: dict[str, str]) -> str:
    for code, label in mapping.items():
        if value in (code, label):
            return code
    choices = "、".join(mapping.values())
    raise ServiceError("输入有误", [FieldError(field, f"取值无效，可选：{choices}")])


def _owns(actor, person: Person) -> bool:
    """Whether the person's own record (their grid) lies in the actor's jurisdiction."""
    from civicgrid.registry.selectors import kept_here

    return person.pk in kept_here(actor, [person.pk])


# the middle dot of minority names (阿卜杜·热合曼) as people type it
_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅.", "·"))


def _name_key(name: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", name).translate(_DOTS)).casefold()


def name_matches(person: Person, typed: str) -> bool:
    """The real-name check of a registration: the typed name is the one recorded for the
    number, up to spaces, full- or half-width forms, the kind of middle dot and letter case. A
    record without a name (an owner named by number in a houses file) has none to check."""
    return not person.name or _name_key(person.name) == _name_key(typed)


def identity(info: codes.IdInfo) -> tuple[str, dict]:
    """The keyed hash a person is found by, and the identity columns of a new record (the
    number encrypted and masked, sex and birth date read from it)."""
    cipher = pii.cipher()
    return cipher.lookup_hash(info.number), {
        "id_enc": cipher.encrypt(info.number),
        "id_masked": pii.mask_id_number(info.number),
        "sex": info.sex,
        "birth_date": info.birth_date,
    }


class _NameMismatch(Exception):
    """Raised inside the registration's transaction; recorded once it is rolled back."""

    def __init__(self, person: Person):
        self.person_masked = person.id_masked


def register_residence(actor, house: House, **fields) -> Residence:
    """:func:`_register_residence`, whose refusal of a name other than the one recorded for a
    known number is written to the audit trail: a run of them from one account is somebody
    trying numbers to learn who is in the registry."""
    try:
        return _register_residence(actor, house, **fields)
    except _NameMismatch as exc:
        audit.record(
            "registry.residence.name_mismatch",
            actor=actor,
            obj=house,
            after={"person": exc.person_masked, "house": house.code},
        )
        raise ServiceError(
            "姓名与身份证号不符",
            [FieldError("name", "与该身份证号登记的姓名不一致，请核对证件")],
        ) from None


@transaction.atomic
def _register_residence(
    actor,
    house: House,
    *,
    id_number: str,
    name: str,
    phone: str = "",
    relation: str,
    since: dt.date | None = None,
    household_type: str = "",
    source: str = "api",
    verified: bool = False,
) -> Residence:
    """Register a person as living in a house (creating the person when new).

    The jurisdiction that keeps a known person's record (their grid) registers them as
    before: name, phone and household type corrected, and their record moves to the new
    house. Anyone else only adds the residence: the person stays where they are recorded, and
    the name typed must be the one recorded for the number, if any (a real-name check), so that a
    registration neither records a mistyped number against somebody else nor shows an
    outsider the recorded name of any number they try.
    """
    _require(actor, "registry.add_residence", "登记居住信息")
    try:
        info = codes.parse_id_number(id_number)
    except codes.CodeError as exc:
        raise ServiceError("输入有误", [FieldError("id_number", str(exc))]) from None
    if not name.strip():
        raise ServiceError("输入有误", [FieldError("name", "必填")])
    relation = _coded("relation", relation, formats.RELATIONS)
    if household_type:
        household_type = _coded("household_type", household_type, formats.HOUSEHOLD_TYPES)
    if since and since > timezone.localdate():
        raise ServiceError("输入有误", [FieldError("since", "日期不能晚于今天")])
    id_hash, ident = identity(info)
    person, created = Person.objects.select_for_update().get_or_create(
        id_hash=id_hash,
        defaults=dict(
            **ident,
            name=name.strip(),
            phone=phone.strip(),
            household_type=household_type,
            district_code=house.district_code,
            grid_code=house.grid_code,
        ),
    )
    claimed = not created and person.number_only
    owned = not created and not claimed and _owns(actor, person)
    if not (created or claimed or owned) and not name_matches(person, name):
        raise _NameMismatch(person)
    if claimed or owned:
        # within the jurisdiction that keeps the record, a registration is also a move;
        # from elsewhere it must not take the person away (nor rename them). A record known
        # by number alone (a landlord from a rental form) is completed by the first home.
        person.name = name.strip()
        if phone:
            person.phone = phone.strip()
        if household_type:
            person.household_type = household_type
        person.grid_code, person.district_code = house.grid_code, house.district_code
        person.save()
    residence, made = Residence.objects.get_or_create(
        person=person,
        house=house,
        until=None,
        defaults=dict(
            relation=relation,
            since=since,
            source=source,
            verified=verified,
            grid_code=house.grid_code,
            district_code=house.district_code,
        ),
    )
    if not made:
        residence.relation, residence.since = relation, since or residence.since
        residence.save(update_fields=["relation", "since", "updated_at"])
    audit.record(
        "registry.residence.register",
        actor=actor,
        obj=residence,
        after={
            "person": person.id_masked,
            "house": house.code,
            "relation": relation,
            "new_person": created,
            "completed_number_only": claimed,
        },
    )
    return residence


@transaction.atomic
def person_by_id_number(actor, info: codes.IdInfo) -> Person:
    """The person with this (checked) ID number, recorded by the number alone when the
    registry does not know them yet: kept by no jurisdiction, without name, until a home is
    registered for them. Callers that must not tell a known number from an unknown one (a
    rental's landlord) get a person either way."""
    id_hash, ident = identity(info)
    person, created = Person.objects.get_or_create(id_hash=id_hash, defaults=ident)
    if created:
        audit.record(
            "registry.person.record_number",
            actor=actor,
            obj=person,
            after={"person": person.id_masked, "kept": ""},
        )
    return person


@transaction.atomic
def end_residence(actor, residence: Residence, until: dt.date | None = None) -> Residence:
    _require(actor, "registry.change_residence", "注销居住信息")
    until = until or timezone.localdate()
    if residence.until is not None:
        raise ServiceError("该居住登记已注销", status=409)
    if residence.since and until < residence.since:
        raise ServiceError("输入有误", [FieldError("until", "终止日期早于起始日期")])
    residence.until = until
    residence.save(update_fields=["until", "updated_at"])
    audit.record(
        "registry.residence.end", actor=actor, obj=residence, after={"until": until.isoformat()}
    )
    return residence


BUILDING_FIELDS = {
    "name",
    "address",
    "use",
    "form",
    "floors",
    "year_built",
    "safety_rating",
    "fire_facilities",
    "grid_code",
}


def _column_errors(model, changes: dict) -> list[FieldError]:
    """What the columns themselves would refuse (a null, an empty required text, a text
    longer than the column), as field errors rather than a database error."""
    errors = []
    for key, value in changes.items():
        column = model._meta.get_field(key)
        if value is None:
            if not column.null:
                errors.append(FieldError(key, "不能为空"))
        elif isinstance(value, str):
            if not value.strip() and not column.blank:
                errors.append(FieldError(key, "必填"))
            elif column.max_length and len(value) > column.max_length:
                errors.append(FieldError(key, f"不能超过 {column.max_length} 个字符"))
    return errors


@transaction.atomic
def update_building(actor, building: Building, **changes) -> Building:
    """Correct a building's attributes. Moving it to another grid changes its current grid
    link only: its code, issued once, stays as it is (DESIGN §4)."""
    _require(actor, "registry.change_building", "修改楼栋信息")
    unknown = set(changes) - BUILDING_FIELDS
    if unknown:
        raise ServiceError("不可修改的字段", [FieldError(f, "不可修改") for f in sorted(unknown)])
    errors = _column_errors(Building, changes)
    if errors:
        raise ServiceError("输入有误", errors)
    if "use" in changes:
        changes["use"] = _coded("use", changes["use"], formats.BUILDING_USES)
    if "form" in changes:
        changes["form"] = _coded("form", changes["form"], formats.BUILDING_FORMS)
    if changes.get("safety_rating"):
        changes["safety_rating"] = _coded(
            "safety_rating", changes["safety_rating"], formats.SAFETY_RATINGS
        )
    if "grid_code" in changes:
        from civicgrid.geo.models import Region

        grid = Region.objects.filter(code=changes["grid_code"] or "", level="grid").first()
        if grid is None or not contains(actor, grid.path):  # a grid elsewhere is as unknown
            raise ServiceError("输入有误", [FieldError("grid_code", "网格编码不存在或不在本辖区")])
        changes["district_code"] = grid.district_code
    old_place = (building.district_code, building.grid_code)
    before = {k: getattr(building, k) for k in changes}
    for key, value in changes.items():
        setattr(building, key, value)
    building.save()
    if (building.district_code, building.grid_code) != old_place:
        _follow_building(building, old_place)
    audit.record(
        "registry.building.update",
        actor=actor,
        obj=building,
        before={k: str(v) for k, v in before.items()},
        after={k: str(getattr(building, k)) for k in changes},
    )
    return building


def _follow_building(building: Building, old_place: tuple[str, str]) -> None:
    """Everything scoped through the building's place moves with it, so the jurisdiction that
    now holds the building holds its houses, residents, firms and rental records too."""
    from civicgrid.rental.models import InspectionTask, RentalProfile

    place = {"district_code": building.district_code, "grid_code": building.grid_code}
    houses = House.objects.filter(building=building)
    houses.update(**place)
    Residence.objects.filter(house__building=building).update(**place)
    Organisation.objects.filter(house__building=building).update(**place)
    # a person whose own grid was this building's and who still lives here moves with it
    district, grid = old_place
    Person.objects.filter(
        district_code=district,
        grid_code=grid,
        pk__in=Residence.objects.filter(house__building=building, until=None).values("person"),
    ).update(**place)
    RentalProfile.objects.filter(house__building=building).update(**place)
    InspectionTask.objects.filter(profile__house__building=building).update(**place)


@transaction.atomic
def update_person(
    actor,
    person: Person,
    *,
    name: str | None = None,
    phone: str | None = None,
    tags: list[str] | None = None,
    household_type: str | None = None,
) -> Person:
    _require(actor, "registry.change_person", "修改人员信息")
    changed = []
    if name is not None:
        if not name.strip():
            raise ServiceError("输入有误", [FieldError("name", "必填")])
        person.name = name.strip()
        changed.append("name")
    if phone is not None:
        person.phone = phone.strip()
        changed.append("phone")
    if tags is not None:
        clean = [_coded("tags", t, formats.CARE_TAGS) for t in tags]
        person.tags = f",{','.join(dict.fromkeys(clean))}," if clean else ""
        changed.append("tags")
    if household_type is not None:
        person.household_type = _coded("household_type", household_type, formats.HOUSEHOLD_TYPES)
        changed.append("household_type")
    person.save()
    audit.record(
        "registry.person.update",
        actor=actor,
        obj=person,
        extra={"person": person.id_masked, "changed": changed},
    )
    return person


MIN_REASON = 4


@transaction.atomic
def reveal_person(actor, person: Person, reason: str) -> dict[str, str]:
    """The clear ID number, name and phone, once, with the reason written to the access log.

    Only where the person is registered (their own grid): a person seen through a tenancy
    another jurisdiction recorded stays masked there, or registering a known ID number in
    one's own house would open anyone's phone."""
    _require(actor, "registry.reveal_person", "查看完整个人信息")
    if not _owns(actor, person):
        raise ServiceError(
            "该人员的登记地不在本辖区，不能查看完整信息，请联系其登记地核实", [], 403
        )
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ServiceError(
            "查看完整个人信息须说明理由",
            [FieldError("reason", f"请填写理由（至少 {MIN_REASON} 个字）")],
        )
    clear = {
        "id_number": pii.cipher().decrypt(person.id_enc),
        "name": person.name,
        "phone": person.phone,
    }
    audit.record(
        "pii.reveal",
        actor=actor,
        obj=person,
        extra={"person": person.id_masked, "fields": sorted(clear), "reason": reason},
    )
    return clear
