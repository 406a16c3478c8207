from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "linli.faces.web"
    label = "web"
