"""Background work of the rental app: plate sheets, and the daily inspection schedule (run
by ``civicgrid beat`` in production and by the server's scheduler thread when embedded)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="rental.make_sheet", acks_late=True)
def make_sheet(sheet_id: int) -> int:
    from civicgrid.rental import plates

    return plates.make_sheet(sheet_id).plates


@shared_task(name="rental.schedule", acks_late=True)
def schedule() -> dict:
    from civicgrid.rental import services

    return services.schedule()
