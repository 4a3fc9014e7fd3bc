"""Registry pages for staff: region → grid → building → houses → residents (masked)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import contains
from civicgrid.core.errors import NotFound
from civicgrid.geo import selectors as geo
from civicgrid.registry import formats, selectors


def _staff(request) -> None:
    if not request.user.has_perm("registry.view_building"):
        raise PermissionDenied("无权查看基础数据")


def _found(fn, *args):
    try:
        return fn(*args)
    except NotFound as exc:
        raise Http404(exc.detail) from None


@login_required
def home(request):
    _staff(request)
    user = request.user
    code = request.GET.get("region") or (user.jurisdiction_id or "440300")
    region = _found(geo.get_region, code)
    if not contains(user, region.path):
        raise Http404("区域不在辖区内")
    context = {
        "region": region,
        "path": [r for r in geo.ancestors(region) if contains(user, r.path)],
    }
    q = request.GET.get("q", "").strip()
    # an ID number travels by POST only, so it never lands in a URL, a log or the history
    id_number = request.POST.get("id_number", "").strip() if request.method == "POST" else ""
    if q:
        context["search"] = selectors.buildings_for(user, q=q)[:50]
    if id_number:
        context["people"] = [
            _person_row(p, user) for p in selectors.persons_for(user, id_number=id_number)
        ]
    if region.level == "grid":
        buildings = selectors.buildings_for(user, grid=region.code).annotate(
            n_houses=Count("houses")
        )
        context["page"] = Paginator(buildings, 50).get_page(request.GET.get("page"))
    else:
        context["children"] = geo.regions(parent=region.code)
    context.update(
        q=q, searched_id=bool(id_number), uses=formats.BUILDING_USES, forms=formats.BUILDING_FORMS
    )
    return render(request, "registry/home.html", context)


def _person_row(p, user) -> dict:
    return {
        "id": p.pk,
        "id_number": p.id_masked,
        "name": pii.mask_name(p.name),
        "phone": pii.mask_phone(p.phone) if getattr(p, "kept", False) else "",
        "grid_code": selectors.grid_seen(user, p),
    }


@login_required
def building(request, code: str):
    _staff(request)
    b = _found(selectors.building_for, request.user, code)
    houses = selectors.houses_for(request.user, building=b).annotate(
        n_residents=Count("residences", filter=Q(residences__until=None))
    )
    return render(
        request,
        "registry/building.html",
        {
            "b": b,
            "houses": houses,
            "use": formats.BUILDING_USES.get(b.use, b.use),
            "form": formats.BUILDING_FORMS.get(b.form, b.form),
            "house_uses": formats.HOUSE_USES,
        },
    )


@login_required
def house(request, code: str):
    _staff(request)
    h = _found(selectors.house_for, request.user, code)
    rows = list(selectors.residents(h))
    kept = selectors.kept_here(request.user, {r.person_id for r in rows})
    residents = [
        {
            "name": pii.mask_name(r.person.name),
            "id_number": r.person.id_masked,
            "phone": pii.mask_phone(r.person.phone) if r.person_id in kept else "",
            "relation": formats.RELATIONS.get(r.relation, r.relation),
            "since": r.since,
            "verified": r.verified,
            "person_id": r.person_id,
            # care tags only where the person's record is kept (see selectors.kept_here)
            "tags": [formats.CARE_TAGS.get(t, t) for t in r.person.tag_list]
            if r.person_id in kept
            else [],
        }
        for r in rows
    ]
    return render(
        request,
        "registry/house.html",
        {"h": h, "residents": residents, "use": formats.HOUSE_USES.get(h.use, h.use)},
    )
