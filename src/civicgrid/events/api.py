"""Event hub API (DESIGN §11): the catalogue, intake from every channel, the event with its
timeline, and workflow actions. Reporter names and phones are masked in every answer."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from civicgrid.accounts.auth import staff_auth
from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.core.paging import MAX_OFFSET, Paged
from civicgrid.events import catalogue_selectors, selectors, services, workflow
from civicgrid.events.models import Event

router = Router(tags=["events"])


# --- catalogue -----------------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None = Field(None, alias="parent_id")
    level: int
    leaf: bool
    deadline: str
    on_spot: bool
    intake_type: str
    urgency: str


@router.get(
    "/catalogue",
    response=list[CategoryOut],
    summary="事项目录（大类 → 小类 → 事项）",
    auth=None,
)
@paginate(Paged)
def catalogue(request: HttpRequest, parent: str | None = None, leaf: bool | None = None):
    return catalogue_selectors.categories(parent=parent, leaf=leaf)


# --- intake --------------------------------------------------------------------------------


class EventIn(Schema):
    channel: str = Field(
        ..., description="hotline city_mgmt grid hall miniprogram web open311 sensor upper"
    )
    source_ref: str = Field(
        "", max_length=64, description="来源系统的编号；同一渠道重复提交返回同一事件"
    )
    title: str = Field("", max_length=200)
    description: str = Field(..., min_length=1, max_length=services.MAX_DESCRIPTION)
    category: str | None = Field(None, description="末级事项编码；不填则自动建议")
    lon: float | None = None
    lat: float | None = None
    crs: str = Field("wgs84", description="wgs84 / gcj02 / bd09")
    address: str = Field("", max_length=200)
    house_code: str = Field("", max_length=25)
    reporter_name: str = Field("", max_length=32)
    reporter_phone: str = Field("", max_length=20)
    photos: list[str] = Field(default_factory=list, description="照片，base64（JPEG/PNG/WebP）")
    on_spot: bool = Field(False, description="网格员即巡即办：现场处置完毕，须附照片")
    answer: str = Field("", max_length=4000, description="咨询类当场答复的内容（当场办结）")


def _decode_photos(items: list[str]) -> list[bytes]:
    out = []
    for i, text in enumerate(items):
        if len(text) > services.MAX_PHOTO_BYTES * 4 // 3 + 1024:
            raise ServiceError("输入有误", [FieldError(f"photos.{i}", "照片不能超过 5 MB")])
        payload = text.partition(",")[2] if text.startswith("data:") else text
        try:
            out.append(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError):
            raise ServiceError(
                "输入有误", [FieldError(f"photos.{i}", "不是有效的 base64 图片")]
            ) from None
    return out


def _ref(obj) -> dict | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def event_body(
    event: Event, *, viewer=None, detail: bool = False, openable: set[str] | None = None
) -> dict[str, Any]:
    """The event as every client sees it (DESIGN §11); personal data masked — in free text too,
    for viewers who do not read it in clear (``selectors.reads_clear_text``, which says who and
    why) — and other events named only to those who may open them."""
    clear = selectors.reads_clear_text(viewer, event if detail else None)
    if openable is None:
        openable = selectors.similar_openable(viewer, [event])
    body: dict[str, Any] = {
        "number": event.number,
        "status": event.status,
        "status_label": workflow.STATUS_LABELS[event.status],
        "channel": event.channel,
        "source_ref": event.source_ref,
        "title": event.title if clear else selectors.redacted_title(event.title, event.description),
        "description": selectors.free_text(event.description, clear),
        "category": selectors.category_ref(event.category_id),
        "suggested_category": (
            {"code": event.suggested_category_id, "score": event.suggestion_score}
            if event.suggested_category_id
            else None
        ),
        "intake_type": event.intake_type,
        "urgency": event.urgency,
        "lon": event.lon,
        "lat": event.lat,
        "address": event.address,
        "grid_code": event.grid_code,
        "district_code": event.district_code,
        "house_code": event.house_code,
        "building_code": event.building_code,
        "reporter_name": event.reporter_name,
        "reporter_phone": event.reporter_phone,
        "centre": selectors.department_ref(event.centre_id),
        "department": selectors.department_ref(event.department_id),
        "deadline": event.deadline,
        "deadline_estimated": event.deadline_estimated,
        "supervision": event.supervision,
        "problem": event.problem,
        "supporters": event.supporters,
        "master": selectors.master_seen(viewer, event, openable),
        "similar": selectors.similar_seen(viewer, event, openable),
        "on_spot": event.on_spot,
        "evidence": event.evidence,
        "answer": selectors.free_text(event.answer, clear),
        "rating": event.rating,
        "returned_count": event.returned_count,
        "reopened_count": event.reopened_count,
        "created_at": event.created_at,
        "accepted_at": event.accepted_at,
        "dispatched_at": event.dispatched_at,
        "resolved_at": event.resolved_at,
        "verified_at": event.verified_at,
        "closed_at": event.closed_at,
    }
    if detail:
        staff = viewer is not None and (
            viewer.is_superuser or bool(set(viewer.roles) - {"citizen"})
        )
        entries = list(selectors.timeline(event, staff=staff))
        notes = selectors.timeline_notes(viewer, event, entries, clear=clear)
        body["timeline"] = [
            {
                "at": t.at,
                "actor": t.actor if staff else "",
                "action": t.action,
                "label": workflow.ACTIONS[t.action].label
                if t.action in workflow.ACTIONS
                else t.action,
                "from": t.from_status,
                "to": t.to_status,
                "department": _ref(t.department),
                "note": notes[t.pk],
                "public": t.public,
            }
            for t in entries
        ]
        if staff:
            body["tasks"] = [
                {
                    "department": _ref(t.department),
                    "lead": t.lead,
                    "status": t.status,
                    "dispatched_at": t.dispatched_at,
                    "signed_at": t.signed_at,
                    "finished_at": t.finished_at,
                    "deadline": t.deadline,
                    "return_reason": t.return_reason,
                    "extension": t.extension_status,
                }
                for t in event.tasks.select_related("department")
            ]
            body["commands"] = [
                {
                    "centre": _ref(c.centre),
                    "issued_at": c.issued_at,
                    "on_scene_by": c.on_scene_by,
                    "instruction": selectors.free_text(c.instruction, clear),
                    "targets": [
                        {
                            "department": _ref(x.department),
                            "arrived_at": x.arrived_at,
                            "result": selectors.free_text(x.result, clear),
                        }
                        for x in c.targets.select_related("department")
                    ],
                }
                for c in event.commands.select_related("centre")
            ]
        if staff:
            picks = event.suggestions or {}
            body["suggestions"] = [  # the triage queue's top three (DESIGN §6 dispatch)
                {**(selectors.category_ref(p["code"]) or {"code": p["code"]}), "score": p["score"]}
                for p in picks.get("top", [])
            ]
            body["auto_threshold"] = picks.get("threshold")
        body["allowed_actions"] = services.allowed_actions(viewer, event) if viewer else []
    return body


@router.post(
    "/events",
    auth=staff_auth,
    summary="登记事件（各渠道统一入口）",
    response={200: dict, 201: dict},
)
def submit(request: HttpRequest, payload: EventIn):
    data = services.Intake(
        **payload.dict(exclude={"photos"}), photos=_decode_photos(payload.photos)
    )
    event, created = services.submit(request.auth, data)
    body = event_body(event, viewer=request.auth)
    # for the filer to tell the citizen: with the number it opens the tracking page (needed
    # for any event not published by number alone) and lets the citizen rate the result
    from civicgrid.web.guards import tracking_code

    body["tracking_code"] = tracking_code(event.number)
    return Status(201 if created else 200, body)


@router.get("/events", auth=staff_auth, summary="事件列表（本辖区）", response=dict)
def events(
    request: HttpRequest,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    status: str | None = None,
    category: str | None = None,
    problem: bool | None = None,
    supervision: str | None = None,
    mine: bool = False,
):
    """``mine=true``: a department's open tasks, or the events waiting at a centre's desk
    (to triage, to dispatch, returned)."""
    qs = selectors.events_for(request.auth).select_related(
        "category", "centre", "department", "master"
    )
    if status:
        qs = qs.filter(status__in=status.split(","))
    if category:
        qs = qs.filter(category_id=category)
    if problem is not None:
        qs = qs.filter(problem=problem)
    if supervision:
        qs = qs.filter(supervision=supervision)
    if mine:
        qs = selectors.queue(request.auth, qs)
    page = list(qs.order_by("-created_at", "-pk")[offset : offset + limit])
    openable = selectors.similar_openable(request.auth, page)
    return {
        "items": [event_body(e, viewer=request.auth, openable=openable) for e in page],
        "count": qs.count(),
    }


@router.get("/events/{number}", auth=staff_auth, summary="事件详情（含办理记录）", response=dict)
def event(request: HttpRequest, number: str):
    return event_body(selectors.event_for(request.auth, number), viewer=request.auth, detail=True)


class ActionIn(Schema):
    note: str = Field("", max_length=4000)
    category: str | None = None
    department: str | None = None
    assists: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list, description="发令的执行单位")
    on_scene_by: dt.datetime | None = Field(None, description="发令的到场时限")
    reason: str | None = Field(None, description="退单原因：territory / ownership / overlap")
    limit: str | None = Field(None, description="申请延期时长，如 2d、4h")
    granted: bool = True
    passed: bool = True
    rating: str | None = Field(None, description="satisfied / basic / unsatisfied")
    master: str | None = Field(None, description="合并到的事件编号")
    public: bool = False


@router.post(
    "/events/{number}/actions/{action}",
    auth=staff_auth,
    summary="办理操作（立案、派遣、签收、退单、办结、核查、结案、评价、重办、发令 …）",
    response=dict,
)
def action(request: HttpRequest, number: str, action: str, payload: ActionIn | None = None):
    params = payload.dict(exclude_none=True) if payload is not None else {}
    services.act(request.auth, number, action, params)
    return event_body(selectors.event_for(request.auth, number), viewer=request.auth, detail=True)


class RevealIn(Schema):
    reason: str = Field(..., description="查看理由（写入个人信息访问日志）")


@router.post(
    "/events/{number}/reveal",
    auth=staff_auth,
    summary="查看诉求人完整姓名与电话（须说明理由，记入访问日志）",
    response=dict,
)
def reveal(request: HttpRequest, number: str, payload: RevealIn):
    return services.reveal_reporter(request.auth, number, payload.reason)
