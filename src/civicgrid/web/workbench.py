"""The staff workbench (工作台): intake for hotline and walk-in operators, the work queues, and
one event with its timeline and the actions allowed now. Every read goes through the events
selectors (scoped to the user's jurisdiction), every change through the events services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.accounts import selectors as accounts
from civicgrid.accounts.auth import staff_required
from civicgrid.core.errors import NotFound, ServiceError
from civicgrid.events import selectors, services, workflow
from civicgrid.events.catalogue import is_public
from civicgrid.geo import selectors as geo
from civicgrid.web import forms, guards

INTAKE_ROLES = {"operator", "dispatcher"}


def _rows(qs):
    return qs.select_related("department").order_by("deadline", "-created_at")


@staff_required
@require_GET
def home(request):
    user = request.user
    names = selectors.desks_for(user)
    current = request.GET.get("desk") or (names[0] if names else "")
    if current and current not in selectors.DESKS:
        current = names[0] if names else ""
    desks = [
        {"code": n, "label": _(selectors.DESKS[n]), "count": selectors.desk(user, n).count()}
        for n in names
    ]
    page = None
    if current:
        page = Paginator(_rows(selectors.desk(user, current)), 50).get_page(request.GET.get("page"))
    context = {
        "desks": desks,
        "current": current,
        "current_label": _(selectors.DESKS[current]) if current else "",
        "page": page,
        "can_intake": bool(user.is_superuser or INTAKE_ROLES & set(user.roles)),
        "labels": workflow.STATUS_LABELS,
    }
    # htmx swaps in the list alone; a history restore (back button) needs the whole page
    fragment = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "web/workbench/_queue.html" if fragment else "web/workbench/home.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_required
def find(request):
    number = (request.GET.get("number") or "").strip()
    if not number:
        return redirect("web:workbench")
    if not number.isdigit():
        return _missing(request, number)
    return redirect("web:workbench_event", number=number)


# --- intake ---------------------------------------------------------------------------------


def _intake_context(form) -> dict:
    return {
        "form": form,
        "leaves": forms.leaf_choices(),
        "streets": _streets(),
    }


def _streets():
    from civicgrid.web.views import _streets as streets

    return streets()


def _intake_desk(user) -> None:
    if not (user.is_superuser or INTAKE_ROLES & set(user.roles)):
        raise PermissionDenied(_("只有热线话务员和中心调度员可以登记来电来访"))


@staff_required
def intake(request):
    """Record a call or a visit as an event; a consultation answered on the phone closes at
    once (services close it with the answer as the public reply)."""
    _intake_desk(request.user)
    user = request.user
    if request.method != "POST":
        form = forms.IntakeForm(initial={"ticket": forms.new_ticket(), "channel": "hotline"})
        return render(request, "web/workbench/intake.html", _intake_context(form))
    form = forms.IntakeForm(request.POST)
    if not form.is_valid():
        return render(request, "web/workbench/intake.html", _intake_context(form), status=422)
    ref = forms.ticket_ref(form.cleaned_data["ticket"])
    if ref is None:
        form.add_error(None, _("表单已过期，请重新填写提交。"))
        form.data = form.data.copy()
        form.data["ticket"] = forms.new_ticket()
        return render(request, "web/workbench/intake.html", _intake_context(form), status=422)
    d = form.cleaned_data
    lon, lat = form.location()
    data = forms.intake(
        d, lon, lat, channel=d["channel"], source_ref=f"desk-{ref}", answer=d["answer"].strip()
    )
    try:
        event, _created = services.submit(user, data)
    except ServiceError as exc:
        from civicgrid.web.views import _field_errors

        _field_errors(form, exc)
        return render(
            request, "web/workbench/intake.html", _intake_context(form), status=exc.status
        )
    messages.success(
        request,
        _("已登记 %(number)s（%(status)s）。请告知诉求人：编号 %(number)s，查询码 %(code)s。")
        % {
            "number": event.number,
            "status": workflow.status_label(event.status),
            "code": guards.tracking_code(event.number),
        },
    )
    return redirect("web:workbench_event", number=event.number)


@staff_required
@require_GET
def caller(request):
    """htmx fragment: the caller's earlier events in the user's scope, phones masked (the
    intake desk's tool: other staff find events by number or in their queues)."""
    _intake_desk(request.user)
    events = selectors.caller_history(request.user, request.GET.get("reporter_phone", ""))
    return render(
        request,
        "web/workbench/_caller.html",
        {
            "events": events,
            "labels": workflow.STATUS_LABELS,
            "asked": request.GET.get("reporter_phone", ""),
        },
    )


# --- one event --------------------------------------------------------------------------------


def _event_context(request, event, error: ServiceError | None = None, revealed=None) -> dict:
    user = request.user
    allowed = services.allowed_actions(user, event)
    actions = [
        {
            "code": a,
            "label": workflow.action_label(a),
            "fields": forms.ACTION_FIELDS.get(a, ()),
        }
        for a in allowed
    ]
    departments = accounts.departments_for(user).exclude(kind="centre")
    region = geo.get_region(event.grid_code) if event.grid_code else None
    # free text as this user may read it (selectors.reads_clear_text), other events named only
    # when the user may open them
    clear = selectors.reads_clear_text(user, event)
    openable = selectors.similar_openable(user, [event])
    entries = list(selectors.timeline(event, staff=True))
    notes = selectors.timeline_notes(user, event, entries, clear=clear)
    commands = list(event.commands.select_related("centre").prefetch_related("targets__department"))
    for c in commands:
        c.instruction = selectors.free_text(c.instruction, clear)
        for x in c.targets.all():
            x.result = selectors.free_text(x.result, clear)
    return {
        "event": event,
        "title": event.title if clear else selectors.redacted_title(event.title, event.description),
        "description": selectors.free_text(event.description, clear),
        "answer": selectors.free_text(event.answer, clear),
        "master": selectors.master_seen(user, event, openable),
        "status_label": workflow.status_label(event.status),
        "similar": selectors.similar_seen(user, event, openable),
        "timeline": [
            {
                "entry": t,
                "note": notes[t.pk],
                "label": forms.entry_label(t.action, t.action),
                "to": workflow.status_label(t.to_status),
            }
            for t in entries
        ],
        "tasks": event.tasks.select_related("department"),
        "commands": commands,
        "actions": actions,
        "error": error,
        "error_allowed": [
            f"{workflow.action_label(a)}（{a}）"
            for a in (error.extra.get("allowed", []) if error else [])
        ],
        "leaves": forms.leaf_choices(),
        "departments": departments,
        "reasons": {k: _(v) for k, v in workflow.RETURN_REASONS.items()},
        "ratings": {k: _(v) for k, v in workflow.RATINGS.items()},
        "grid": region,
        "revealed": revealed,
        "can_reveal": selectors.may_call_back(user, event)
        and bool(event.reporter_name or event.reporter_phone),
        # the public page opens by number alone only for a public event (else with its code,
        # which centre staff repeat to a caller; a handling department never sees it, since
        # it also lets the holder rate the result)
        "track_url": reverse("web:track", args=[event.number])
        if is_public(event.channel, event.intake_type)
        else "",
        "tracking_code": guards.tracking_code(event.number)
        if {"operator", "dispatcher"} & set(user.roles)
        else "",
    }


def _event(request, number: str):
    try:
        return selectors.event_for(request.user, number)
    except NotFound:
        return None


def _missing(request, number: str):
    return render(request, "web/workbench/missing.html", {"number": number}, status=404)


@staff_required
@require_GET
def event(request, number: str):
    found = _event(request, number)
    if found is None:
        return _missing(request, number)
    return render(request, "web/workbench/event.html", _event_context(request, found))


@staff_required
@require_POST
def act(request, number: str):
    """Run one action; when it is not allowed now (or its input is wrong) the page says why
    and nothing changes."""
    action = request.POST.get("action", "")
    params = forms.action_params(action, request.POST)
    try:
        services.act(request.user, number, action, params)
    except ServiceError as exc:
        found = _event(request, number)
        if found is None:
            return _missing(request, number)
        context = _event_context(request, found, error=exc)
        return render(request, "web/workbench/event.html", context, status=exc.status)
    label = workflow.action_label(action)
    messages.success(request, _("已%(action)s") % {"action": label})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:workbench_event", args=[number])
    return redirect(back)


@staff_required
@require_POST
def reveal(request, number: str):
    """The reporter's clear name and phone, with a reason, written to the access log."""
    try:
        clear = services.reveal_reporter(request.user, number, request.POST.get("reason", ""))
    except ServiceError as exc:
        found = _event(request, number)
        if found is None:
            return _missing(request, number)
        return render(
            request,
            "web/workbench/event.html",
            _event_context(request, found, error=exc),
            status=exc.status,
        )
    found = _event(request, number)
    return render(
        request, "web/workbench/event.html", _event_context(request, found, revealed=clear)
    )
