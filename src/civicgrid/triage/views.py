"""The staff page of hot issues (/workbench/hotspots/). Thin: the selector does the reading."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from civicgrid.accounts.auth import staff_required
from civicgrid.core.errors import NotFound, ServiceError
from civicgrid.triage import selectors

DAY_CHOICES = (1, 3, 7, 14, 30)


@staff_required
def hotspots(request):
    user = request.user
    try:
        days = int(request.GET.get("days") or 7)
    except ValueError:
        days = 7
    region = request.GET.get("region", "").strip() or None
    error = ""
    try:
        spots = selectors.hotspots(user, days=days, region=region)
    except NotFound as exc:
        raise Http404(exc.detail) from None
    except ServiceError as exc:
        spots, error = [], str(exc)
    return render(
        request,
        "triage/hotspots.html",
        {
            "spots": spots,
            "days": days,
            "region": region or "",
            "choices": DAY_CHOICES,
            "error": error,
        },
    )
