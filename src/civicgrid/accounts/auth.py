"""API authentication: bearer tokens, or the browser session (with CSRF) for the pages; the
one staff check for pages and API handlers that citizens may not use."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, django_auth

from civicgrid.accounts import services
from civicgrid.accounts.roles import is_staff
from civicgrid.core.errors import ServiceError


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


staff_auth = [TokenAuth(), django_auth]


def require_staff(user) -> None:
    """For API handlers: a citizen account gets 403."""
    if not is_staff(user):
        raise ServiceError("仅供工作人员使用", [], 403)


def staff_required(view):
    """For pages: logged in, and holding a staff role (a citizen account is not enough)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff(request.user):
            raise PermissionDenied(_("仅供工作人员使用"))
        return view(request, *args, **kwargs)

    return wrapper
