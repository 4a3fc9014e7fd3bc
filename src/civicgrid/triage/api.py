"""Triage API (issue 6): hot issues in the caller's jurisdiction."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from civicgrid.accounts.auth import require_staff, staff_auth
from civicgrid.triage import selectors

router = Router(tags=["triage"])


@router.get("/hotspots", auth=staff_auth, summary="热点问题（本辖区）", response=dict)
def hotspots(request: HttpRequest, days: int = 7, region: str | None = None, limit: int = 20):
    """Clusters of reports about the same problem nearby, hottest first (size + growth)."""
    require_staff(request.auth)
    items = selectors.hotspots(request.auth, days=days, region=region or None, limit=limit)
    return {"items": items, "count": len(items)}
