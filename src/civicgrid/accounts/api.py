"""Accounts API: who am I, users and departments of my jurisdiction."""

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from ninja.pagination import paginate

from civicgrid.accounts import selectors
from civicgrid.accounts.auth import staff_auth
from civicgrid.core.paging import Paged

router = Router(tags=["accounts"], auth=staff_auth)


class RegionRef(Schema):
    code: str
    name: str
    level: str


class DepartmentOut(Schema):
    code: str
    name: str
    kind: str
    sector: str
    region: RegionRef
    active: bool


class UserOut(Schema):
    username: str
    full_name: str
    roles: list[str]
    jurisdiction: RegionRef | None
    department: str | None

    @staticmethod
    def resolve_department(obj) -> str | None:
        return obj.department.code if obj.department_id else None


@router.get("/me", response=UserOut, summary="当前用户")
def me(request):
    return request.auth


@router.get("/users", response=list[UserOut], summary="本辖区用户")
@paginate(Paged)
def list_users(request, role: str | None = None):
    if not request.auth.has_perm("accounts.view_user"):
        raise PermissionDenied("无权查看用户列表")
    return selectors.users_for(request.auth, role=role).prefetch_related("groups")


@router.get("/users/{username}", response=UserOut, summary="用户详情")
def get_user(request, username: str):
    if request.auth.username != username and not request.auth.has_perm("accounts.view_user"):
        raise PermissionDenied("无权查看用户")
    return selectors.user_for(request.auth, username)


@router.get("/departments", response=list[DepartmentOut], summary="机构（本辖区及上级）")
@paginate(Paged)
def list_departments(
    request, kind: str | None = None, sector: str | None = None, region: str | None = None
):
    return selectors.departments_for(request.auth, kind=kind, sector=sector, region=region)


@router.get("/departments/{code}", response=DepartmentOut, summary="机构详情")
def get_department(request, code: str):
    return selectors.department_for(request.auth, code)
