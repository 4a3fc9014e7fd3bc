"""Background work of the event hub. In the embedded mode Celery runs these inline; with
``CIVICGRID_BROKER_URL`` set, ``civicgrid worker`` runs them and ``civicgrid beat`` schedules
the periodic ones. Every task is idempotent: the outbox row and the ``supervision`` field say
what is already done, so a redelivered message changes nothing twice."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="events.process_intake", acks_late=True, max_retries=5, bind=True)
def process_intake(self, event_id: int) -> str:
    from django.db import OperationalError

    from civicgrid.events import services

    try:
        return services.process(event_id)
    except OperationalError as exc:  # a lock timeout or a dropped connection: try again
        raise self.retry(exc=exc, countdown=2) from exc


@shared_task(name="events.sweep", acks_late=True)
def sweep() -> dict:
    from civicgrid.events import services

    return vars(services.sweep())


@shared_task(name="events.drain_outbox", acks_late=True)
def drain_outbox() -> int:
    from civicgrid.events import services

    return services.drain_outbox()


@worker_ready.connect
def _drain_on_start(**_: object) -> None:
    """A worker that starts after a crash picks up what the dead one left undone."""
    from civicgrid.events import services

    services.drain_outbox(older_than_seconds=0)
