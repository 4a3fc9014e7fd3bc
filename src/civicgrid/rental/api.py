"""Rental API (DESIGN §7, §11): a house's grade with its indicators and history, inspections,
tenants' self-registration by QR (public, signed, rate-limited), door-plate QR codes, rule sets
and plate sheets. Personal data masked everywhere."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from civicgrid.accounts import pii
from civicgrid.accounts.auth import staff_auth
from civicgrid.core.errors import ServiceError
from civicgrid.core.paging import MAX_OFFSET
from civicgrid.registry import selectors as registry
from civicgrid.registry.api import party
from civicgrid.rental import plates, selectors, services, signing
from civicgrid.rental.models import PlateSheet, RentalProfile

router = Router(tags=["rental"])


def _need_view(user) -> None:
    if not user.has_perm("registry.view_house"):
        raise PermissionDenied("无权查看出租屋")


def landlord_url(code: str) -> str:
    return f"/rental/landlord/{code}?sig={signing.sign(code, 'landlord')}"


def profile_body(profile: RentalProfile, viewer=None) -> dict[str, Any]:
    """A let house's profile; a landlord person the viewer cannot see in the registry (one
    living elsewhere) is shown by masked ID number only, without the name."""
    rules = selectors.active_rules()
    grade = rules.grade(profile.grade)
    landlord = party(profile.landlord_person, profile.landlord_org)
    person = profile.landlord_person
    elsewhere = (
        person and viewer is not None and person.pk not in registry.kept_here(viewer, [person.pk])
    )
    if landlord and elsewhere:
        landlord["name"] = ""
    return {
        "house_code": profile.house_code,
        "grade": profile.grade,
        "grade_label": grade.label,
        "let_allowed": grade.let_allowed,
        "scheme": rules.scheme,
        "rules_version": profile.rules_version,
        "next_inspection_due": profile.next_due,
        "overdue": selectors.is_overdue(profile),
        "last_inspected": profile.last_inspected,
        "clean_streak": profile.clean_streak,
        "upgrade_after": rules.upgrade_after,
        "indicators": selectors.indicators(profile),
        "landlord": landlord,
        "manager": {"name": pii.mask_name(profile.manager_name), "phone": profile.manager_phone}
        if profile.manager_name or profile.manager_phone
        else None,
        "rooms": profile.rooms,
        "capacity": profile.capacity,
        "landlord_url": landlord_url(profile.house_code),
        # for the grid worker: verify a residence, or check in person a declaration whose
        # name is not the one recorded for the number (it made no residence)
        "declarations": [
            {
                "at": d.at,
                "name": d.name_masked,
                "phone": d.phone_masked,
                "residence_id": d.residence_id,
                "name_mismatch": d.residence_id is None,
            }
            for d in selectors.pending_declarations(profile)
        ],
        "history": [
            {
                "at": c.at,
                "from": c.from_grade,
                "to": c.to_grade,
                "reasons": c.reason_list,
                "actor": c.actor,
                "rules_version": c.rules_version,
            }
            for c in selectors.history(profile)
        ],
    }


@router.get("/rental/tasks", auth=staff_auth, summary="出租屋检查任务（本辖区，可筛逾期）")
def tasks(
    request: HttpRequest,
    overdue: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    _need_view(request.auth)
    qs = selectors.tasks_for(request.auth, overdue=overdue)
    items = [
        {
            "id": t.pk,
            "house_code": t.profile.house_code,
            "grade": t.profile.grade,
            "grid_code": t.grid_code,
            "due": t.due,
            "overdue": t.overdue,
            "assignee": t.assignee.get_username() if t.assignee_id else None,
        }
        for t in qs.select_related("assignee")[offset : offset + limit]
    ]
    return {"items": items, "count": qs.count()}


class RulesIn(Schema):
    config: dict = Field(..., description="规则集（见 rental/data/rules/default.json）")


@router.get("/rental/rules", auth=staff_auth, summary="生效的出租屋分级规则")
def get_rules(request: HttpRequest):
    rules = selectors.active_rules()
    return {
        "version": rules.version,
        "name": rules.name,
        "scheme": rules.scheme,
        "upgrade_after": rules.upgrade_after,
        "grades": [
            {"code": g.code, "label": g.label, "interval_days": g.interval_days}
            for g in rules.grades
        ],
        "rules": len(rules.rules),
    }


@router.post(
    "/rental/rules",
    auth=staff_auth,
    summary="加载新版分级规则（无效则拒绝，旧规则继续生效）",
    response={201: dict},
)
def post_rules(request: HttpRequest, payload: RulesIn):
    row = services.load_rules(request.auth, payload.config)
    return Status(201, {"version": row.version, "name": row.name, "scheme": row.scheme})


class PlatesIn(Schema):
    building: str | None = None
    community: str | None = None


@router.post(
    "/rental/plates",
    auth=staff_auth,
    summary="生成门牌打印页（楼栋或社区，后台生成）",
    response={202: dict},
)
def post_plates(request: HttpRequest, payload: PlatesIn):
    sheet = plates.request_sheet(
        request.auth, building=payload.building, community=payload.community
    )
    return Status(202, plates.sheet_body(sheet))


@router.get("/rental/plates/{sheet_id}", auth=staff_auth, summary="门牌打印任务状态")
def get_plates(request: HttpRequest, sheet_id: int):
    return plates.sheet_body(plates.sheet_for(request.auth, sheet_id))


@router.get("/rental/plates/{sheet_id}/download", auth=staff_auth, summary="下载门牌打印页（zip）")
def download_plates(request: HttpRequest, sheet_id: int):
    sheet: PlateSheet = plates.sheet_for(request.auth, sheet_id)
    if sheet.status != "done":
        raise ServiceError("打印页尚未生成完毕", status=409)
    return FileResponse(
        open(sheet.file, "rb"), as_attachment=True, filename=f"plates-{sheet.scope}.zip"
    )


@router.get("/rental/{house_code}", auth=staff_auth, summary="出租屋等级、指标与等级变更记录")
def get_profile(request: HttpRequest, house_code: str):
    _need_view(request.auth)
    return profile_body(selectors.profile_for(request.auth, house_code), request.auth)


class ProfileIn(Schema):
    landlord_id_number: str = Field("", max_length=18)
    landlord_credit_code: str = Field("", max_length=18)
    manager_name: str = Field("", max_length=64)
    manager_phone: str = Field("", max_length=20)
    rooms: int | None = Field(None, ge=1, le=500)
    capacity: int | None = Field(None, ge=1, le=2000)
    safety_letter: bool | None = None


@router.put(
    "/rental/{house_code}",
    auth=staff_auth,
    summary="登记出租屋或更新出租信息",
    response={200: dict, 201: dict},
)
def put_profile(request: HttpRequest, house_code: str, payload: ProfileIn):
    house = registry.house_for(request.auth, house_code)
    profile, created = services.register_rental(request.auth, house, **payload.dict())
    profile = selectors.profile_for(request.auth, house_code)
    return Status(201 if created else 200, profile_body(profile, request.auth))


class InspectionIn(Schema):
    findings: dict[str, Any] = Field(
        ..., description='指标 → 取值，如 {"escape_route_blocked": true}'
    )
    photos: list[str] = Field(default_factory=list, description="照片，base64")
    note: str = Field("", max_length=1000)


@router.post(
    "/rental/{house_code}/inspections",
    auth=staff_auth,
    summary="记录一次检查并重新定级（发现的隐患进入事件中心）",
    response={201: dict},
)
def post_inspection(request: HttpRequest, house_code: str, payload: InspectionIn):
    from civicgrid.events.api import _decode_photos

    inspection = services.record_inspection(
        request.auth,
        house_code,
        findings=payload.findings,
        photos=_decode_photos(payload.photos),
        note=payload.note,
    )
    body = profile_body(selectors.profile_for(request.auth, house_code), request.auth)
    body["inspection"] = {
        "id": inspection.pk,
        "at": inspection.at,
        "grade_before": inspection.grade_before,
        "grade_after": inspection.grade_after,
        "reasons": [r for r in inspection.reasons.split("\n") if r],
        "events": inspection.events,
    }
    return Status(201, body)


class SelfRegistrationIn(Schema):
    id_number: str = Field(..., max_length=32)
    name: str = Field(..., max_length=64)
    phone: str = Field("", max_length=20)
    sig: str = Field(..., max_length=64, description="门牌二维码中的签名")


@router.post(
    "/rental/{house_code}/residents",
    auth=None,
    summary="租户扫码申报居住（待网格员核实；限频）",
    response={201: dict},
)
def self_register(request: HttpRequest, house_code: str, payload: SelfRegistrationIn):
    from civicgrid.accounts.throttle import client_address

    reg, _ = services.self_register(
        house_code,
        payload.sig,
        id_number=payload.id_number,
        name=payload.name,
        phone=payload.phone,
        client=client_address(request),
    )
    # one answer whether or not the ID number already lives here: anyone at the door may ask
    body = {
        "house_code": house_code,
        "status": "pending",
        "name": reg.name_masked,
        "message": services.SELF_REGISTERED,
    }
    return Status(201, body)


@router.post(
    "/rental/{house_code}/residents/{residence_id}/verify",
    auth=staff_auth,
    summary="网格员核实扫码申报的居住登记",
)
def verify_resident(request: HttpRequest, house_code: str, residence_id: int):
    r = services.verify_residence(request.auth, house_code, residence_id)
    return {"residence_id": r.pk, "verified": r.verified}


@router.get("/houses/{code}/qr", auth=staff_auth, summary="门牌二维码（签名链接与 SVG 门牌）")
def house_qr(request: HttpRequest, code: str, plate: bool = True):
    _need_view(request.auth)
    house = registry.house_for(request.auth, code)  # scoped
    profile = RentalProfile.objects.filter(house=house).first()
    url = plates.scan_url(code)
    svg = plates.plate_svg(house, profile) if plate else plates.qr_svg(code)
    return {"url": url, "svg": svg, "key_id": signing.key_id(url.rsplit("sig=", 1)[1])}
