from django.apps import AppConfig


class Open311Config(AppConfig):
    """Open311 GeoReport v2 server: the hub's door for 311 apps and platforms (DESIGN §11)."""

    name = "civicgrid.open311"
    verbose_name = "Open311 接口"
