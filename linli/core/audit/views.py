from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from linli.core.orgs.choices import Role
from linli.core.orgs.jurisdiction import jurisdiction_of

from .registry import access_audited_object
from .selectors import audit_log, audit_trail_for


def change_rows(changes: dict) -> list[tuple[str, str]]:
    """``{field: [old, new]}`` as ``[(field, "old → new")]``; other values shown as they are."""
    rows = []
    for key, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            old, new = ("∅" if v in (None, "") else v for v in value)
            rows.append((key, f"{old} → {new}"))
        else:
            rows.append((key, str(value)))
    return rows


@login_required
def trail(request, object_type: str, object_id: str):
    obj = access_audited_object(request.user, object_type, object_id)
    page = Paginator(audit_trail_for(obj), 100).get_page(request.GET.get("page"))
    for event in page:
        event.change_rows = change_rows(event.changes)
    back_url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
    return render(request, "audit/trail.html", {"obj": obj, "page": page, "back_url": back_url})


@login_required
def log(request):
    """Every audit event, filterable; administrators only (the trail of one record is ``trail``)."""
    if not jurisdiction_of(request.user).has_role(Role.ADMIN):
        raise PermissionDenied
    filters = {
        "action": request.GET.get("action", "").strip()[:64],
        "object_type": request.GET.get("object_type", "").strip()[:64],
        "actor_username": request.GET.get("actor", "").strip()[:150],
    }
    page = Paginator(audit_log(**filters), 100).get_page(request.GET.get("page"))
    for event in page:
        event.change_rows = change_rows(event.changes)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request, "audit/log.html", {"page": page, "filters": filters, "querystring": params.urlencode()}
    )
