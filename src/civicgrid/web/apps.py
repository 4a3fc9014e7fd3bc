from django.apps import AppConfig


class WebConfig(AppConfig):
    """Shared page pieces: base template, static assets, the landing and region pages."""

    name = "civicgrid.web"
    verbose_name = "页面"
