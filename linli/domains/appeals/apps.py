from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "linli.domains.appeals"
    label = "appeals"

    def ready(self):
        from linli.core.places.signals import area_moved

        from .receivers import follow_area_move

        area_moved.connect(follow_area_move, dispatch_uid="appeals-follow-area-move")
