from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "linli.core.scheduling"
    label = "scheduling"
