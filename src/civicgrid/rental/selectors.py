"""Reads of rental houses, always through the caller's jurisdiction (DESIGN §12); the public
scan page reads only what a door plate shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from civicgrid.accounts.scoping import scope_by_grid
from civicgrid.core.errors import NotFound
from civicgrid.core.memo import StampedMemo
from civicgrid.core.queries import one
from civicgrid.rental import grading
from civicgrid.rental.models import (
    GradeChange,
    InspectionTask,
    RentalProfile,
    RuleSetVersion,
    SelfRegistration,
)


def _stamp() -> tuple:
    row = (
        RuleSetVersion.objects.filter(active=True)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return (row,)


def _build() -> grading.RuleSet:
    row = RuleSetVersion.objects.filter(active=True).order_by("-version").first()
    if row is None:  # nothing loaded yet: the shipped default, as version 0
        return grading.parse(grading.shipped("default"), version=0)
    return grading.parse(row.config, version=row.version)


_rules = StampedMemo(_stamp, _build, every=2.0)


def active_rules() -> grading.RuleSet:
    """The rule set in force (cached per process, re-read within seconds of a change)."""
    return _rules.get()


def reset() -> None:
    _rules.reset()


def profiles_for(user) -> QuerySet:
    return scope_by_grid(RentalProfile.objects.all(), user)


def profile_for(user, code: str) -> RentalProfile:
    profile = one(
        profiles_for(user)
        .filter(house_code=code)
        .select_related("house__building", "landlord_person", "landlord_org")
    )
    if profile is None:
        raise NotFound(f"出租屋 {code} 不存在")
    return profile


def public_profile(code: str) -> RentalProfile | None:
    """For a verified door plate: no jurisdiction, and the page shows no personal data."""
    return one(
        RentalProfile.objects.filter(house_code=code)
        .select_related("house__building")
        .only(
            "house_code",
            "grade",
            "rules_version",
            "grid_code",
            "district_code",
            "next_due",
            "clean_streak",
            "house__room",
            "house__floor",
            "house__use",
            "house__building__address",
            "house__building__name",
            "house__building__code",
        )
    )


def indicators(profile: RentalProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in grading.INDICATORS}


def history(profile: RentalProfile, limit: int = 50) -> list[GradeChange]:
    return list(profile.changes.order_by("-at", "-id")[:limit])


def pending_declarations(profile: RentalProfile, limit: int = 50) -> list[SelfRegistration]:
    """Door-plate declarations the grid worker has still to look at: those whose residence
    awaits verification, and those that made none because the name typed is not the one
    recorded for the number (to be checked in person)."""
    return list(
        SelfRegistration.objects.filter(profile=profile)
        .filter(Q(residence=None) | Q(residence__verified=False, residence__until=None))
        .order_by("-at", "-id")[:limit]
    )


def tasks_for(user, *, overdue: bool | None = None, open_only: bool = True) -> QuerySet:
    qs = scope_by_grid(InspectionTask.objects.select_related("profile"), user)
    if open_only:
        qs = qs.filter(open=True)
    if overdue is not None:
        qs = qs.filter(overdue=overdue)
    return qs.order_by("due", "id")


def is_overdue(profile: RentalProfile, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return profile.next_due is not None and profile.next_due < today
