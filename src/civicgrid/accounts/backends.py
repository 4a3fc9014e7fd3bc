"""Authentication backend that refuses locked-out logins and counts failures."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
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
