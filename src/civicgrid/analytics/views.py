"""The leaders' dashboard page (/dashboard/): a shell the browser fills from the JSON API, so
every number on the page is the API's."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from civicgrid.accounts.auth import staff_required
from civicgrid.analytics import selectors
from civicgrid.core.errors import ServiceError


def script_text() -> dict:
    """The words dashboard.js writes into the page, in the reader's language (the page hands
    them to the script with json_script). ``{n}``, ``{name}`` … are filled in by the script.
    Names that come from the API (regions, categories, departments) stay as the API sends
    them; channels are named here by their code."""
    from civicgrid.events.models import Channel, Event

    return {
        "tiles": {
            "accepted": _("受理量"),
            "on_spot": _("自行处置数"),
            "due": _("应结案数"),
            "closed": _("结案数"),
            "completion_rate": _("结案率"),
            "on_time_rate": _("按期结案率"),
            "avg_working_days": _("平均处置用时"),
            "fastest_seconds": _("最快用时"),
            "satisfaction_rate": _("满意率"),
            "response_rate": _("响应率"),
            "returned_rate": _("退单率"),
            "reopened_rate": _("发回重办率"),
        },
        "units": {
            "seconds": _("{n} 秒"),
            "minutes": _("{n} 分钟"),
            "hours": _("{n} 小时"),
            "days": _("{n} 天"),
            "points": _("{n}个百分点"),
            "events": _("{n} 件"),
            "hot_events": _("（{n} 件）"),
            "axis_events": _("件"),
        },
        "compare": _("较上期 {previous} · 较去年同期 {last_year}"),
        "tooltip": _("{name}：{value}"),
        "columns": {
            "name": _("名称"),
            "number": _("编号"),
            "title": _("标题"),
            "category": _("事项"),
            "department": _("责任单位"),
            "deadline": _("时限"),
            "supervision": _("督办"),
        },
        "supervision": {  # none shows as nothing, not as "无"
            value: str(label)
            for value, label in Event._meta.get_field("supervision").choices
            if value
        },
        "channels": {value: str(label) for value, label in Channel.choices},
        "loading": _("加载中…"),
        "period": _("统计区间 {from} 至 {to}"),
        "failed": _("加载失败：{error}"),
    }


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
            "script_text": script_text(),
        },
    )
