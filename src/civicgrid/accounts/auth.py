"""API authentication: bearer tokens, or the browser session (with CSRF) for the pages."""

from __future__ import annotations

from ninja.security import HttpBearer, django_auth

from civicgrid.accounts import services


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = services.user_for_token(token)
        if user is not None:
            request.user = user
        return user


staff_auth = [TokenAuth(), django_auth]
