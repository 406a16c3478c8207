from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "linli.faces.api"
    label = "api"
