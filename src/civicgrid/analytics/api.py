"""Analytics API (DESIGN §11): KPIs per group, department/street scorecards (考评), monthly
reports generated in the background. Staff only; everything inside the caller's jurisdiction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Status

from civicgrid.accounts.auth import require_staff, staff_auth
from civicgrid.analytics import scorecards, selectors, services
from civicgrid.core.errors import ServiceError

router = Router(tags=["analytics"], auth=staff_auth)
FromDate = Annotated[dt.date | None, Query(alias="from", description="起始日期（含）")]


@router.get("/metrics", summary="KPI：结案率、按期结案率、平均处置用时、满意率等（DESIGN §10）")
def metrics(
    request: HttpRequest,
    region: str | None = None,
    from_: FromDate = None,
    to: dt.date | None = None,
    group_by: str | None = None,
):
    require_staff(request.auth)
    return selectors.metrics(request.user, region, from_, to, group_by)


@router.get("/scorecards", summary="考评：部门或街道的评分与排名")
def scorecard(
    request: HttpRequest,
    region: str | None = None,
    from_: FromDate = None,
    to: dt.date | None = None,
    by: str = "department",
    weights: str | None = None,
):
    require_staff(request.auth)
    return scorecards.scorecard(request.user, region, from_, to, by, weights)


@router.get("/scorecards.xlsx", summary="考评结果导出为 XLSX")
def scorecard_xlsx(
    request: HttpRequest,
    region: str | None = None,
    from_: FromDate = None,
    to: dt.date | None = None,
    by: str = "department",
    weights: str | None = None,
):
    require_staff(request.auth)
    card = scorecards.scorecard(request.user, region, from_, to, by, weights)
    data = scorecards.to_xlsx(card)
    resp = FileResponse(
        iter([data]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    resp["Content-Disposition"] = f'attachment; filename="scorecard-{card["region"]["code"]}.xlsx"'
    return resp


@router.post("/reports", response={202: dict}, summary="生成月度报表（后台任务，可查询进度）")
def request_report(request: HttpRequest, region: str | None = None, month: str | None = None):
    require_staff(request.auth)
    report = services.request_report(request.user, region, month)
    return Status(202, services.report_body(report))


@router.get("/reports/{report_id}", summary="月度报表的进度")
def report_status(request: HttpRequest, report_id: int):
    require_staff(request.auth)
    return services.report_body(services.report_for(request.user, report_id))


@router.get("/reports/{report_id}/file", summary="下载月度报表 XLSX")
def report_file(request: HttpRequest, report_id: int):
    require_staff(request.auth)
    report = services.report_for(request.user, report_id)
    if report.status != "done":
        raise ServiceError(f"报表尚未生成完毕（{report.get_status_display()}）", [], 409)
    path = services.report_path(report)
    resp = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    resp["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return resp


@router.get("/dashboard/watch", summary="超期未办结与问题工单列表")
def watch(
    request: HttpRequest, region: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 20
):
    require_staff(request.auth)
    return selectors.watch_lists(request.user, region, limit)
