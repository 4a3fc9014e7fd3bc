"""The JSON API at ``/api/v1/`` (DESIGN §11): one NinjaAPI, the apps' routers, one error shape.

Every error is ``{"detail": …, "errors": [{"field": …, "message": …}]}`` with a 4xx status, so a
client can show the message next to the field it concerns.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from civicgrid.core.errors import FieldError, ServiceError


class _Utf8Renderer(JSONRenderer):
    """Chinese text as itself, not \\u escapes: readable in logs, curl and smaller on the wire."""

    json_dumps_params = {"ensure_ascii": False}


def _nul_at(value: Any, path: str = "") -> str | None:
    """The field (dotted path) of the first text holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if (found := _nul_at(item, f"{path}.{key}" if path else str(key))) is not None:
                return found
    return None


class _Parser(Parser):
    """JSON bodies and query strings without NUL: PostgreSQL cannot store it in text (nor take
    it as a parameter), so it is refused here, by field, on either database."""

    @staticmethod
    def _check(data: Any) -> Any:
        if (field := _nul_at(data)) is not None:
            raise ServiceError("输入有误", [FieldError(field or "body", "不能包含空字符（NUL）")])
        return data

    def parse_body(self, request: HttpRequest) -> Any:
        return self._check(super().parse_body(request))

    def parse_querydict(self, data, list_fields, request) -> Any:
        return self._check(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    renderer=_Utf8Renderer(),
    parser=_Parser(),
    title="civicgrid API",
    version="1",
    description="深圳市社会治理平台 civicgrid 的 JSON 接口（多网合一、一网统管）。",
    urls_namespace="api",
)

# Pydantic's error types, said in words an operator understands.
_MESSAGES: dict[str, str] = {
    "missing": gettext_noop("必填"),
    "float_parsing": gettext_noop("必须是数字"),
    "float_type": gettext_noop("必须是数字"),
    "int_parsing": gettext_noop("必须是整数"),
    "int_type": gettext_noop("必须是整数"),
    "finite_number": gettext_noop("必须是有限的数字"),
    "bool_parsing": gettext_noop("必须是 true 或 false"),
    "string_type": gettext_noop("必须是文本"),
    "string_too_short": gettext_noop("过短"),
    "string_too_long": gettext_noop("过长"),
    "greater_than_equal": gettext_noop("过小"),
    "less_than_equal": gettext_noop("过大"),
    "greater_than": gettext_noop("过小"),
    "less_than": gettext_noop("过大"),
    "literal_error": gettext_noop("取值无效"),
    "enum": gettext_noop("取值无效"),
    "date_from_datetime_parsing": gettext_noop("日期格式无效（应为 YYYY-MM-DD）"),
    "date_parsing": gettext_noop("日期格式无效（应为 YYYY-MM-DD）"),
    "datetime_parsing": gettext_noop("时间格式无效（应为 ISO 8601）"),
    "json_invalid": gettext_noop("JSON 格式无效"),
}
_LOCATIONS = {"query", "body", "path", "form", "header", "cookie", "file", "payload"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if str(p) not in _LOCATIONS]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    base = _MESSAGES.get(kind)
    if base is None:
        return str(err.get("msg", kind))
    ctx = err.get("ctx") or {}
    for key in ("max_length", "min_length", "ge", "le", "gt", "lt", "expected"):
        if key in ctx:
            return f"{_(base)}（{key}={ctx[key]}）"
    return _(base)


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field_name(e.get("loc", ())), "message": _message(e)} for e in exc.errors]
    return api.create_response(request, error_body(_("输入有误"), errors), status=422)


@api.exception_handler(ServiceError)
def _service(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    body = error_body(exc.detail, errors) | exc.extra
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error_body(_("需要登录或有效的 API 令牌")), status=401)


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ServiceError):  # the parser's refusal, which Ninja wraps
        return _service(request, exc.__cause__)
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body(str(exc) or _("未找到")), status=404)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request,
        error_body(_("请求内容过大"), [{"field": "body", "message": _("过大")}]),
        status=413,
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, error_body(str(exc) or _("无权执行此操作")), status=403)


def _mount_routers() -> None:
    from civicgrid.accounts.api import router as accounts_router
    from civicgrid.analytics.api import router as analytics_router
    from civicgrid.audit.api import router as audit_router
    from civicgrid.events.api import router as events_router
    from civicgrid.geo.api import router as geo_router
    from civicgrid.registry.api import router as registry_router
    from civicgrid.rental.api import router as rental_router
    from civicgrid.triage.api import router as triage_router

    api.add_router("/", geo_router)
    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/", events_router)
    api.add_router("/", rental_router)
    api.add_router("/audit", audit_router)
    api.add_router("/triage", triage_router)
    api.add_router("/", analytics_router)

    from django.conf import settings

    if settings.BENCH_ENDPOINTS:
        from civicgrid.bench.api import router as bench_router

        api.add_router("/bench", bench_router)


_mount_routers()
