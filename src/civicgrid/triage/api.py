"""Triage API (issue 6): hot issues in the caller's jurisdiction."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from civicgrid.accounts.auth import staff_auth
from civicgrid.core.errors import ServiceError
from civicgrid.triage import selectors

router = Router(tags=["triage"])


def _staff(user) -> None:
    if not (user.is_superuser or set(user.roles) - {"citizen"}):
        raise ServiceError("无权查看热点问题", [], 403)


@router.get("/hotspots", auth=staff_auth, summary="热点问题（本辖区）", response=dict)
def hotspots(request: HttpRequest, days: int = 7, region: str | None = None, limit: int = 20):
    """Clusters of reports about the same problem nearby, hottest first (size + growth)."""
    _staff(request.auth)
    items = selectors.hotspots(request.auth, days=days, region=region or None, limit=limit)
    return {"items": items, "count": len(items)}
