from django.db import models

from .models import AuditEvent
from .services import object_type_of


def audit_trail_for(obj: models.Model):
    """The trail of one record, newest first. Callers check that the viewer may see ``obj``."""
    return AuditEvent.objects.filter(object_type=object_type_of(obj), object_id=str(obj.pk)).select_related(
        "actor"
    )
