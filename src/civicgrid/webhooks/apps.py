from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhooks: signed notices of event status changes to other systems."""

    name = "civicgrid.webhooks"
    verbose_name = "Webhook 推送"
