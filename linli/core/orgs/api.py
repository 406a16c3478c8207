from django.db.models import QuerySet
from ninja import Router
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import django_auth

from .choices import OrgKind
from .jurisdiction import is_staff_member
from .permissions import organisations_visible_to
from .schemas import OrganisationOut

router = Router(tags=["orgs"], auth=django_auth)


@router.get("/organisations", response=list[OrganisationOut])
@paginate(PageNumberPagination)
def organisations(request, kind: str = "") -> QuerySet:
    if not is_staff_member(request.user):
        raise HttpError(403, "仅限工作人员 / staff only")
    qs = organisations_visible_to(request.user).select_related("area")
    if kind in OrgKind.values:
        qs = qs.filter(kind=kind)
    return qs
