"""Errors that services raise and every interface (API, pages, CLI) renders the same way."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class ServiceError(Exception):
    """A refused business action: ``detail`` for people, ``errors`` per field, an HTTP status."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 422
    extra: dict = field(default_factory=dict)  # more top-level keys for the error body

    def __str__(self) -> str:
        parts = [self.detail] + [f"{e.field}: {e.message}" for e in self.errors]
        return "；".join(parts)


class NotFound(ServiceError):
    def __init__(self, detail: str = "未找到"):
        super().__init__(detail, [], 404)


class Conflict(ServiceError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extra):
        super().__init__(detail, errors or [], 409, extra)
