"""A per-process copy of the shared token cache that Redis itself keeps honest.

Every API call starts by finding its token. The shared (Redis) cache spares the database,
but still costs a round trip and an unpickle per request. This keeps the token rows a
process has seen in memory, and subscribes — on one connection of its own, with Redis's
server-assisted client-side caching (``CLIENT TRACKING … BCAST PREFIX``) — to every change of
a token key by anyone: the deletes that revoking a token or changing its user already do
(``revoke_token``, ``forget_permissions``), a refresh, an expiry, a flush.

Why revocation stays prompt: Redis writes the invalidation to this connection before it
answers the client that deleted the key, and every lookup first reads what has arrived on
the connection (a non-blocking poll, no round trip). So a request that starts after a
revocation returned never sees the revoked token, in any process on any host sharing the
Redis. If the connection breaks, the copy is dropped and lookups go to Redis again until a
new connection is tracking. An entry also never outlives ``TOKEN_CACHE_SECONDS``.

Only used with a Redis cache (otherwise there is no shared cache to follow).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches

log = logging.getLogger(__name__)


RETRY_SECONDS = 30  # after a failed tracking connection, ask the shared cache until then


class _Tracker:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[object, float]] = {}
        self.generation = 0  # bumped by every invalidation: a fill read before it is stale
        self.conn = None
        self.retry_at = 0.0

    # -- the tracking connection (callers hold the lock) --

    def _invalidated(self, push) -> None:
        keys = push[1] if len(push) > 1 else None
        self.generation += 1
        if keys is None:  # FLUSHDB / FLUSHALL
            self.entries.clear()
            return
        for key in keys:
            self.entries.pop(key.decode() if isinstance(key, bytes) else key, None)

    def _connect(self) -> bool:
        import redis

        if time.monotonic() < self.retry_at:
            return False
        try:
            pool = redis.ConnectionPool.from_url(self.url, protocol=3)
            conn = pool.make_connection()
            conn.connect()
            conn.send_command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix)
            conn.read_response()
            conn._parser.set_invalidation_push_handler(self._invalidated)
        except Exception:  # e.g. a Redis without CLIENT TRACKING (before 6.0)
            log.warning("token cache: no tracking connection, using the shared cache only")
            self.retry_at = time.monotonic() + RETRY_SECONDS
            return False
        self.conn = conn
        self.entries.clear()  # nothing seen before tracking started can be trusted
        self.generation += 1
        return True

    def _drain(self) -> bool:
        """Apply every invalidation that has arrived; False if the copy cannot be trusted."""
        if self.conn is None and not self._connect():
            return False
        try:
            while self.conn.can_read(timeout=0):
                self.conn.read_response(push_request=True, timeout=0, disconnect_on_error=True)
        except Exception:
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        self.entries.clear()
        self.generation += 1
        if self.conn is not None:
            with contextlib.suppress(Exception):  # it is broken already
                self.conn.disconnect()
        self.conn = None

    # -- lookups --

    def get(self, key: str):
        """(row or None, generation) — the generation to hand back to ``put``."""
        with self.lock:
            if not self._drain():
                return None, None
            hit = self.entries.get(key)
            if hit is not None and hit[1] <= time.monotonic():
                del self.entries[key]
                hit = None
            return (hit[0] if hit else None), self.generation

    def put(self, key: str, row, generation: int | None, seconds: float) -> None:
        """Keep ``row`` unless a change was seen since ``get`` handed out ``generation``."""
        if generation is None:
            return
        with self.lock:
            if self._drain() and generation == self.generation:
                self.entries[key] = (row, time.monotonic() + seconds)


_tracker: _Tracker | None = None
_tracker_lock = threading.Lock()


def tracker() -> _Tracker | None:
    """This process's tracker for the configured Redis cache, or None without one."""
    global _tracker
    from django.core.cache.backends.redis import RedisCache

    shared = caches["default"]
    if not settings.TOKEN_CACHE_SECONDS or not isinstance(shared, RedisCache):
        return None
    location = shared._servers[0]
    current = _tracker
    if current is not None and current.pid == os.getpid() and current.url == location:
        return current
    with _tracker_lock:
        current = _tracker
        if current is None or current.pid != os.getpid() or current.url != location:
            from civicgrid.accounts.services import token_cache_key

            current = _tracker = _Tracker(location, cache.make_key(token_cache_key("")))
    return current


def fresh(token):
    """A request's own copy of a cached token and its user: handlers may set attributes on
    ``request.user`` (a permission set, say) that must not leak into other requests."""
    token = copy.copy(token)
    token.user = copy.copy(token.user)
    return token
