"""The grid worker's phone page (网格员): my tasks (events to verify on site, my open reports),
report what I found with a photo, and close minor matters on the spot (即巡即办)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from civicgrid.core.errors import ServiceError
from civicgrid.events import selectors, services, workflow
from civicgrid.geo import selectors as geo
from civicgrid.web import forms

GRID_ROLES = {"grid_worker", "volunteer"}


def grid_staff(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_superuser or GRID_ROLES & set(request.user.roles)):
            raise PermissionDenied(_("此页面供网格员和平安员使用"))
        return view(request, *args, **kwargs)

    return wrapper


def _my_grids(user) -> list:
    """The grids of the user's jurisdiction (a grid worker patrols one or a few)."""
    j = user.jurisdiction
    if j is None:
        return []
    if j.level == "grid":
        return [j]
    if j.level == "community":
        return list(geo.regions(parent=j.code, level="grid"))
    return []


def _context(request, form) -> dict:
    user = request.user
    tasks = selectors.grid_tasks(user).select_related("department").order_by("-created_at")[:50]
    return {
        "form": form,
        "tasks": tasks,
        "labels": workflow.STATUS_LABELS,
        "grids": _my_grids(user),
        "leaves": forms.leaf_choices(),
        "on_spot_leaves": {c for c, _name in forms.leaf_choices(on_spot_only=True)},
    }


@grid_staff
def home(request):
    if request.method != "POST":
        form = forms.GridReportForm(initial={"ticket": forms.new_ticket()})
        return render(request, "web/grid/home.html", _context(request, form))
    form = forms.GridReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "web/grid/home.html", _context(request, form), status=422)
    d = form.cleaned_data
    ref = forms.ticket_ref(d["ticket"])
    if ref is None:
        form.add_error(None, _("表单已过期，请重新填写提交。"))
        return render(request, "web/grid/home.html", _context(request, form), status=422)
    lon, lat = form.location()
    data = services.Intake(
        channel="grid",
        source_ref=f"grid-{ref}",
        description=d["description"],
        category=forms.category_code(d["category"]),
        lon=lon,
        lat=lat,
        address=d["address"],
        photos=d["photos"],
        on_spot=d["on_spot"],
    )
    try:
        event, _created = services.submit(request.user, data)
    except ServiceError as exc:
        from civicgrid.web.views import _field_errors

        _field_errors(form, exc)
        return render(request, "web/grid/home.html", _context(request, form), status=exc.status)
    messages.success(
        request,
        _("已上报 %(number)s：%(status)s")
        % {"number": event.number, "status": workflow.status_label(event.status)},
    )
    return redirect("web:grid")
