"""The door-plate scan page (phone layout, public: no personal data) and the landlord view.

A forged or altered signature gets the same plain "invalid code" page (404) whether or not the
house exists, so the page reveals nothing. The actions post back to the page and call the
same services as the API.

Both pages follow the chosen language. Rule sets are data: a grade's texts and the rules'
reasons are translated when shown, so the shipped default reads in English (``rental.texts``)
and a city's own wording shows as written.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from civicgrid.accounts.scoping import scope_by_grid
from civicgrid.accounts.throttle import client_address
from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.registry.models import House
from civicgrid.rental import grading, selectors, services, signing
from civicgrid.web import guards


def _grade(grade: grading.Grade) -> grading.Grade:
    return replace(
        grade, label=_(grade.label), meaning=_(grade.meaning), tenant_note=_(grade.tenant_note)
    )


_UPGRADED = re.compile(r"连续 (\d+) 次检查合格，升一级至(.+)")


def _reason(text: str) -> str:
    """A grade change's reason, as ``grading`` words it ("reason（grade）" or an upgrade)."""
    if m := _UPGRADED.fullmatch(text):
        return _(grading.UPGRADED) % {"n": m[1], "grade": _(m[2])}
    reason, paren, grade = text.rpartition("（")
    if not paren or not grade.endswith("）"):
        return _(text)
    return _(grading.REASON) % {"reason": _(reason), "grade": _(grade[:-1])}


def _invalid(request) -> HttpResponse:
    return render(request, "rental/invalid.html", status=404)


def _context(request, code: str, sig: str) -> dict | None:
    house = (
        House.objects.select_related("building")
        .only("code", "room", "building__address", "grid_code", "district_code", "use")
        .filter(code=code)
        .first()
    )
    if house is None:
        return None
    profile = selectors.public_profile(code)
    rules = selectors.active_rules()
    grade = rules.grade(profile.grade) if profile else None
    let_note = grade is not None and not grade.let_allowed and "不得出租" not in grade.meaning
    user = request.user
    inspector = (
        profile is not None
        and services.can_inspect(user)
        and scope_by_grid(House.objects.filter(pk=house.pk), user).exists()
    )
    return {
        "code": code,
        "sig": sig,
        "here": f"{request.path}?{urlencode({'sig': sig})}",  # the language switch comes back
        "address": f"{house.building.address} {house.room}",
        "profile": profile,
        "grade": grade and _grade(grade),
        "let_note": let_note,
        "grades": [_grade(g) for g in rules.grades],
        "inspector": inspector,
        "findings": [
            (k, _(grading.INDICATORS[k][1]))
            for k, kind in grading.FINDINGS.items()
            if kind == "bool" and k != "refused"
        ],
    }


@require_http_methods(["GET", "POST"])
def scan(request, code: str):
    sig = request.POST.get("sig") if request.method == "POST" else request.GET.get("sig")
    if not signing.verify(code, sig):
        return _invalid(request)
    context = _context(request, code, sig)
    if context is None:
        return _invalid(request)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            context["notice"] = _act(request, code, sig, action)
            context["done"] = action
        except ServiceError as exc:
            status = exc.status if exc.status < 500 else 422
            context["error"] = _(exc.detail)
            context["field_errors"] = [_(e.message) for e in exc.errors]
            context["failed"] = action
        context = _context(request, code, sig) | {
            k: v
            for k, v in context.items()
            if k in ("notice", "done", "error", "field_errors", "failed")
        }
    return render(request, "rental/scan.html", context, status=status)


def _act(request, code: str, sig: str, action: str) -> str:
    p = request.POST
    client = client_address(request)
    if action == "register":
        services.self_register(
            code,
            sig,
            id_number=p.get("id_number", ""),
            name=p.get("name", ""),
            phone=p.get("phone", ""),
            client=client,
        )
        # the same whether or not they live here
        return _("%(message)s。") % {"message": _(services.SELF_REGISTERED)}
    if action == "report":
        event = services.report_problem(
            code,
            sig,
            description=p.get("description", ""),
            phone=p.get("phone", ""),
            client=client,
        )
        # the tracking code opens the tracking page (a report not yet triaged is not public)
        # and lets the citizen rate the result; this browser may follow it without the code
        filed = request.session.get("filed", {})
        filed[event.number] = guards.tracking_code(event.number)
        request.session["filed"] = filed
        return _(
            "已收到您反映的问题，编号 %(number)s，查询码 %(code)s。请记下编号和查询码，"
            "凭它们查询办理进度、评价办理结果。"
        ) % {"number": event.number, "code": filed[event.number]}
    if action == "inspect":
        if not services.can_inspect(request.user):
            raise ServiceError(_("请先以网格员身份登录"), status=403)
        findings = {}
        for key, kind in grading.FINDINGS.items():
            if kind == "bool" and key != "refused":
                findings[key] = p.get(key) == "on"
        findings["fire_facilities_ok"] = p.get("fire_facilities_ok") == "on"
        if p.get("observed", "").strip():
            try:
                findings["observed"] = int(p["observed"])
            except ValueError:
                raise ServiceError(
                    _("输入有误"), [FieldError("findings.observed", _("实住人数须为整数"))]
                ) from None
        if p.get("refused") == "on":
            findings = {"refused": True}
        inspection = services.record_inspection(
            request.user, code, findings=findings, note=p.get("note", "")
        )
        rules = selectors.active_rules()
        label = _(rules.grade(inspection.grade_after).label)
        notice = _("检查已记录，当前等级：%(grade)s。") % {"grade": label}
        if inspection.events:
            numbers = pgettext("list separator", "、").join(inspection.events)
            notice += _("已生成隐患事件 %(numbers)s。") % {"numbers": numbers}
        return notice
    raise ServiceError(_("未知操作"), status=400)


def landlord(request, code: str):
    """What a landlord sees through their own signed link: the grade, why, what to fix."""
    if not signing.verify(code, request.GET.get("sig"), purpose="landlord"):
        return _invalid(request)
    profile = selectors.public_profile(code)
    if profile is None:
        return _invalid(request)
    rules = selectors.active_rules()
    full = type(profile).objects.get(pk=profile.pk)
    ev = grading.evaluate(rules, selectors.indicators(full))
    rank = rules.rank(profile.grade)
    cap = rules.rank(ev.cap)
    up = rules.grades[rank - 1] if rank > 0 else None
    last = full.changes.order_by("-at", "-id").first()
    return render(
        request,
        "rental/landlord.html",
        {
            "profile": profile,
            "grade": _grade(rules.grade(profile.grade)),
            "address": f"{profile.house.building.address} {profile.house.room}",
            "reasons": [_reason(r) for r in ev.reasons],
            "last_reasons": [_reason(r) for r in last.reason_list] if last else [],
            "fixes": [_(f) for f in ev.fixes],
            "up": up and _grade(up),
            "blocked": up is not None and cap >= rank,
            "needed": max(rules.upgrade_after - profile.clean_streak, 0),
            "rules": rules,
        },
    )
