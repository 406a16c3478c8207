from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "linli.core.audit"
    label = "audit"
