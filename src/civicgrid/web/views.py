"""Landing page and the governance-tree explorer. Thin: selectors do the reading."""

from __future__ import annotations

from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from civicgrid.core.errors import NotFound
from civicgrid.geo import selectors
from civicgrid.geo.models import Level
from civicgrid.geo.shenzhen import CITY_CODE


def home(request):
    try:
        city = selectors.get_region(CITY_CODE)
    except NotFound:
        return render(request, "web/empty.html", status=503)
    return render(request, "web/region.html", _region_context(city))


def region(request, code: str):
    try:
        node = selectors.get_region(code)
    except NotFound as exc:
        raise Http404(exc.detail) from None
    return render(request, "web/region.html", _region_context(node))


def _region_context(node) -> dict:
    children = selectors.children_with_counts(node)
    counts = selectors.descendant_counts(node)
    levels = [
        lv for lv in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID) if counts.get(lv)
    ]
    for c in children:
        c["cells"] = [c["counts"].get(lv, 0) for lv in levels[1:]]
    return {
        "node": node,
        "path": selectors.ancestors(node),
        "children": children,
        "counts": [(lv.label, counts[lv]) for lv in levels],
        "child_levels": levels[1:],
        "geojson_url": reverse("api:region_geojson", args=[node.code]),
        "is_leaf_parent": node.level == Level.COMMUNITY,
    }


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
