"""Which access helper guards the trail of each kind of record.

Each app registers ``object_type`` (``app_label.model``, as ``services.object_type_of`` writes it) with
its ``access_*_by_id(user, object_id)`` helper, usually from ``AppConfig.ready``::

    from linli.core.audit.registry import register
    register("people.person", access_person_by_id)

The trail page shows a record's trail only when the helper returns the record; an unknown type or a
helper raising ``Http404`` (or ``PermissionDenied``) gives 404, so nothing leaks.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

AccessHelper = Callable[[object, object], models.Model]

_registry: dict[str, AccessHelper] = {}


def register(object_type: str, access: AccessHelper) -> None:
    _registry[object_type.lower()] = access


def registered_types() -> frozenset[str]:
    return frozenset(_registry)


def access_audited_object(user, object_type: str, object_id) -> models.Model:
    """The record the trail belongs to, if ``user`` may see it; else ``Http404``."""
    access = _registry.get(object_type.lower())
    if access is None:
        raise Http404
    try:
        return access(user, object_id)
    except PermissionDenied:
        raise Http404 from None
