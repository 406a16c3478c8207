"""Record lookups for API callers. People go through the appeals access helpers exactly as on the
web pages; a partner key sees only the cases it filed, or those handed down under its source."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from linli.core.apikeys.models import ApiKey, Scope
from linli.domains.appeals.models import Appeal
from linli.domains.appeals.permissions import access_appeal_by_id, appeals_visible_to

from .auth import partner_key


def partner_appeals(key: ApiKey) -> QuerySet[Appeal]:
    if not key.has_scope(Scope.APPEALS_READ) and not key.has_scope(Scope.HANDDOWN):
        return Appeal.objects.none()
    condition = Q(submitted_by=key.account_id)
    if key.source and key.has_scope(Scope.HANDDOWN):
        condition |= Q(external_source=key.source)
    return Appeal.objects.filter(condition)


def visible_appeals(request) -> QuerySet[Appeal]:
    key = partner_key(request)
    qs = partner_appeals(key) if key is not None else appeals_visible_to(request.user)
    return qs.select_related("category", "street", "community", "lead_unit")


def access_appeal(request, appeal_id: int) -> Appeal:
    """The appeal, or 404 when it does not exist or the caller may not read it."""
    if not 0 < appeal_id < 2**53:
        raise Http404("appeal")
    key = partner_key(request)
    if key is None:
        return access_appeal_by_id(request.user, appeal_id)
    appeal = (
        partner_appeals(key)
        .filter(pk=appeal_id)
        .select_related("category", "street", "community", "lead_unit")
        .first()
    )
    if appeal is None:
        raise Http404("appeal")
    return appeal
