from django.apps import AppConfig


class TriageConfig(AppConfig):
    """Triage intelligence: the appeal classifier, category suggestions, hot issues."""

    name = "civicgrid.triage"
    verbose_name = "智能分拨"
