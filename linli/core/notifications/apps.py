from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "linli.core.notifications"
    label = "notifications"
