from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "linli.domains.appeals"
    label = "appeals"
