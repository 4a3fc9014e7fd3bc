from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """KPIs (DESIGN §10), the leaders' dashboard, department evaluation (考评), reports."""

    name = "civicgrid.analytics"
    verbose_name = "统计分析"
