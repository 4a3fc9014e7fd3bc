"""What Open311 shows: services from the catalogue, their definitions, and service requests
from the event hub as GeoReport fields.

Reading is public, as the spec has it (no api_key for GET) and as FixMyStreet serves it; so
what is shown is what the citizen's tracking page shows (DESIGN §12): no reporter name, phone
or e-mail, only the public timeline, and ID numbers or phone numbers written into free text
starred out. Only reports filed in public channels are listed (``PUBLIC_CHANNELS``), and 举报
(whistle-blowing) events are left out — the law protects the informant and the matter — except
for the client application that filed them. House codes (one flat each) are never shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.events import workflow
from civicgrid.events.catalogue import CONFIDENTIAL_TYPES, PUBLIC_CHANNELS
from civicgrid.events.catalogue_selectors import catalogue
from civicgrid.events.models import Event, TimelineEntry
from civicgrid.events.selectors import department_ref, redacted_title
from civicgrid.open311 import georeport as gr
from civicgrid.open311.models import ApiKey, ServiceAttribute, ServiceRequest

_UNIT = {"days": "个工作日", "hours": "个工作小时"}


# --- jurisdiction ----------------------------------------------------------------------------


def jurisdiction_ids() -> set[str]:
    """The ids a client may send as ``jurisdiction_id``: the city's region code, and the
    setting ``OPEN311_JURISDICTION`` (e.g. the city's web domain) when set."""
    from civicgrid.geo import selectors as geo

    ids = {code for code, (_, level, parent) in geo.index().nodes.items() if parent is None}
    extra = getattr(settings, "OPEN311_JURISDICTION", "")
    if extra:
        ids.add(extra)
    return ids


def check_jurisdiction(value: str | None) -> None:
    """One endpoint serves one city, so the parameter may be left out; a wrong one is a 404."""
    value = gr.optional(value)
    if value is not None and value not in jurisdiction_ids():
        raise gr.Problem(404, f"jurisdiction_id {value} was not found")


# --- services ----------------------------------------------------------------------------------


def _group(code: str) -> str:
    nodes = catalogue().nodes
    node = nodes[code]
    while node.parent is not None and node.parent in nodes:
        node = nodes[node.parent]
    return node.name


def _limit_text(limit) -> str:
    n = int(limit.amount) if float(limit.amount).is_integer() else limit.amount
    return f"{n} {_UNIT.get(limit.unit, limit.unit)}"


def service_notice(code: str | None) -> str | None:
    node = catalogue().nodes.get(code) if code else None
    if node is None:
        return None
    parts = [f"{node.intake_type}类事项" if node.intake_type else "本事项"]
    if node.deadline:
        parts.append(f"办理时限 {_limit_text(node.deadline)}（自派遣起计）")
    if node.on_spot:
        parts.append("网格员可现场处置")
    return "，".join(parts) + "。"


def services() -> list[dict[str, Any]]:
    """Every active leaf of the catalogue, in code order (``services/service``)."""
    with_attrs = set(ServiceAttribute.objects.values_list("category_id", flat=True).distinct())
    out = []
    for code in sorted(catalogue().nodes):
        node = catalogue().nodes[code]
        if not node.leaf or not node.active:
            continue
        out.append(
            {
                "service_code": code,
                "service_name": node.name,
                "description": service_notice(code) or "",
                "metadata": code in with_attrs,
                "type": "realtime",
                "keywords": ", ".join(node.keywords),
                "group": _group(code),
            }
        )
    return out


def attributes(code: str) -> list[gr.Attribute]:
    return [
        gr.Attribute(
            code=a.code,
            datatype=a.datatype,
            required=a.required,
            variable=a.variable,
            description=a.description,
            values=tuple((str(v.get("key")), str(v.get("name", ""))) for v in a.values or []),
        )
        for a in ServiceAttribute.objects.filter(category_id=code).order_by("order")
    ]


def definition(code: str) -> dict[str, Any]:
    node = catalogue().nodes.get(code)
    if node is None or not node.leaf or not node.active:
        raise gr.Problem(404, f"service_code {code} was not found")
    rows = ServiceAttribute.objects.filter(category_id=code).order_by("order")
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description or None,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v.get("key"), "name": v.get("name")} for v in a.values or []],
            }
            for a in rows
        ],
    }


# --- service requests ----------------------------------------------------------------------


def _base(client: ApiKey | None) -> QuerySet:
    shown = (
        Q(channel__in=PUBLIC_CHANNELS) & ~Q(intake_type__in=CONFIDENTIAL_TYPES) & ~Q(intake_type="")
    )
    if client is not None:
        shown |= Q(open311__client=client)
    return Event.objects.filter(shown).exclude(number=None).select_related("open311", "master")


def status_of(status: str) -> str:
    return "closed" if status in workflow.FINAL else "open"


def _status_notes(event: Event) -> str:
    label = workflow.STATUS_LABELS.get(event.status, event.status)
    if event.status == workflow.Status.MERGED and event.master_id:
        return f"{label}：与 {event.master.number} 为同一事项，请跟踪该编号"
    return label


_OTHER_STEPS = {
    "report": "登记",
    "answer": "当场答复",
    "close_on_spot": "即巡即办",
    "yellow_card": "黄牌督办",
    "red_card": "红牌督办",
}


def _label(action: str) -> str:
    if action in workflow.ACTIONS:
        return workflow.ACTIONS[action].label
    return _OTHER_STEPS.get(action, action)


def _local(when: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(when) if when else None


def request_body(event: Event, *, extensions: bool = False) -> dict[str, Any]:
    """One ``service_requests/request``: the spec's fields in the spec's order."""
    node = catalogue().nodes.get(event.category_id) if event.category_id else None
    agency = department_ref(event.department_id) or department_ref(event.centre_id)
    extra = event.open311 if hasattr(event, "open311") else None
    closed = event.status in workflow.FINAL
    updated = event.updated_at
    body: dict[str, Any] = {
        "service_request_id": event.number,
        "status": status_of(event.status),
        "status_notes": _status_notes(event),
        "service_name": node.name if node else None,
        "service_code": event.category_id,
        "description": pii.redact_text(event.description),
        "agency_responsible": agency["name"] if agency else None,
        "service_notice": service_notice(event.category_id),
        "requested_datetime": _local(event.created_at),
        "updated_datetime": _local(event.closed_at if closed and event.closed_at else updated),
        "expected_datetime": _local(event.deadline),
        "address": event.address or None,
        "address_id": None,  # a house code names one flat: never published
        "zipcode": None,
        "lat": event.lat,
        "long": event.lon,
        "media_url": (extra.media_url if extra else "") or None,
    }
    if extensions:
        body["attributes"] = [
            {
                "code": a["code"],
                "label": a.get("label", ""),
                "value": pii.redact_text(
                    ", ".join(a["value"]) if isinstance(a["value"], list) else str(a["value"])
                ),
            }
            for a in (extra.attributes if extra else []) or []
        ]
        body["extended_attributes"] = {"channel": event.channel}
        body["notes"] = [
            {
                "datetime": _local(t.at),
                # as on the tracking page: the report entry repeats a title cut from the
                # description, which may end inside a number too short to recognise
                "description": redacted_title(t.note, event.description),
                "type": _label(t.action),
                "status": status_of(t.to_status) if t.to_status else None,
            }
            for t in getattr(event, "public_notes", [])
        ]
    return body


def _with_notes(qs: QuerySet) -> QuerySet:
    notes = TimelineEntry.objects.filter(public=True).order_by("at", "pk")
    return qs.prefetch_related(Prefetch("timeline", queryset=notes, to_attr="public_notes"))


def find_requests(
    *,
    client: ApiKey | None = None,
    ids: list[str] | None = None,
    codes: list[str] | None = None,
    statuses: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    page: int = 1,
    page_size: int = gr.MAX_REQUESTS,
    extensions: bool = False,
) -> list[dict[str, Any]]:
    """GET requests: ``service_request_id`` overrides every other filter; otherwise the
    window is at most 90 days (the last 90 by default) and at most 1,000 per page."""
    qs = _base(client)
    if ids:
        qs = qs.filter(number__in=ids[: gr.MAX_REQUESTS]).order_by("-created_at")
    else:
        for s in statuses or []:
            if s not in ("open", "closed"):
                raise gr.Problem(400, f"status must be open or closed, not {s}")
        start, end = gr.window(start, end, timezone.now())
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        if codes:
            qs = qs.filter(category_id__in=codes)
        if statuses and set(statuses) != {"open", "closed"}:
            final = [str(s) for s in workflow.FINAL]
            if "closed" in statuses:
                qs = qs.filter(status__in=final)
            else:
                qs = qs.exclude(status__in=final)
        qs = qs.order_by("-created_at", "-pk")
    if extensions:
        qs = _with_notes(qs)
    size = min(page_size, gr.MAX_REQUESTS)
    rows = qs[(page - 1) * size : page * size]
    return [request_body(e, extensions=extensions) for e in rows]


def find_request(number: str, *, client: ApiKey | None = None, extensions: bool = False) -> dict:
    qs = _base(client).filter(number=number)
    if extensions:
        qs = _with_notes(qs)
    event = qs.first()
    if event is None:
        raise gr.Problem(404, f"service_request_id {number} was not found")
    return request_body(event, extensions=extensions)


def from_token(token: str, *, client: ApiKey | None = None) -> dict[str, str]:
    """``tokens/{token}``: every Open311 POST has a token (its source reference); the hub
    answers in real time, so a client never needs it, but asking still answers."""
    found = ServiceRequest.objects.filter(token=token).select_related("event").first()
    if found is not None and found.event.number:
        return {"service_request_id": found.event.number, "token": token}
    if _base(client).filter(number=token).exists():
        return {"service_request_id": token, "token": token}
    raise gr.Problem(404, f"token {token} was not found")
