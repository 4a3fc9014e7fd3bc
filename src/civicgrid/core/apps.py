from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide plumbing: request context, API conventions, the top-level commands."""

    name = "civicgrid.core"
    verbose_name = "平台"
