from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The event hub (一网统管). So far: the work calendar that deadlines count on."""

    name = "civicgrid.events"
    verbose_name = "事件中心"
