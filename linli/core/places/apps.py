from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "linli.core.places"
    label = "places"
