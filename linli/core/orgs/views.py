from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from . import selectors
from .choices import OrgKind
from .jurisdiction import is_staff_member
from .permissions import access_organisation_by_id


@login_required
def organisation_list(request):
    if not is_staff_member(request.user):
        raise PermissionDenied
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()
    page = Paginator(
        selectors.organisation_list(kind=kind if kind in OrgKind.values else "", q=q), 50
    ).get_page(request.GET.get("page"))
    return render(
        request, "orgs/organisation_list.html", {"page": page, "kinds": OrgKind.choices, "kind": kind, "q": q}
    )


@login_required
def organisation_detail(request, organisation_id: int):
    org = access_organisation_by_id(request.user, organisation_id)
    return render(
        request,
        "orgs/organisation_detail.html",
        {
            "org": org,
            "staff": selectors.staff_of(org),
            "children": org.children.filter(is_active=True).select_related("area"),
        },
    )
