from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "linli.core.people"
    label = "people"

    def ready(self):
        from linli.core.audit.registry import register
        from linli.core.places.signals import area_moved

        from .permissions import access_household_by_id, access_person_by_id
        from .receivers import follow_area_move

        register("people.person", access_person_by_id)
        register("people.household", access_household_by_id)
        area_moved.connect(follow_area_move, dispatch_uid="people-follow-area-move")
