"""Login forms that say plainly when an account is locked out."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from civicgrid.accounts import throttle

LOCKED = "登录失败次数过多，账号已暂时锁定，请 15 分钟后再试。"


class _ThrottleMixin:
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and throttle.is_locked(username, throttle.client_address(self.request)):
            raise forms.ValidationError(LOCKED, code="locked")
        return super().clean()


class ThrottledLoginForm(_ThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminLoginForm(_ThrottleMixin, AdminAuthenticationForm):
    pass
