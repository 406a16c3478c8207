from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "linli.core.people"
    label = "people"
