from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "linli.faces.feeds"
    label = "feeds"
    verbose_name = "Feeds and exports"
