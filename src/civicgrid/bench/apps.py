from django.apps import AppConfig


class BenchConfig(AppConfig):
    """``civicgrid bench NAME``: throughput against the physical limit, measured in one run."""

    name = "civicgrid.bench"
    verbose_name = "基准测试"
