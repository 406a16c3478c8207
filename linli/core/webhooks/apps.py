from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "linli.core.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
