"""Who may look at organisations and their staff: staff members only (any role but volunteer)."""

from __future__ import annotations

from django.http import Http404

from .jurisdiction import is_staff_member
from .models import Organisation


def organisations_visible_to(user):
    if not is_staff_member(user):
        return Organisation.objects.none()
    return Organisation.objects.all()


def access_organisation_by_id(user, organisation_id) -> Organisation:
    try:
        return organisations_visible_to(user).get(pk=int(organisation_id))
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
