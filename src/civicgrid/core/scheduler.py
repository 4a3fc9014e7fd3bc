"""Periodic jobs in the embedded mode (DESIGN §2): without a broker there is no ``civicgrid
beat``, so each server process runs the same schedule in a daemon thread. The jobs are
idempotent (row locks and "done" marks), so two processes running them at once is harmless."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
_started = False
_lock = threading.Lock()


def _jobs() -> list[tuple[str, float, Callable[[], object]]]:
    from civicgrid.analytics import rollup
    from civicgrid.events import services
    from civicgrid.rental import services as rental
    from civicgrid.webhooks.services import deliver_due

    return [
        ("events.sweep", 60.0, services.sweep),
        ("events.relay_outbox", 30.0, services.relay),
        ("webhooks.deliver", 5.0, deliver_due),
        ("rental.schedule", 3600.0, rental.schedule),
        ("analytics.refresh_rollup", 30.0, rollup.refresh),
    ]


def _run(jobs, stop: threading.Event) -> None:
    from django.db import close_old_connections

    due = {name: time.monotonic() + 5 for name, _, _ in jobs}
    while not stop.is_set():
        now = time.monotonic()
        for name, every, job in jobs:
            if now >= due[name]:
                due[name] = now + every
                try:
                    job()
                except Exception:
                    log.exception("periodic job %s failed", name)
                finally:
                    close_old_connections()
        stop.wait(1.0)


def start() -> threading.Event | None:
    """Start the schedule once per process; returns the event that stops it."""
    global _started
    from django.conf import settings

    if settings.BROKER_URL:
        return None  # production: civicgrid beat schedules, workers run
    with _lock:
        if _started:
            return None
        _started = True
    stop = threading.Event()
    threading.Thread(
        target=_run, args=(_jobs(), stop), name="civicgrid-scheduler", daemon=True
    ).start()
    return stop
