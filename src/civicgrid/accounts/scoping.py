"""Jurisdiction scoping: the one helper every selector uses (DESIGN §12).

A staff user sees the subtree of their jurisdiction. Objects are scoped through a
region path (``440300.440306.440306017…``), either stored on the object or reached through a
foreign key to a Region.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

CITY_LEVEL = "city"


def sees_everything(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    j = user.jurisdiction
    return j is not None and j.level == CITY_LEVEL


def _path_q(field: str, path: str) -> Q:
    return Q(**{field: path}) | Q(**{f"{field}__startswith": path + "."})


def scope_by_path(qs: QuerySet, user, field: str) -> QuerySet:
    """Keep rows whose ``field`` (a region path) lies in the user's jurisdiction."""
    if sees_everything(user):
        return qs
    if user is None or not user.is_authenticated or user.jurisdiction_id is None:
        return qs.none()
    return qs.filter(_path_q(field, user.jurisdiction.path))


def scope_by_region(qs: QuerySet, user, region_field: str = "region") -> QuerySet:
    """Keep rows whose foreign key ``region_field`` points inside the user's jurisdiction."""
    return scope_by_path(qs, user, f"{region_field}__path")


def contains(user, path: str) -> bool:
    """Whether a node with this path lies in the user's jurisdiction."""
    if sees_everything(user):
        return True
    if user is None or not user.is_authenticated or user.jurisdiction_id is None:
        return False
    mine = user.jurisdiction.path
    return path == mine or path.startswith(mine + ".")


def ancestor_paths(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def scope_by_grid(
    qs: QuerySet, user, district_field: str = "district_code", grid_field: str = "grid_code"
) -> QuerySet:
    """Scope registry rows by their governance district and current grid code.

    A district is an equality on the district column (大鹏新区's streets carry 440307 codes
    but district 440399); a street or community adds a range on the grid code, since grid
    codes begin with their community's and street's codes. Equality plus range is what one
    composite (district, grid) index serves, on every database and collation.
    """
    if sees_everything(user):
        return qs
    if user is None or not user.is_authenticated or user.jurisdiction_id is None:
        return qs.none()
    j = user.jurisdiction
    qs = qs.filter(**{district_field: j.district_code or j.code})
    if j.level == "district":
        return qs
    upper = str(int(j.code) + 1).zfill(len(j.code))
    return qs.filter(**{f"{grid_field}__gte": j.code, f"{grid_field}__lt": upper})
