"""A value a process builds from tables and keeps until they change: the work calendar, the
catalogue. Whether they changed is a cheap "stamp" query (counts, latest update), asked at
most every few seconds, so every server process sees an edit within seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class StampedMemo(Generic[T]):
    def __init__(self, stamp: Callable[[], tuple], build: Callable[[], T], every: float = 2.0):
        self._stamp_of = stamp
        self._build = build
        self.every = every
        self._lock = threading.Lock()
        self._cached: tuple[tuple, T] | None = None
        self._checked = 0.0

    def get(self) -> T:
        if self._cached is not None and time.monotonic() - self._checked < self.every:
            return self._cached[1]
        with self._lock:
            stamp = self._stamp_of()
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, self._build())
            self._checked = time.monotonic()
            return self._cached[1]

    def reset(self) -> None:
        with self._lock:
            self._cached = None
