from django.db import models

from .models import AuditEvent
from .services import object_type_of


def audit_trail_for(obj: models.Model):
    """The trail of one record, newest first. Callers check that the viewer may see ``obj``."""
    return AuditEvent.objects.filter(object_type=object_type_of(obj), object_id=str(obj.pk)).select_related(
        "actor"
    )


def audit_events_by(actor, *, action_prefix: str = ""):
    """What one account did, newest first (e.g. every ``person.reveal`` by a grid worker)."""
    qs = AuditEvent.objects.filter(actor=actor)
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    return qs


def audit_log(*, action: str = "", object_type: str = "", actor_username: str = ""):
    """The whole trail, newest first, for the administrators' log page."""
    qs = AuditEvent.objects.select_related("actor")
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor_username:
        qs = qs.filter(actor__username=actor_username)
    return qs
