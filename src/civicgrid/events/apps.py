from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The event hub (一网统管): catalogue, intake, workflow, dispatch, supervision."""

    name = "civicgrid.events"
    verbose_name = "事件中心"

    def ready(self) -> None:
        # The project's Celery app must be the current one before any task is sent, so that
        # the embedded mode (no broker: tasks run inline) applies in every process.
        import civicgrid.celery  # noqa: F401
