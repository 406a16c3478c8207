from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "linli.core.orgs"
    label = "orgs"

    def ready(self):
        from linli.core.audit.registry import register

        from .permissions import access_organisation_by_id

        register("orgs.organisation", access_organisation_by_id)
