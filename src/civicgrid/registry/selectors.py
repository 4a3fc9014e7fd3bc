"""Reads of the registry, always through the caller's jurisdiction (DESIGN §12).

A row outside the jurisdiction is reported exactly like a row that does not exist.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Value

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import scope_by_grid, sees_everything
from civicgrid.core.errors import NotFound
from civicgrid.core.queries import one
from civicgrid.registry.models import Building, House, Organisation, Person, Residence


def buildings_for(user, *, grid: str | None = None, q: str | None = None) -> QuerySet:
    qs = scope_by_grid(Building.objects.all(), user)
    if grid:
        qs = qs.filter(grid_code=grid)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(address__icontains=q) | Q(code=q))
    return qs.order_by("code")


def building_for(user, code: str) -> Building:
    building = one(scope_by_grid(Building.objects.filter(code=code), user))
    if building is None:
        raise NotFound(f"楼栋编码 {code} 不存在")
    return building


def houses_for(user, *, building: Building) -> QuerySet:
    return scope_by_grid(House.objects.filter(building=building), user).order_by("floor", "room")


HOUSE_FIELDS = (
    "code",
    "floor",
    "room",
    "area",
    "use",
    "grid_code",
    "district_code",
    "building__code",
    "building__name",
    "building__address",
    "owner_person__name",
    "owner_person__id_masked",
    "owner_org__name",
    "owner_org__credit_code",
)


def house_for(user, code: str) -> House:
    house = one(
        scope_by_grid(House.objects.filter(code=code), user)
        .select_related("building", "owner_person", "owner_org")
        .only(*HOUSE_FIELDS)  # the detail shows these; compiling 40-odd columns costs more
    )
    if house is None:
        raise NotFound(f"房屋编码 {code} 不存在")
    return house


def residents(house: House, *, current: bool = True) -> QuerySet:
    qs = (
        Residence.objects.filter(house=house)
        .select_related("person")
        .only(
            "relation",
            "since",
            "until",
            "verified",
            "house_id",
            "person__name",
            "person__id_masked",
            "person__phone",
            "person__tags",
        )
    )
    if current:
        qs = qs.filter(until=None)
    return qs.order_by("since", "id")


def visible_persons(qs: QuerySet, user, *, homes: bool = True) -> QuerySet:
    """Persons whose own grid, or any current residence, lies in the user's jurisdiction.

    A person registered in two districts is seen by both; a person with nothing in the
    jurisdiction is reported like one who does not exist. ``homes=False`` keeps to their own
    grid: the residence test cannot use an index once it is ORed in, so a whole-jurisdiction
    list or count would read every person of the city; callers that first narrow ``qs`` to a
    key (an ID number, an id) ask for homes, lists by tag or name do not (residents elsewhere
    are listed under their house).
    """
    own = scope_by_grid(qs, user)
    if sees_everything(user) or own.query.is_empty() or not homes:
        return own.annotate(kept=Value(True))
    lives_here = scope_by_grid(Residence.objects.filter(person=OuterRef("pk"), until=None), user)
    kept = Exists(scope_by_grid(Person.objects.filter(pk=OuterRef("pk")), user))
    return (own | qs.filter(Exists(lives_here))).annotate(kept=kept)


def kept_here(user, person_ids) -> set[int]:
    """Which of these persons have their own record (grid) in the user's jurisdiction. Only
    there are their phone, household type and care tags shown: a person seen through a home
    here (which anyone may register with a known ID number) shows name and ID masked only."""
    return set(
        scope_by_grid(Person.objects.filter(pk__in=list(person_ids)), user).values_list(
            "pk", flat=True
        )
    )


def residences_seen(user) -> QuerySet:
    """Residences in the user's jurisdiction: a person's homes elsewhere are not shown."""
    return scope_by_grid(Residence.objects.select_related("house"), user)


def grid_seen(user, person: Person) -> str:
    """The person's grid as this user may see it: their own when it is in the jurisdiction,
    else that of a current home here (never a grid of another jurisdiction)."""
    if person.pk in kept_here(user, [person.pk]):
        return person.grid_code
    home = residences_seen(user).filter(person=person, until=None).order_by("id")
    return home.values_list("grid_code", flat=True).first() or ""


def persons_for(
    user, *, id_number: str | None = None, q: str | None = None, tag: str | None = None
) -> QuerySet:
    if id_number is not None:
        exact = Person.objects.filter(id_hash=pii.cipher().lookup_hash(id_number))
        qs = visible_persons(exact, user)
    else:
        qs = visible_persons(Person.objects.all(), user, homes=False)
    if q:
        qs = qs.filter(name=q)  # whole names only: partial name search invites trawling
    if tag:
        qs = qs.filter(tags__contains=f",{tag},")
    return qs.order_by("id")


def person_for(user, person_id: int) -> Person:
    person = one(visible_persons(Person.objects.filter(pk=person_id), user))
    if person is None:
        raise NotFound(f"人员 {person_id} 不存在")
    return person


def organisations_for(user, *, credit_code: str | None = None, q: str | None = None) -> QuerySet:
    qs = scope_by_grid(Organisation.objects.select_related("house"), user)
    if credit_code:
        qs = qs.filter(credit_code=credit_code.strip().upper())
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("credit_code")


def organisation_for(user, credit_code: str) -> Organisation:
    org = organisations_for(user, credit_code=credit_code).first()
    if org is None:
        raise NotFound(f"统一社会信用代码 {credit_code} 不存在")
    return org
