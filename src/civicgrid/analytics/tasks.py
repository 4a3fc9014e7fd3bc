"""Background work of analytics: monthly reports (a worker in production)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="analytics.build_report", acks_late=True)
def build_report(report_id: int) -> None:
    from civicgrid.analytics import services

    services.build_report(report_id)


@shared_task(name="analytics.refresh_rollup", acks_late=True)
def refresh_rollup() -> dict:
    """Update the KPI rollup (every 30 s), so dashboards stay within a minute of intake."""
    from civicgrid.analytics import rollup

    return rollup.refresh()
