"""Who is acting and under which request id, for the audit trail.

Services receive the actor explicitly; the request id travels in a context variable so that
every audit record written while serving one request (or running one command) shares it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("civicgrid_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request or command being served; a fresh one outside any."""
    rid = _request_id.get()
    if rid is None:
        rid = new_request_id()
        _request_id.set(rid)
    return rid


@contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    rid = request_id or new_request_id()
    token = _request_id.set(rid)
    try:
        yield rid
    finally:
        _request_id.reset(token)
