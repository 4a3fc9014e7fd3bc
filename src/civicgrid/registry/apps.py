from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Block data (块数据): buildings, houses, persons, residences, organisations, places."""

    name = "civicgrid.registry"
    verbose_name = "基础数据"
