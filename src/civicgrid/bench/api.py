"""The bare endpoint ``civicgrid bench intake`` measures against: the same server, middleware,
JSON parsing and body validation as ``POST /api/v1/events``, and no database work at all."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from civicgrid.events.api import EventIn

router = Router(tags=["bench"])


@router.post("/bare", auth=None, response={201: dict}, include_in_schema=False)
def bare(request: HttpRequest, payload: EventIn):
    return Status(201, {"number": None, "status": "reported", "channel": payload.channel})
