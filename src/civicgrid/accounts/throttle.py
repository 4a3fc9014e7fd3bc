"""Login throttling: after too many failures for one account or one address, refuse for a while.

Counts live in the cache (Redis in production, shared by every process; per process in the
embedded mode), so a burst of guesses is stopped without a database write per attempt.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, address: str | None) -> list[str]:
    keys = ["login-fail:u:" + hashlib.sha256(username.lower().encode()).hexdigest()[:32]]
    if address:
        keys.append("login-fail:a:" + address)
    return keys


def is_locked(username: str, address: str | None) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    counts = cache.get_many(_keys(username, address))
    # an address gets more room than an account: offices share one outgoing address
    return any(
        count >= (limit if key.startswith("login-fail:u:") else limit * 4)
        for key, count in counts.items()
    )


def register_failure(username: str, address: str | None) -> None:
    for key in _keys(username, address):
        if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)


def reset(username: str) -> None:
    cache.delete(_keys(username, None)[0])


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None
