from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "linli.core.orgs"
    label = "orgs"
