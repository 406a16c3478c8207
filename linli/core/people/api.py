"""/api/v1/register/: the resident register, scoped exactly like the pages (404 outside scope)."""

from django.db.models import QuerySet
from ninja import Router
from ninja.pagination import PageNumberPagination, paginate
from ninja.security import django_auth

from linli.core.places.models import Area

from . import selectors
from .choices import Tag
from .permissions import access_household_by_id, access_person_by_id, households_visible_to
from .schemas import HouseholdOut, PersonOut

router = Router(tags=["register"], auth=django_auth)


@router.get("/households", response=list[HouseholdOut])
@paginate(PageNumberPagination)
def households(request, grid: int | None = None, tag: str = "", q: str = "") -> QuerySet:
    visible = households_visible_to(request.user)
    area = Area.objects.filter(pk=grid).first() if grid else None
    return selectors.household_list(visible, grid=area, tag=tag if tag in Tag.values else "", q=q)


@router.get("/households/{household_id}", response=HouseholdOut)
def household(request, household_id: int):
    access_household_by_id(request.user, household_id)
    return selectors.household_with_members(households_visible_to(request.user), household_id)


@router.get("/persons/{person_id}", response=PersonOut)
def person(request, person_id: int):
    return access_person_by_id(request.user, person_id)
