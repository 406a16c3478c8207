"""Households and persons follow a moved area (``places.signals.area_moved``)."""

from linli.core.places.services import moved_path

from .models import Household, Person


def follow_area_move(sender, *, area, old_path: str, new_path: str, **kwargs) -> None:
    """Rewrite the copied paths under the moved area, so that staff of its new parent see these
    households and persons and staff of the old one no longer do. Inside the import's transaction."""
    for model in (Household, Person):
        model.objects.filter(path__startswith=old_path).update(path=moved_path(old_path, new_path))
