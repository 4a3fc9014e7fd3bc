"""Background work of the event hub. In the embedded mode the intake does its post-intake
work inline and the server's scheduler thread runs the periodic jobs; with
``CIVICGRID_BROKER_URL`` set, ``civicgrid worker`` runs these tasks and ``civicgrid beat``
schedules them. Every task is idempotent: the outbox row and the ``supervision`` field say
what is already done, so a redelivered message changes nothing twice."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

RELAY_BATCH = 500


@shared_task(name="events.relay_outbox", acks_late=True, bind=True, max_retries=None)
def relay_outbox(self) -> int:
    """Post-intake work (duplicates, category, routing, dispatch) for waiting events; asks
    for another round at once while a full batch came back, so a burst drains quickly."""
    from django.db import OperationalError

    from civicgrid.events import services

    try:
        done = services.relay(RELAY_BATCH)
    except OperationalError as exc:  # a lock timeout or a dropped connection: try again
        raise self.retry(exc=exc, countdown=2) from exc
    if done >= RELAY_BATCH:
        relay_outbox.delay()
    return done


@shared_task(name="events.sweep", acks_late=True)
def sweep() -> dict:
    from civicgrid.events import services

    return vars(services.sweep())


@worker_ready.connect
def _relay_on_start(**_: object) -> None:
    """A worker that starts after a crash picks up what the dead one left undone."""
    relay_outbox.delay()
