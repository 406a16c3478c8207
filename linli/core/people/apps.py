from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "linli.core.people"
    label = "people"

    def ready(self):
        from linli.core.audit.registry import register

        from .permissions import access_household_by_id, access_person_by_id

        register("people.person", access_person_by_id)
        register("people.household", access_household_by_id)
