"""Appeals follow a moved area (``places.signals.area_moved``)."""

from django.utils import timezone

from linli.core.places.choices import AreaKind
from linli.core.places.models import Area
from linli.core.places.services import moved_path

from .models import Appeal


def follow_area_move(sender, *, area: Area, old_path: str, new_path: str, **kwargs) -> None:
    """Rewrite the path, community and street copied onto the appeals under the moved area, so that
    the new parent's staff see them (and the old one's no longer do). ``updated_at`` moves too: the
    statistics' next incremental refresh then rewrites these appeals' facts under their new street and
    community. Inside the import's transaction."""
    now = timezone.now()
    Appeal.objects.filter(path__startswith=old_path).update(
        path=moved_path(old_path, new_path), updated_at=now
    )
    if area.kind == AreaKind.GRID:
        street_id = Area.objects.filter(pk=area.parent_id).values_list("parent_id", flat=True).first()
        Appeal.objects.filter(grid_id=area.pk).update(community_id=area.parent_id, street_id=street_id)
    elif area.kind == AreaKind.COMMUNITY:
        Appeal.objects.filter(community_id=area.pk).update(street_id=area.parent_id)
