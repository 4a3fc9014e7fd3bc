"""Give every request an id (taken from ``X-Request-ID`` when a proxy sets one) and echo it."""

from __future__ import annotations

import re

from civicgrid.core.context import request_context

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        with request_context(incoming if _VALID.match(incoming) else None) as rid:
            request.request_id = rid
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            return response


class LanguageMiddleware:
    """Chinese unless the user chose otherwise with the language switch (a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a staff member with
    an English browser would get a half-translated page they never asked for.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class NulMiddleware:
    """Refuse form fields and query parameters that hold a NUL character (400, naming the
    field): PostgreSQL cannot store NUL in text, so it would otherwise fail deep in a service
    as a 500, and SQLite would keep it. The JSON API checks its bodies itself (``core.api``);
    uploaded files are not form fields and may hold any bytes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest

        api = request.path.startswith("/api/")
        sources = [] if api else [request.GET]
        if request.method == "POST" and not api and request.content_type in _FORM_TYPES:
            sources.append(request.POST)
        for data in sources:
            for field, values in data.lists():
                if "\x00" in field or any("\x00" in v for v in values):
                    return HttpResponseBadRequest(
                        f"输入有误：{field.replace(chr(0), '')} 不能包含空字符（NUL）",
                        content_type="text/plain; charset=utf-8",
                    )
        return self.get_response(request)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
