"""The GeoReport v2 endpoints under ``/open311/``. Thin: parse, call a selector or the
service, render as XML or JSON; every refusal is the spec's ``errors/error`` with 400, 403 or
404. POST bodies are form-encoded (``application/x-www-form-urlencoded``) and come from other
programs, so there is no CSRF cookie to check; the api_key is their credential."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from civicgrid.open311 import georeport as gr
from civicgrid.open311 import selectors, services

log = logging.getLogger(__name__)
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-26T00:00:00+08:00"
MAX = gr.MAX_REQUESTS


def _answer(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    return HttpResponse(gr.render(fmt, root, value), status=status, content_type=gr.FORMATS[fmt])


def _refuse(fmt: str, problems: list[gr.Problem]) -> HttpResponse:
    return _answer(fmt, "errors", gr.errors(problems), status=problems[0].status)


def _endpoint(methods: tuple[str, ...]) -> Callable:
    """Format check, method check, jurisdiction check and error rendering for one endpoint."""

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        def handler(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            if fmt not in gr.FORMATS:
                problem = gr.Problem(404, f"format .{fmt} is not served; use .xml or .json")
                return _refuse("xml", [problem])
            if request.method not in methods:
                allowed = ", ".join(methods)
                problem = gr.Problem(400, f"method {request.method} not allowed here ({allowed})")
                return _refuse(fmt, [problem])
            try:
                params = request.POST if request.method == "POST" else request.GET
                selectors.check_jurisdiction(params.get("jurisdiction_id"))
                return view(request, fmt, **kwargs)
            except gr.Problem as p:
                return _refuse(fmt, [p])
            except gr.Refused as r:
                return _refuse(fmt, r.problems)

        return handler

    return wrap


def _client(request: HttpRequest):
    """The client application when a GET names its api_key (to see its own 举报 reports)."""
    key = gr.optional(request.GET.get("api_key"))
    return services.client_for(key) if key else None


@_endpoint(("GET",))
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    body = {
        "changeset": CHANGESET,
        "contact": "civicgrid 城市运行管理中心（12345）",
        "key_service": "api_key 由平台管理员为每个客户端应用签发：civicgrid apikey NAME",
        "endpoints": [
            {
                "specification": SPEC,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, "discovery", body)


@_endpoint(("GET",))
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return _answer(fmt, "services", selectors.services())


@_endpoint(("GET",))
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    return _answer(fmt, "service_definition", selectors.definition(code))


@_endpoint(("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        key = request.POST.get("api_key") or request.GET.get("api_key")
        client = services.client_for(key)
        number, created = services.post_request(client, request.POST, request.FILES)
        answer = {
            "service_request_id": number,
            "service_notice": selectors.service_notice(created.event.category_id),
            "account_id": created.account_id or None,
        }
        return _answer(fmt, "service_requests", [answer])
    q = request.GET
    zone = timezone.get_current_timezone()
    start = gr.optional(q.get("start_date"))
    end = gr.optional(q.get("end_date"))
    rows = selectors.find_requests(
        client=_client(request),
        ids=gr.comma_list(q.get("service_request_id")),
        codes=gr.comma_list(q.get("service_code")),
        statuses=[s.lower() for s in gr.comma_list(q.get("status"))],
        start=gr.parse_datetime("start_date", start, zone) if start else None,
        end=gr.parse_datetime("end_date", end, zone) if end else None,
        page=gr.positive_int("page", q.get("page"), 1, 10**6),
        page_size=gr.positive_int("page_size", q.get("page_size"), MAX, MAX),
        extensions=(q.get("extensions") or "").lower() == "true",
    )
    return _answer(fmt, "service_requests", rows)


@_endpoint(("GET",))
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    extensions = (request.GET.get("extensions") or "").lower() == "true"
    body = selectors.find_request(number, client=_client(request), extensions=extensions)
    return _answer(fmt, "service_requests", [body])


@_endpoint(("GET",))
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    return _answer(fmt, "service_requests", [selectors.from_token(token, client=_client(request))])
