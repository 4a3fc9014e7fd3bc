from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "civicgrid.audit"
    verbose_name = "审计"
