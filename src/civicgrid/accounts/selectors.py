"""Reads of users and departments, always through the caller's jurisdiction."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.scoping import ancestor_paths, scope_by_region, sees_everything
from civicgrid.core.errors import NotFound


def users_for(viewer, *, role: str | None = None) -> QuerySet:
    """Users whose jurisdiction lies inside the viewer's."""
    qs = scope_by_region(
        User.objects.select_related("jurisdiction", "department"), viewer, "jurisdiction"
    )
    if role:
        qs = qs.filter(groups__name=role)
    return qs.order_by("username")


def user_for(viewer, username: str) -> User:
    user = users_for(viewer).filter(username=username).first()
    if user is None:  # outside the jurisdiction looks the same as absent: nothing leaks
        raise NotFound(f"用户 {username} 不存在")
    return user


def departments_for(
    viewer, *, kind: str | None = None, sector: str | None = None, region: str | None = None
) -> QuerySet:
    """Departments inside the viewer's jurisdiction, plus those of the nodes above it (the
    bodies a centre may escalate or dispatch to)."""
    qs = Department.objects.select_related("region")
    if not sees_everything(viewer):
        if viewer.jurisdiction_id is None:
            return qs.none()
        path = viewer.jurisdiction.path
        qs = qs.filter(
            Q(region__path__startswith=path + ".") | Q(region__path__in=ancestor_paths(path))
        )
    if kind:
        qs = qs.filter(kind=kind)
    if sector:
        qs = qs.filter(sector=sector)
    if region:
        qs = qs.filter(region__code=region)
    return qs.order_by("code")


def department_for(viewer, code: str) -> Department:
    dept = departments_for(viewer).filter(code=code).first()
    if dept is None:
        raise NotFound(f"机构 {code} 不存在")
    return dept
