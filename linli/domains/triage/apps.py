from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "linli.domains.triage"
    label = "triage"
