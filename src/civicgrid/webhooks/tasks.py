"""Webhook sending on Celery workers (production); the embedded mode's scheduler thread calls
the same service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="webhooks.deliver", acks_late=True)
def deliver() -> dict:
    from civicgrid.webhooks import services

    return vars(services.deliver_due())
