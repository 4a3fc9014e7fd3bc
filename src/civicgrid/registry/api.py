"""Registry API (DESIGN §11): scoped to the caller's jurisdiction, personal data masked; the
clear values only through ``reveal`` with a reason, which is logged."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from civicgrid.accounts import pii
from civicgrid.accounts.auth import staff_auth
from civicgrid.core.paging import Paged
from civicgrid.registry import formats, selectors, services
from civicgrid.registry.models import Residence

router = Router(tags=["registry"], auth=staff_auth)


class Pagination(Paged):
    """Limit/offset pages whose ``count`` costs no ``COUNT(*)`` when the page itself shows
    the total (a short page that is not past the end) — as for an exact lookup by ID number,
    which finds one row or none."""

    def paginate_queryset(self, queryset, pagination, request, **params):
        offset = pagination.offset
        limit = min(pagination.limit, self.max_limit)
        items = list(queryset[offset : offset + limit])
        if len(items) < limit and (items or offset == 0):
            count = offset + len(items)
        else:
            count = self._items_count(queryset)
        return {self.items_attribute: items, "count": count}


def _need(request, model: str) -> None:
    if not request.auth.has_perm(f"registry.view_{model}"):
        raise PermissionDenied("无权查看基础数据")


def _label(mapping: dict[str, str], code: str) -> str:
    return mapping.get(code, code)


class BuildingOut(Schema):
    code: str
    name: str
    address: str
    grid_code: str
    district_code: str
    lon: float
    lat: float
    use: str
    form: str
    floors: int
    year_built: int | None
    safety_rating: str
    dangerous: bool

    @staticmethod
    def resolve_use(obj) -> str:
        return _label(formats.BUILDING_USES, obj.use)

    @staticmethod
    def resolve_form(obj) -> str:
        return _label(formats.BUILDING_FORMS, obj.form)

    @staticmethod
    def resolve_dangerous(obj) -> bool:
        return obj.safety_rating in ("C", "D")


class OwnerOut(Schema):
    kind: str
    name: str
    id: str


class ResidentOut(Schema):
    residence_id: int
    person_id: int
    name: str
    id_number: str
    relation: str
    since: dt.date | None
    verified: bool


class HouseOut(Schema):
    code: str
    building_code: str
    floor: int
    room: str
    area: float | None
    use: str
    owner: OwnerOut | None
    residents: list[ResidentOut]


class ResidenceOut(Schema):
    id: int
    house_code: str
    relation: str
    since: dt.date | None
    until: dt.date | None
    verified: bool


def _kept(person) -> bool:
    """Whether the viewer keeps this person's record (``selectors.visible_persons``): phone,
    household type and care tags are shown only there."""
    return getattr(person, "kept", False)


class PersonOut(Schema):
    id: int
    id_number: str = Field(..., description="脱敏：440306********1234")
    name: str
    phone: str
    sex: str
    age: int
    household_type: str
    tags: list[str]
    residences: list[ResidenceOut]

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.id_masked

    @staticmethod
    def resolve_name(obj) -> str:
        return pii.mask_name(obj.name)

    @staticmethod
    def resolve_phone(obj) -> str:
        return pii.mask_phone(obj.phone) if _kept(obj) else ""

    @staticmethod
    def resolve_age(obj) -> int:
        today, b = dt.date.today(), obj.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    @staticmethod
    def resolve_household_type(obj) -> str:
        return _label(formats.HOUSEHOLD_TYPES, obj.household_type) if _kept(obj) else ""

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [_label(formats.CARE_TAGS, t) for t in obj.tag_list] if _kept(obj) else []

    @staticmethod
    def resolve_residences(obj) -> list[dict]:
        return [_residence(r) for r in obj.residences.all()]


class OrganisationOut(Schema):
    credit_code: str
    credit_warning: str
    name: str
    kind: str
    industry: str
    legal_rep: str
    house_code: str | None
    staff: int | None

    @staticmethod
    def resolve_kind(obj) -> str:
        return _label(formats.ORG_KINDS, obj.kind)

    @staticmethod
    def resolve_legal_rep(obj) -> str:
        # a person's name, masked like every other (the public credit register shows it, but
        # this registry's answers follow one rule for names)
        return pii.mask_name(obj.legal_rep)

    @staticmethod
    def resolve_house_code(obj) -> str | None:
        return obj.house.code if obj.house_id else None


def _residence(r: Residence) -> dict:
    return {
        "id": r.pk,
        "house_code": r.house.code,
        "relation": _label(formats.RELATIONS, r.relation),
        "since": r.since,
        "until": r.until,
        "verified": r.verified,
    }


def _resident(r: Residence) -> dict:
    return {
        "residence_id": r.pk,
        "person_id": r.person_id,
        "name": pii.mask_name(r.person.name),
        "id_number": r.person.id_masked,
        "relation": _label(formats.RELATIONS, r.relation),
        "since": r.since,
        "verified": r.verified,
    }


def party(person, org) -> dict | None:
    """An owner or landlord as answers show it: a person masked, an organisation by its
    credit code (public by law)."""
    if person is not None:
        return {"kind": "person", "name": pii.mask_name(person.name), "id": person.id_masked}
    if org is not None:
        return {"kind": "organisation", "name": org.name, "id": org.credit_code}
    return None


def _house(house) -> dict:
    owner = party(house.owner_person, house.owner_org)
    return {
        "code": house.code,
        "building_code": house.building.code,
        "floor": house.floor,
        "room": house.room,
        "area": house.area,
        "use": _label(formats.HOUSE_USES, house.use),
        "owner": owner,
        "residents": [_resident(r) for r in selectors.residents(house)],
    }


@router.get("/buildings", response=list[BuildingOut], summary="楼栋（本辖区）")
@paginate(Pagination)
def list_buildings(request, grid: str | None = None, q: str | None = None):
    _need(request, "building")
    return selectors.buildings_for(request.auth, grid=grid, q=q)


@router.get("/buildings/{code}", response=BuildingOut, summary="楼栋详情")
def get_building(request, code: str):
    _need(request, "building")
    return selectors.building_for(request.auth, code)


class BuildingPatch(Schema):
    """Every field optional; a null where the column has none is refused by the service."""

    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=200)
    use: str | None = None
    form: str | None = None
    floors: int | None = Field(None, ge=1, le=200)
    year_built: int | None = Field(None, ge=1800, le=2100)
    safety_rating: str | None = None
    fire_facilities: str | None = Field(None, max_length=200)
    grid_code: str | None = None


@router.patch("/buildings/{code}", response=BuildingOut, summary="更正楼栋信息")
def patch_building(request, code: str, payload: BuildingPatch):
    building = selectors.building_for(request.auth, code)
    return services.update_building(request.auth, building, **payload.dict(exclude_unset=True))


@router.get("/buildings/{code}/houses", response=list[HouseOut], summary="楼栋内房屋")
@paginate(Pagination)
def list_houses(request, code: str):
    _need(request, "house")
    building = selectors.building_for(request.auth, code)
    houses = selectors.houses_for(request.auth, building=building).select_related(
        "building", "owner_person", "owner_org"
    )
    return [_house(h) for h in houses]


@router.get("/houses/{code}", response=HouseOut, summary="房屋详情（含在住人员，脱敏）")
def get_house(request, code: str):
    _need(request, "house")
    return _house(selectors.house_for(request.auth, code))


class ResidentIn(Schema):
    id_number: str = Field(..., min_length=15, max_length=18)
    name: str = Field(..., min_length=1, max_length=64)
    phone: str = Field("", max_length=20)
    relation: str
    since: dt.date | None = None
    household_type: str = ""


@router.post("/houses/{code}/residents", response={201: ResidenceOut}, summary="登记居住")
def add_resident(request, code: str, payload: ResidentIn):
    house = selectors.house_for(request.auth, code)
    residence = services.register_residence(request.auth, house, **payload.dict())
    return Status(201, _residence(residence))


class EndIn(Schema):
    until: dt.date | None = None


@router.post("/residences/{residence_id}/end", response=ResidenceOut, summary="注销居住")
def end_residence(request, residence_id: int, payload: EndIn):
    from civicgrid.accounts.scoping import scope_by_grid
    from civicgrid.core.errors import NotFound
    from civicgrid.core.queries import one

    r = one(
        scope_by_grid(Residence.objects.select_related("house"), request.auth).filter(
            pk=residence_id
        )
    )
    if r is None:
        raise NotFound(f"居住登记 {residence_id} 不存在")
    return _residence(services.end_residence(request.auth, r, payload.until))


def _residences_seen(user) -> Prefetch:
    """A person's residences as this user may see them: homes in other jurisdictions stay
    hidden, even when the person is visible through a home here."""
    return Prefetch("residences", queryset=selectors.residences_seen(user))


@router.get("/persons", response=list[PersonOut], summary="人员查询（身份证号精确查找）")
@paginate(Pagination)
def list_persons(request, id_number: str | None = None, tag: str | None = None):
    _need(request, "person")
    return selectors.persons_for(request.auth, id_number=id_number, tag=tag).prefetch_related(
        _residences_seen(request.auth)
    )


class PersonSearchIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=18)


@router.post("/persons/search", response=list[PersonOut], summary="按身份证号查找（号码不进网址）")
def search_persons(request, payload: PersonSearchIn):
    """The exact lookup of ``GET /persons?id_number=`` with the number in the body: a query
    string lands in the access logs of every proxy on the way, a body does not."""
    _need(request, "person")
    return list(
        selectors.persons_for(request.auth, id_number=payload.id_number).prefetch_related(
            _residences_seen(request.auth)
        )[:10]
    )


@router.get("/persons/{person_id}", response=PersonOut, summary="人员详情（脱敏）")
def get_person(request, person_id: int):
    _need(request, "person")
    person = selectors.person_for(request.auth, person_id)
    prefetch_related_objects([person], _residences_seen(request.auth))
    return person


class RevealIn(Schema):
    reason: str = Field(..., description="查看理由，将记入个人信息访问日志")


class RevealOut(Schema):
    id_number: str
    name: str
    phone: str


@router.post("/persons/{person_id}/reveal", response=RevealOut, summary="查看完整个人信息（留痕）")
def reveal(request, person_id: int, payload: RevealIn):
    person = selectors.person_for(request.auth, person_id)
    return services.reveal_person(request.auth, person, payload.reason)


@router.get("/organisations", response=list[OrganisationOut], summary="法人（本辖区）")
@paginate(Pagination)
def list_organisations(request, credit_code: str | None = None, q: str | None = None):
    _need(request, "organisation")
    return selectors.organisations_for(request.auth, credit_code=credit_code, q=q)


@router.get("/organisations/{credit_code}", response=OrganisationOut, summary="法人详情")
def get_organisation(request, credit_code: str):
    _need(request, "organisation")
    return selectors.organisation_for(request.auth, credit_code)
