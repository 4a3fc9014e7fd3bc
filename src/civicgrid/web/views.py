"""Public pages: the citizen portal, the tracking page and the governance-tree explorer.
Thin: selectors read, ``civicgrid.events.services`` changes state."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.accounts import pii
from civicgrid.core.errors import NotFound, ServiceError
from civicgrid.events import selectors as event_selectors
from civicgrid.events import services, workflow
from civicgrid.events.catalogue import is_public
from civicgrid.geo import selectors
from civicgrid.geo.models import Level
from civicgrid.geo.shenzhen import CITY_CODE
from civicgrid.web import forms, guards


def overview(request):
    """The city's region overview (formerly the landing page)."""
    try:
        city = selectors.get_region(CITY_CODE)
    except NotFound:
        return render(request, "web/empty.html", status=503)
    return render(request, "web/region.html", _region_context(city))


def region(request, code: str):
    try:
        node = selectors.get_region(code)
    except NotFound as exc:
        raise Http404(exc.detail) from None
    return render(request, "web/region.html", _region_context(node))


def _region_context(node) -> dict:
    children = selectors.children_with_counts(node)
    counts = selectors.descendant_counts(node)
    levels = [
        lv for lv in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID) if counts.get(lv)
    ]
    for c in children:
        c["cells"] = [c["counts"].get(lv, 0) for lv in levels[1:]]
    return {
        "node": node,
        "path": selectors.ancestors(node),
        "children": children,
        "counts": [(lv.label, counts[lv]) for lv in levels],
        "child_levels": levels[1:],
        "geojson_url": reverse("api:region_geojson", args=[node.code]),
        "is_leaf_parent": node.level == Level.COMMUNITY,
    }


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- citizen portal -----------------------------------------------------------------------


def _streets() -> list[tuple[str, list]]:
    """Streets grouped by district, for the "choose where" picker without a map."""
    districts = {r.code: r.name for r in selectors.regions(level=Level.DISTRICT)}
    groups: dict[str, list] = {}
    for s in selectors.regions(level=Level.STREET).only("code", "name", "parent_id"):
        groups.setdefault(districts.get(s.parent_id, s.parent_id), []).append(s)
    return list(groups.items())


def _portal_context(form) -> dict:
    return {
        "form": form,
        "leaves": forms.leaf_choices(),
        "streets": _streets(),
        "geojson_url": reverse("api:region_geojson", args=[CITY_CODE]),
    }


def _field_errors(form, exc: ServiceError) -> None:
    """Put a service's field errors on the form's fields (or on the form as a whole)."""
    for e in exc.errors:
        name = e.field.split(".")[0]
        if name in ("lon", "lat", "location"):
            name = "region"
        form.add_error(name if name in form.fields else None, e.message)
    if not exc.errors:
        form.add_error(None, exc.detail)


@require_http_methods(["GET", "POST"])
def portal(request):
    """File an appeal (诉求). Anonymous; one signed ticket per form makes a resubmission
    return the first event; filings are limited per address."""
    if request.method == "GET":
        form = forms.PortalForm(initial={"ticket": forms.new_ticket()})
        return render(request, "web/portal.html", _portal_context(form))
    form = forms.PortalForm(request.POST, request.FILES)
    if guards.over_limit("submit", request, guards.SUBMIT_LIMIT):
        form.is_valid()
        form.add_error(None, _("提交过于频繁，请一小时后再试，或拨打 12345 热线。"))
        return render(request, "web/portal.html", _portal_context(form), status=429)
    if not form.is_valid():
        return render(request, "web/portal.html", _portal_context(form), status=422)
    ref = forms.ticket_ref(form.cleaned_data["ticket"])
    if ref is None:
        form.add_error(None, _("表单已过期，请重新填写提交。"))
        form.data = form.data.copy()
        form.data["ticket"] = forms.new_ticket()
        return render(request, "web/portal.html", _portal_context(form), status=422)
    lon, lat = form.location()
    d = form.cleaned_data
    actor = request.user if request.user.is_authenticated else guards.PORTAL_ACTOR
    intake = forms.intake(
        d, lon, lat, channel="web", source_ref=f"portal-{ref}", photos=d["photos"]
    )
    guards.count("submit", request)
    try:
        event, _created = services.submit(actor, intake)
    except ServiceError as exc:
        _field_errors(form, exc)
        return render(request, "web/portal.html", _portal_context(form), status=exc.status)
    code = guards.tracking_code(event.number)
    filed = request.session.get("filed", {})
    filed[event.number] = code
    request.session["filed"] = filed
    return render(
        request,
        "web/portal_done.html",
        {"event": event, "code": code, "track_url": reverse("web:track", args=[event.number])},
        status=201,
    )


# --- tracking -------------------------------------------------------------------------------


def track_lookup(request):
    number = (request.GET.get("number") or "").strip()
    if number and not number.isdigit():
        return render(request, "web/track_missing.html", {"number": number}, status=404)
    if number:
        code = (request.GET.get("code") or "").strip()
        url = reverse("web:track", args=[number])
        return redirect(f"{url}?{urlencode({'code': code})}" if code else url)
    return render(request, "web/track_lookup.html")


def _track_context(request, event, rate_form=None) -> dict:
    """What the public page shows: public entries only, and free text with any phone, ID
    number or e-mail the citizen or staff wrote into it starred out (a title cut from the
    description, and the report entry that repeats it, starred as the description is, so a
    number cut short at the title's end shows no digits the description would star)."""
    steps = [
        {
            "at": t.at,
            "label": forms.entry_label(t.action),
            "action": t.action,
            "to": workflow.status_label(t.to_status),
            "department": t.department.name if t.department_id else "",
            "note": event_selectors.redacted_title(t.note, event.description),
        }
        for t in event_selectors.timeline(event, staff=False)
    ]
    known = request.session.get("filed", {}).get(event.number, "")
    return {
        "event": event,
        "title": event_selectors.redacted_title(event.title, event.description),
        "answer": pii.redact_text(event.answer),
        "status_label": workflow.status_label(event.status),
        "steps": steps,
        "rating_label": _(workflow.RATINGS[event.rating])
        if event.rating in workflow.RATINGS
        else "",
        "can_rate": event.status == "closed" and not event.rated_this_closure,
        "rate_form": rate_form or forms.RateForm(initial={"code": known}),
    }


def _public_event(number: str):
    try:
        return event_selectors.public_event(number)
    except NotFound:
        return None


def _may_see(request, event, code: str) -> bool:
    """What Open311 publishes (``catalogue.is_public``) anyone may follow by number. Any other
    event — a report (举报), a hotline call, a grid worker's or an inspector's finding, one not
    yet triaged — only the browser that filed it, or whoever holds its tracking code (told to a
    caller with the number). Numbers run in sequence, so without this anyone could page through
    them. Wrong codes count towards the same limit as wrong codes when rating."""
    if is_public(event.channel, event.intake_type):
        return True
    if event.number in request.session.get("filed", {}):
        return True
    if not code or guards.over_limit("code", request, guards.CODE_FAILURE_LIMIT):
        return False
    if guards.code_matches(event.number, code):
        return True
    guards.count("code", request)
    return False


def track(request, number: str):
    event = _public_event(number)
    if event is None or not _may_see(request, event, request.GET.get("code", "")):
        return render(request, "web/track_missing.html", {"number": number}, status=404)
    return render(request, "web/track.html", _track_context(request, event))


@require_POST
def rate(request, number: str):
    """The reporter rates a closed event, proving it with the tracking code from filing."""
    event = _public_event(number)
    if event is None:
        return render(request, "web/track_missing.html", {"number": number}, status=404)
    form = forms.RateForm(request.POST)
    status = 422
    if guards.over_limit("code", request, guards.CODE_FAILURE_LIMIT):
        form.is_valid()
        form.add_error(None, _("查询码错误次数过多，请一小时后再试。"))
        status = 429
    elif form.is_valid():
        if not guards.code_matches(number, form.cleaned_data["code"]):
            guards.count("code", request)
            form.add_error("code", _("查询码不正确：请使用登记成功时显示的 8 位查询码。"))
        else:
            try:
                services.act(
                    guards.RATER_ACTOR,
                    number,
                    "rate",
                    {"rating": form.cleaned_data["rating"], "note": form.cleaned_data["note"]},
                )
            except ServiceError as exc:
                form.add_error(None, exc.detail)
                status = exc.status
            else:
                messages.success(request, _("感谢您的评价！"))
                if not is_public(event.channel, event.intake_type):
                    code = form.cleaned_data["code"].strip().upper()
                    return redirect(f"{reverse('web:track', args=[number])}?code={code}")
                return redirect("web:track", number=number)
    if not is_public(event.channel, event.intake_type) and number not in request.session.get(
        "filed", {}
    ):
        code_ok = form.is_valid() and guards.code_matches(number, form.cleaned_data["code"])
        if not code_ok:  # a stranger learns nothing of a non-public event, not even that it exists
            return render(request, "web/track_missing.html", {"number": number}, status=404)
    return render(request, "web/track.html", _track_context(request, event, form), status=status)
