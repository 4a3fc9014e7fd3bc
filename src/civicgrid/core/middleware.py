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
    """Refuse paths, form fields and query parameters that hold a NUL character (400, naming
    the field): PostgreSQL cannot store NUL in text, so it would otherwise fail deep in a service
    as a 500, and SQLite would keep it. The JSON API checks its bodies itself (``core.api``);
    uploaded files are not form fields and may hold any bytes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        json_api = request.path.startswith("/api/")
        # how a refusal is written: the JSON API's shape, or GeoReport's own error list in the
        # format the path asks for, or plain text
        api: bool | str = json_api
        if request.path.startswith("/open311/"):
            api = request.path
        if "\x00" in request.path:  # a path parameter (a code, a number) reaches the database
            return _refuse("path", api)
        sources = [] if json_api else [request.GET]
        if request.method == "POST" and not json_api and request.content_type in _FORM_TYPES:
            sources.append(request.POST)
        for data in sources:
            for field, values in data.lists():
                if "\x00" in field or any("\x00" in v for v in values):
                    return _refuse(field.replace("\x00", ""), api)
        return self.get_response(request)


def _refuse(field: str, api: bool | str):
    """400 naming the field: in the JSON API's shape (``api`` True), as GeoReport v2 errors in
    the path's format (``api`` an /open311/ path), or as plain text for a page."""
    from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

    message = "不能包含空字符（NUL）"
    if isinstance(api, str):
        from civicgrid.open311 import georeport as gr

        ext = api.rsplit(".", 1)[-1].replace("\x00", "") if "." in api else ""
        fmt = ext if ext in gr.FORMATS else "xml"
        problem = gr.Problem(400, f"{field}: must not contain a NUL character")
        body = gr.render(fmt, "errors", gr.errors([problem]))
        return HttpResponse(body, status=400, content_type=gr.FORMATS[fmt])
    if api:  # the API's error shape (core.api.error_body)
        body = {"detail": "输入有误", "errors": [{"field": field, "message": message}]}
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    return HttpResponseBadRequest(
        f"输入有误：{field} {message}", content_type="text/plain; charset=utf-8"
    )


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
