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
