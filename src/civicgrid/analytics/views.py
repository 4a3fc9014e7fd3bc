"""The leaders' dashboard page (/dashboard/): a shell the browser fills from the JSON API, so
every number on the page is the API's."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from civicgrid.accounts.auth import staff_required
from civicgrid.analytics import kpi, selectors
from civicgrid.core.errors import ServiceError


@staff_required
def dashboard(request):
    try:
        scope = selectors.region_for(request.user, request.GET.get("region"))
    except ServiceError as exc:
        raise Http404(exc.detail) from None
    from civicgrid.accounts.scoping import ancestor_paths
    from civicgrid.geo.models import Region

    home = selectors.region_for(request.user, None)
    crumbs = [
        r
        for r in Region.light.filter(path__in=ancestor_paths(scope.path)).order_by("path")
        if len(r.path) >= len(home.path)
    ]
    p = selectors.period_for(None, None)
    child = {"city": "district", "district": "street", "street": "community"}.get(scope.level)
    return render(
        request,
        "analytics/dashboard.html",
        {
            "scope": scope,
            "crumbs": crumbs,
            "first": p.first,
            "last": p.last,
            "child_level": child or "",
            "labels": kpi.LABELS,
        },
    )
