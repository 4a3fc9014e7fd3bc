"""Authentication backend that refuses locked-out logins and counts failures."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from civicgrid.accounts import throttle


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username", "")
        address = throttle.client_address(request)
        if username and throttle.is_locked(username, address):
            raise PermissionDenied("登录失败次数过多，请稍后再试")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username:
            throttle.register_failure(username, address)
        elif user is not None:
            throttle.reset(username)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The user's permission set, cached for a minute across requests: every API call
        checks a permission, and the set changes only when roles or the user change (which
        clear it, see ``forget_permissions``)."""
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            key = _perm_key(user_obj.pk)
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, perms, PERMISSION_CACHE_SECONDS)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


PERMISSION_CACHE_SECONDS = 60


def _perm_key(user_id: int) -> str:
    generation = cache.get_or_set("perms:generation", 1, None)
    return f"perms:{generation}:{user_id}"


def forget_permissions(user_id: int | None = None) -> None:
    """Drop cached permission sets: one user's, or everyone's (roles changed) — now, and again
    once the change commits, so a lookup made meanwhile cannot cache the old state."""
    from django.db import transaction

    _forget(user_id)
    transaction.on_commit(lambda: _forget(user_id))


def _forget(user_id: int | None) -> None:
    if user_id is None:
        try:
            cache.incr("perms:generation")
        except ValueError:
            cache.set("perms:generation", 2, None)
    else:
        cache.delete(_perm_key(user_id))
        # the user's tokens carry a copy of the user: drop them too
        from civicgrid.accounts.models import ApiToken
        from civicgrid.accounts.services import token_cache_key

        digests = ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True)
        cache.delete_many([token_cache_key(d) for d in digests])
