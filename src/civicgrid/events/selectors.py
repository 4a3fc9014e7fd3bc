"""Reading events, always through the caller's jurisdiction (DESIGN §12): staff see their
subtree; department handlers also the events dispatched or commanded to their department;
citizens their own reports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.scoping import contains, sees_everything
from civicgrid.core.errors import NotFound
from civicgrid.core.queries import one
from civicgrid.events.models import CommandTarget, Event, Task


def _department_q(user) -> Q:
    return Q(pk__in=Task.objects.filter(department_id=user.department_id).values("event_id")) | Q(
        pk__in=CommandTarget.objects.filter(department_id=user.department_id).values(
            "command__event_id"
        )
    )


def events_for(user) -> QuerySet:
    qs = Event.objects.all()
    if user is None or not user.is_authenticated:
        return qs.none()
    if sees_everything(user):
        return qs
    roles = set(user.roles)
    q = Q(pk__in=[])
    q |= Q(reporter_id=user.pk)
    if "department" in roles and user.department_id:
        q |= _department_q(user)
    if roles - {"citizen"} and user.jurisdiction_id:
        path = user.jurisdiction.path
        q |= Q(region_path=path) | Q(region_path__startswith=path + ".")
    return qs.filter(q)


def visible(user, event: Event) -> bool:
    if user is None or isinstance(user, str):
        return True  # the system itself
    if not user.is_authenticated:
        return False
    if sees_everything(user):
        return True
    roles = set(user.roles)
    if event.reporter_id == user.pk:
        return True
    if "department" in roles and user.department_id:
        if Task.objects.filter(event=event, department_id=user.department_id).exists():
            return True
        if CommandTarget.objects.filter(
            command__event=event, department_id=user.department_id
        ).exists():
            return True
    if roles - {"citizen"}:
        return contains(user, event.region_path)
    return False


def event_for(user, number: str) -> Event:
    event = one(
        Event.objects.select_related("category", "centre", "department", "master").filter(
            number=number
        )
    )
    if event is None or not visible(user, event):
        raise NotFound(f"事件 {number} 不存在")
    return event


def timeline(event: Event, *, staff: bool) -> QuerySet:
    qs = event.timeline.select_related("department").order_by("at", "pk")
    return qs if staff else qs.filter(public=True)


# Names for references in answers, without a join per event: departments are few and their
# codes and names rarely change (a miss reloads the table).
_departments: dict[int, dict[str, str]] = {}


def department_ref(pk: int | None) -> dict[str, str] | None:
    if pk is None:
        return None
    ref = _departments.get(pk)
    if ref is None:
        from civicgrid.accounts.models import Department

        for dpk, code, name in Department.objects.values_list("pk", "code", "name"):
            _departments[dpk] = {"code": code, "name": name}
        ref = _departments.get(pk)
    return ref


def category_ref(code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    from civicgrid.events.catalogue_selectors import catalogue

    node = catalogue().nodes.get(code)
    return {"code": code, "name": node.name if node else code}


def queue(user, qs: QuerySet) -> QuerySet:
    """What waits on the user's desk: for a department, its pending or signed tasks; for a
    centre, events it must triage, dispatch or re-dispatch; for anyone else, nothing."""
    dept = user.department if user.department_id else None
    if dept is None:
        return qs.none()
    if dept.kind == "centre":
        return qs.filter(centre_id=dept.pk, status__in=["reported", "accepted", "returned"])
    active = Task.objects.filter(department_id=dept.pk, status__in=["pending", "signed"])
    return qs.filter(pk__in=active.values("event_id"))
